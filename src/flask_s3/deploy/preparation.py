"""Everything before the uploads: the local files, the bucket, and the plan.

``plan`` looks and changes nothing. ``prepare`` also creates a missing
bucket, so the plan it returns is the one `publish` carries out, and says
what else the bucket needs (a CORS rule, its ACL): `publish` sends that while
it marks the run's keys.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from itertools import chain, islice
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
from flask_s3.core.manifest import Manifest
from flask_s3.core.plan_report import PlanReport, plan_report
from flask_s3.core.settings import RunSettings, Settings
from flask_s3.core.static_assets import (
    Listing,
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
    files: Iterator[LocalFile]
    """The assets to publish, each hashed as it is taken: the plan takes
    them one by one (see `plan_uploads`)."""
    keys: frozenset[str]
    """When pruning, the key of every local file, hidden ones included, so
    that pruning never deletes a file that exists; else none, since only
    pruning asks."""


def read_local_tree(
    roots: Sequence[StaticRoot], run: RunSettings, options: DeployOptions
) -> LocalTree:
    settings = run.settings
    listings: Iterable[Listing] = chain.from_iterable(
        list_static_root(root, include_hidden=options.include_hidden or settings.prune)
        for root in roots
    )
    # Only pruning needs the keys of local files, and those of files that are
    # not published (hidden ones) too: it holds the listings for a second look.
    keys: frozenset[str] = frozenset()
    if settings.prune:
        listings = tuple(listings)
        every = discover_assets(settings, listings, include_hidden=True)
        keys = frozenset(asset.key for asset in every)
    assets = discover_assets(
        settings,
        listings,
        include_hidden=options.include_hidden,
        filepath_filter_regex=options.filepath_filter_regex,
    )
    return LocalTree(hash_assets(assets), keys)


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
    files: Iterable[LocalFile],
    local_keys: frozenset[str],
    survey: BucketSurvey,
    listing: Mapping[str, Listed] | None,
    *,
    detailed: bool,
) -> UploadPlan:
    acl = run.settings.object_acl if survey.accepts_acls else None
    ours = survey.manifest_source == "flask-s3"
    return plan_uploads(
        run.settings,
        files,
        _scoped(survey.manifest, key_scope(run.settings, roots)),
        acl=acl,
        local_keys=local_keys,
        read=survey.manifest if ours else Manifest(),
        listing=listing,
        detailed=detailed,
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


AHEAD_OF_SURVEY = 2000
"""How many files are hashed while the bucket is surveyed. The plan needs
the manifest to take each file as it is hashed and keep nothing of a skipped
one, so the rest wait for the survey; a small site is read by the time its
round trips are back."""


def _surveyed(
    roots: Sequence[StaticRoot],
    run: RunSettings,
    options: DeployOptions,
    surveyor: Surveyor,
) -> tuple[LocalTree, BucketSurvey]:
    with ThreadPoolExecutor(max_workers=1) as pool:
        remote = pool.submit(surveyor.survey, run.settings.prefix)
        local = read_local_tree(roots, run, options)
        ahead = list(islice(local.files, AHEAD_OF_SURVEY))
        if remote.exception() is not None:
            # A local error is told first, as where the survey answered; and
            # the hashing runs to its end here: left paused, its threads would
            # live until a collection found the cycle the survey's error makes.
            for _ in local.files:
                pass
        survey = remote.result()
    return attrs.evolve(local, files=chain(ahead, local.files)), survey


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
    survey, listing = missing_bucket(), None
    if not offline:
        client = _client(run, options, s3_client)
        local, survey = _surveyed(roots, run, options, Surveyor(client, run.bucket))
        listing = _listing(client, run, roots, survey, options)
    else:
        local = read_local_tree(roots, run, options)
    files = list(local.files)
    plan = _plan_against(run, roots, files, local.keys, survey, listing, detailed=True)
    return Planned(run, plan, survey, offline, integrity_values(files))


@attrs.frozen
class Prepared:
    run: RunSettings
    client: S3Client
    survey: BucketSurvey
    plan: UploadPlan
    invalidate: Invalidate | None
    bucket_changes: tuple[Callable[[], None], ...] = ()
    """What the bucket still needs before the uploads, in order: its CORS
    rule, its ACL."""


@collector_paused()
def prepare(
    roots: Sequence[StaticRoot],
    settings: Settings,
    options: DeployOptions,
    *,
    s3_client: S3ClientFactory | None = None,
) -> Prepared:
    """The plan of an upload, the bucket created if it was missing, and
    what else the bucket needs before the uploads (`Prepared.bucket_changes`)."""
    run = run_settings(settings, options)
    settings = run.settings
    client = _client(run, options, s3_client)
    surveyor = Surveyor(client, run.bucket)
    local, survey = _surveyed(roots, run, options, surveyor)
    for warning in public_read_warnings(survey, settings.object_acl):
        logger.warning("%s", warning)
    listing = _listing(client, run, roots, survey, options)
    plan = _plan_against(
        run, roots, local.files, local.keys, survey, listing, detailed=False
    )
    # The bucket is changed only once the local files proved readable.
    if not survey.exists:
        surveyor.create(settings.region)
        survey = surveyor.survey(settings.prefix)  # a new bucket's ACL mode
        listing = _listing(client, run, roots, survey, options)
        # Nothing is skipped for a bucket that was not there: the plan holds
        # every file, to be planned again against the bucket as it is now.
        files = [item.local for item in plan.items if item.source is None]
        plan = _plan_against(
            run, roots, files, local.keys, survey, listing, detailed=False
        )
    keys = chain((item.key for item in plan.items), plan.skipped)
    for warning in cors_warnings(settings.cors_origins, survey.cors, keys):
        logger.warning("%s", warning)  # of the bucket as it is, created or not
    changes: list[Callable[[], None]] = []
    change = cors_change(settings.cors_origins, survey.cors)
    if change is not None:  # before any page can name an asset that needs it
        changes.append(partial(surveyor.put_cors, change))
    if (
        options.put_bucket_acl
        and survey.accepts_acls
        and not survey.acl_grants_public_read
    ):
        changes.append(surveyor.make_public)
    invalidate = None
    if settings.cloudfront_distribution_id is not None:
        with translated("CreateClient", run.bucket):
            cloudfront = make_cloudfront_client(
                settings, credentials(settings, options)
            )
        invalidate = Distribution(
            cloudfront, settings.cloudfront_distribution_id
        ).invalidate
    return Prepared(run, client, survey, plan, invalidate, tuple(changes))
