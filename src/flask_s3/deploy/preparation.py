"""Everything before the uploads: the local files, the bucket, and the plan.

``plan`` looks and changes nothing. ``prepare`` also makes the bucket ready
(created, its ACL set), so the plan it returns is the one `publish` carries
out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import TYPE_CHECKING

import attrs

from flask_s3.adapters.aws import Credentials, make_s3_client, translated
from flask_s3.adapters.bucket_survey import Surveyor
from flask_s3.adapters.cloudfront import Distribution, make_cloudfront_client
from flask_s3.adapters.objects import Objects
from flask_s3.adapters.static_files import (
    hash_assets,
    integrity_values,
    list_static_root,
)
from flask_s3.core.bucket_survey import (
    BucketSurvey,
    missing_bucket,
    public_read_warnings,
)
from flask_s3.core.cors import cors_change, cors_warnings
from flask_s3.core.frozen import FrozenDict
from flask_s3.core.manifest import Manifest, ManifestEntry
from flask_s3.core.plan_report import PlanReport, plan_report
from flask_s3.core.settings import RunSettings, Settings
from flask_s3.core.static_assets import (
    StaticRoot,
    discover_assets,
    in_scope,
    key_scope,
)
from flask_s3.core.upload_plan import Listed, LocalFile, UploadPlan, plan_uploads
from flask_s3.deploy.collector import collector_paused
from flask_s3.deploy.options import DeployOptions, credentials, run_settings

if TYPE_CHECKING:
    from types_boto3_s3.client import S3Client

logger = logging.getLogger("flask_s3")

S3ClientFactory = Callable[[Settings, Credentials], "S3Client"]
"""How the service gets its S3 client; tests pass one that records or fails."""
Invalidate = Callable[[list[str]], str]
"""Start a CDN invalidation of these paths; returns its id."""


@attrs.frozen
class LocalTree:
    files: tuple[LocalFile, ...]
    """The assets to publish, hashed."""
    keys: frozenset[str]
    """When pruning, the key of every local file, hidden ones included, so
    that pruning never deletes a file that exists; else none, since only
    pruning asks."""


def read_local_tree(
    roots: Sequence[StaticRoot],
    run: RunSettings,
    options: DeployOptions,
    recorded: Callable[[], Mapping[str, ManifestEntry] | None] = lambda: None,
) -> LocalTree:
    """``recorded`` gives the manifest's entries if they are read by the time
    hashing starts (see `hash_assets`); hashing never waits for them."""
    settings = run.settings
    listings = [
        list_static_root(root, include_hidden=options.include_hidden or settings.prune)
        for root in roots
    ]
    assets = discover_assets(
        settings,
        listings,
        include_hidden=options.include_hidden,
        filepath_filter_regex=options.filepath_filter_regex,
    )
    # Only pruning needs the keys of local files, and those of files that are
    # not published (hidden ones) too.
    keys: frozenset[str] = frozenset()
    if settings.prune:
        every = discover_assets(settings, listings, include_hidden=True)
        keys = frozenset(asset.key for asset in every)
    return LocalTree(tuple(hash_assets(assets, recorded=recorded())), keys)


def _scoped(manifest: Manifest, scope: tuple[str, ...]) -> Manifest:
    """The record of this app's keys only: another app's entries in a shared
    manifest, or 0.3.x's record of another site, are neither planned against
    nor pruned; and the app counts its own deploys, so that another app's
    deploys never age its hashed copies out of the S3_PRUNE_KEEP window."""
    entries = manifest.entries
    if not all(in_scope(key, scope) for key in entries):
        entries = FrozenDict((k, v) for k, v in entries.items() if in_scope(k, scope))
    return attrs.evolve(
        manifest,
        entries=entries,
        unsettled=[key for key in manifest.unsettled if in_scope(key, scope)],
        deploys=max((entry.deploy for entry in entries.values()), default=0),
    )


def _plan_against(
    run: RunSettings,
    roots: Sequence[StaticRoot],
    local: LocalTree,
    survey: BucketSurvey,
    listing: Mapping[str, Listed] | None,
) -> UploadPlan:
    acl = run.settings.object_acl if survey.accepts_acls else None
    ours = survey.manifest_source == "flask-s3"
    return plan_uploads(
        run.settings,
        local.files,
        _scoped(survey.manifest, key_scope(run.settings, roots)),
        acl=acl,
        local_keys=local.keys,
        read=survey.manifest if ours else Manifest(),
        listing=listing,
    )


def _listing(
    client: S3Client,
    run: RunSettings,
    roots: Sequence[StaticRoot],
    survey: BucketSurvey,
    options: DeployOptions,
) -> dict[str, Listed] | None:
    """With ``verify``, what the bucket holds under this app's keys."""
    if not options.verify:
        return None
    if not survey.exists:
        return {}
    scope = key_scope(run.settings, roots)
    return Objects(client, run.bucket).listing(scope)


def _surveyed(
    roots: Sequence[StaticRoot],
    run: RunSettings,
    options: DeployOptions,
    surveyor: Surveyor,
) -> tuple[LocalTree, BucketSurvey]:
    """The local files and the bucket, looked at side by side: hashing is
    local work and the bucket's reads are round trips, so neither waits."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        remote = pool.submit(surveyor.survey, run.settings.prefix)
        local = read_local_tree(roots, run, options, partial(_entries_read, remote))
        return local, remote.result()


def _entries_read(survey: Future[BucketSurvey]) -> Mapping[str, ManifestEntry] | None:
    """The manifest's entries, if the survey has read them; its failure is
    reported where the survey's result is taken, after the local files'."""
    if not survey.done() or survey.exception() is not None:
        return None
    return survey.result().manifest.entries


def _client(
    run: RunSettings, options: DeployOptions, factory: S3ClientFactory | None
) -> S3Client:
    """The run's S3 client; a session that cannot be set up (a broken AWS
    profile, say) is an `S3Error` like any other."""
    with translated("CreateClient", run.bucket):
        return (factory or make_s3_client)(
            run.settings, credentials(run.settings, options)
        )


@attrs.frozen
class Planned:
    run: RunSettings
    plan: UploadPlan
    survey: BucketSurvey
    offline: bool
    integrity: FrozenDict[str, str]
    """The SRI value of each local file, by its path: only a plan shows them."""

    def report(self) -> PlanReport:
        return plan_report(
            self.plan, self.run, self.survey, self.integrity, offline=self.offline
        )


@collector_paused()
def plan(
    roots: Sequence[StaticRoot],
    settings: Settings,
    options: DeployOptions,
    *,
    offline: bool = False,
    s3_client: S3ClientFactory | None = None,
) -> Planned:
    """What an upload would do, writing nothing. Offline, against an empty
    bucket, without credentials or network."""
    run = run_settings(settings, options)
    listing = None
    if offline:
        local, survey = read_local_tree(roots, run, options), missing_bucket()
    else:
        client = _client(run, options, s3_client)
        local, survey = _surveyed(roots, run, options, Surveyor(client, run.bucket))
        listing = _listing(client, run, roots, survey, options)
    plan = _plan_against(run, roots, local, survey, listing)
    return Planned(run, plan, survey, offline, integrity_values(local.files))


@attrs.frozen
class Prepared:
    run: RunSettings
    client: S3Client
    survey: BucketSurvey
    plan: UploadPlan
    invalidate: Invalidate | None


@collector_paused()
def prepare(
    roots: Sequence[StaticRoot],
    settings: Settings,
    options: DeployOptions,
    *,
    s3_client: S3ClientFactory | None = None,
) -> Prepared:
    """The plan of an upload, with the bucket made ready for it."""
    run = run_settings(settings, options)
    settings = run.settings
    client = _client(run, options, s3_client)
    surveyor = Surveyor(client, run.bucket)
    local, survey = _surveyed(roots, run, options, surveyor)
    for warning in public_read_warnings(survey, settings.object_acl):
        logger.warning("%s", warning)
    if not survey.exists:
        surveyor.create(settings.region)
        survey = surveyor.survey(settings.prefix)  # a new bucket's ACL mode
    keys = [file.asset.key for file in local.files]
    for warning in cors_warnings(settings.cors_origins, survey.cors, keys):
        logger.warning("%s", warning)  # of the bucket as it is, created or not
    change = cors_change(settings.cors_origins, survey.cors)
    if change is not None:  # before any page can name an asset that needs it
        surveyor.put_cors(change)
    if (
        options.put_bucket_acl
        and survey.accepts_acls
        and not survey.acl_grants_public_read
    ):
        surveyor.make_public()
    invalidate = None
    if settings.cloudfront_distribution_id is not None:
        with translated("CreateClient", run.bucket):
            cloudfront = make_cloudfront_client(
                settings, credentials(settings, options)
            )
        invalidate = Distribution(
            cloudfront, settings.cloudfront_distribution_id
        ).invalidate
    listing = _listing(client, run, roots, survey, options)
    plan = _plan_against(run, roots, local, survey, listing)
    return Prepared(run, client, survey, plan, invalidate)
