"""The knobs of one run beyond the app's settings, and what they resolve to:
the run's settings (with a bucket) and its credentials."""

from __future__ import annotations

import attrs

from flask_s3.adapters.aws import Credentials
from flask_s3.core.settings import RunSettings, Settings
from flask_s3.core.settings_resolution import check_region, resolve_override
from flask_s3.errors import SettingsError


@attrs.frozen
class DeployOptions:
    """``create_all``'s arguments and the command line's flags."""

    user: str | None = None
    password: str | None = attrs.field(default=None, repr=False)
    bucket_name: str | None = None
    location: str | None = None
    include_hidden: bool = False
    filepath_filter_regex: str | None = None
    put_bucket_acl: bool = True
    prune: bool = False
    """Prune in this run even if S3_PRUNE is off (the CLI's --prune)."""
    endpoint_url: str | None = None
    """Overrides S3_ENDPOINT_URL (the CLI's --endpoint-url)."""
    verify: bool = False
    """List the bucket and compare it with the record, re-sending what is
    missing or changed (the CLI's --verify); otherwise the record is trusted."""


def run_settings(settings: Settings, options: DeployOptions) -> RunSettings:
    """The app's settings with the run's overrides; a bucket is required."""
    settings = attrs.evolve(
        settings,
        bucket_name=resolve_override("bucket_name", options.bucket_name, "bucket_name")
        if options.bucket_name
        else settings.bucket_name,
        region=resolve_override("region", options.location, "location")
        if options.location
        else settings.region,
        prune=options.prune or settings.prune,
        endpoint_url=resolve_override(
            "endpoint_url", options.endpoint_url, "--endpoint-url"
        )
        if options.endpoint_url
        else settings.endpoint_url,
    )
    if options.location:
        check_region(settings, "location")
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
    return RunSettings(settings, settings.bucket_name)


def credentials(settings: Settings, options: DeployOptions) -> Credentials:
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
