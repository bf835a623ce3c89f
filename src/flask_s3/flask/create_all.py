"""``create_all``: publish an app's static assets, with 0.3.x's signature.

The app does not have to be running: the static folders and the URL paths they
are served at are read from its URL map, which exists once blueprints are
registered.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor

import attrs
from flask import Flask

from flask_s3.adapters.cloudfront import Distribution, make_cloudfront_client
from flask_s3.adapters.publishing import Invalidate, OnDone, publish
from flask_s3.adapters.s3_bucket import Bucket, Credentials, make_client
from flask_s3.adapters.static_files import hash_assets, list_static_root
from flask_s3.core.bucket_state import BucketState, public_read_warnings
from flask_s3.core.settings import Settings
from flask_s3.core.settings_resolution import (
    SettingsError,
    resolve_override,
    resolve_settings,
)
from flask_s3.core.static_assets import discover_assets
from flask_s3.core.upload_plan import LocalFile, UploadPlan, plan_uploads
from flask_s3.core.upload_result import UploadResult
from flask_s3.flask.static_routes import static_routes

logger = logging.getLogger("flask_s3")


@attrs.frozen
class UploadOptions:
    """The knobs of one run, beyond the app's settings."""

    user: str | None = None
    password: str | None = attrs.field(default=None, repr=False)
    bucket_name: str | None = None
    location: str | None = None
    include_hidden: bool = False
    filepath_filter_regex: str | None = None
    put_bucket_acl: bool = True
    prune: bool = False
    """Prune in this run even if S3_PRUNE is off (the CLI's --prune)."""


def run_settings(app: Flask, options: UploadOptions) -> Settings:
    """The app's settings with the run's overrides; a bucket is required."""
    settings = resolve_settings(app.config)
    settings = attrs.evolve(
        settings,
        bucket_name=resolve_override("bucket_name", options.bucket_name, "bucket_name")
        if options.bucket_name
        else settings.bucket_name,
        region=resolve_override("region", options.location, "location")
        if options.location
        else settings.region,
        prune=options.prune or settings.prune,
    )
    if settings.bucket_name is None:
        raise SettingsError(
            "S3_BUCKET_NAME",
            "no bucket to upload to: set S3_BUCKET_NAME or pass bucket_name=",
        )
    if settings.prune and options.filepath_filter_regex:
        raise SettingsError(
            "S3_PRUNE",
            "S3_PRUNE cannot be combined with filepath_filter_regex: a partial run "
            "cannot tell deleted files from filtered-out ones",
        )
    return settings


def credentials(settings: Settings, options: UploadOptions) -> Credentials:
    """Each half of the key pair from the arguments, else from the config, as
    0.3.x did; boto3's own chain when neither has any. A session token belongs
    to the config's pair, so it is only used with that pair."""
    access_key_id = options.user or settings.access_key_id
    secret_access_key = options.password or settings.secret_access_key
    if access_key_id is None and secret_access_key is None:
        return Credentials()
    if access_key_id is None:
        raise SettingsError(
            "AWS_ACCESS_KEY_ID",
            "a secret key is given but no access key id: pass user= (--user) "
            "or set AWS_ACCESS_KEY_ID",
        )
    if secret_access_key is None:
        raise SettingsError(
            "AWS_SECRET_ACCESS_KEY",
            "an access key id is given but no secret key: pass password= "
            "(--password) or set AWS_SECRET_ACCESS_KEY",
        )
    from_config = (access_key_id, secret_access_key) == (
        settings.access_key_id,
        settings.secret_access_key,
    )
    token = settings.session_token if from_config else None
    return Credentials(access_key_id, secret_access_key, token)


@attrs.frozen
class LocalState:
    files: list[LocalFile]
    """The assets to publish, hashed."""
    keys: frozenset[str]
    """The key of every local file, hidden ones included when pruning, so
    that pruning never deletes a file that exists."""


def local_state(app: Flask, settings: Settings, options: UploadOptions) -> LocalState:
    listings = [
        list_static_root(root, include_hidden=options.include_hidden or settings.prune)
        for root in static_routes(app)
    ]
    assets = discover_assets(
        settings,
        listings,
        include_hidden=options.include_hidden,
        filepath_filter_regex=options.filepath_filter_regex,
    )
    every = discover_assets(settings, listings, include_hidden=True)
    return LocalState(hash_assets(assets), frozenset(asset.key for asset in every))


def open_bucket(settings: Settings, options: UploadOptions) -> Bucket:
    assert settings.bucket_name is not None
    client = make_client(settings, credentials(settings, options))
    return Bucket(client, settings.bucket_name)


def plan_against(
    settings: Settings, local: LocalState, state: BucketState
) -> UploadPlan:
    acl = settings.object_acl if state.accepts_acls else None
    return plan_uploads(
        settings, local.files, state.manifest, acl=acl, local_keys=local.keys
    )


def survey(
    app: Flask, settings: Settings, options: UploadOptions, bucket: Bucket
) -> tuple[LocalState, BucketState]:
    """The local files and the bucket, looked at side by side: hashing is
    local work and the bucket's reads are round trips, so neither waits."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        remote = pool.submit(bucket.inspect, settings.prefix)
        local = local_state(app, settings, options)
        return local, remote.result()


@attrs.frozen
class Prepared:
    settings: Settings
    bucket: Bucket
    state: BucketState
    plan: UploadPlan
    invalidate: Invalidate | None


def prepare(app: Flask, options: UploadOptions) -> Prepared:
    """Everything before the uploads: the bucket is created and its ACL set
    here, so a plan made after this is the one that will be carried out."""
    settings = run_settings(app, options)
    bucket = open_bucket(settings, options)
    local, state = survey(app, settings, options, bucket)
    for warning in public_read_warnings(state, settings.object_acl):
        logger.warning("%s", warning)
    if not state.exists:
        bucket.create(settings.region)
        state = bucket.inspect(settings.prefix)  # a new bucket's ACL mode
    if (
        options.put_bucket_acl
        and state.accepts_acls
        and not state.acl_grants_public_read
    ):
        bucket.make_public()
    invalidate = None
    if settings.cloudfront_distribution_id is not None:
        client = make_cloudfront_client(settings, credentials(settings, options))
        invalidate = Distribution(
            client, settings.cloudfront_distribution_id
        ).invalidate
    plan = plan_against(settings, local, state)
    return Prepared(settings, bucket, state, plan, invalidate)


def create_all(
    app: Flask,
    user: str | None = None,
    password: str | None = None,
    bucket_name: str | None = None,
    location: str | None = None,
    include_hidden: bool = False,
    filepath_filter_regex: str | None = None,
    put_bucket_acl: bool = True,
    *,
    on_done: OnDone | None = None,
) -> UploadResult:
    """Upload every static asset of ``app`` and its registered blueprints.

    Raises `flask_s3.UploadFailed` listing the keys that did not arrive; they
    are left out of the manifest, so running it again sends exactly those.
    """
    started = time.monotonic()
    options = UploadOptions(
        user,
        password,
        bucket_name,
        location,
        include_hidden,
        filepath_filter_regex,
        put_bucket_acl,
    )
    return upload(prepare(app, options), started=started, on_done=on_done)


def upload(
    prepared: Prepared, *, started: float, on_done: OnDone | None = None
) -> UploadResult:
    return publish(
        prepared.bucket,
        prepared.plan,
        prefix=prepared.settings.prefix,
        concurrency=prepared.settings.upload_concurrency,
        started=started,
        on_done=on_done,
        invalidate=prepared.invalidate,
    )
