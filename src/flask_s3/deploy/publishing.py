"""Carrying out a prepared plan: the order of the steps that keeps the
manifest honest (see `flask_s3.core.manifest` for the invariant).

1. Record `pending`: the read record without the keys about to be replaced.
2. Upload, concurrently; each arrival is recorded as it lands.
3. Record `settled`: what arrived, without what failed or is to be pruned.
4. Prune, only after a complete upload, and re-record what could not go.
5. Invalidate the CDN paths that changed.

Every write goes through `write_manifest`, which replays this run's change
onto whatever a concurrent run stored meanwhile.
"""

from __future__ import annotations

import logging
import time

import attrs

from flask_s3.adapters.aws import describe_error
from flask_s3.adapters.manifest_store import ManifestStore
from flask_s3.adapters.objects import Objects
from flask_s3.adapters.upload_pool import OnDone, upload_all
from flask_s3.core.invalidation import invalidation_paths
from flask_s3.core.manifest import (
    Manifest,
    RunRecord,
    manifest_key,
    parse_manifest,
    pending,
    rebase,
    serialize_manifest,
    settled,
)
from flask_s3.core.upload_plan import PlannedAsset
from flask_s3.core.upload_result import FailedUpload, UploadResult
from flask_s3.deploy.preparation import Prepared
from flask_s3.errors import BucketError, UploadFailed

logger = logging.getLogger("flask_s3")

MANIFEST_ATTEMPTS = 5


def write_manifest(
    store: ManifestStore, key: str, ours: Manifest, *, base: Manifest
) -> None:
    """Write ``ours``, a change made to ``base``, onto whatever record the
    bucket holds by now. The swap is conditional on the ETag read, and a race
    lost to another run is replayed onto what that run wrote."""
    for _ in range(MANIFEST_ATTEMPTS):
        current, etag = store.read(key)
        latest = parse_manifest(current) if current is not None else base
        if store.swap(key, etag, serialize_manifest(rebase(ours, base, latest))):
            return
    raise BucketError(
        f"the manifest of bucket {store.bucket!r} kept changing under this run "
        "(other uploads running at once?); run the upload again",
        operation="PutObject",
        bucket=store.bucket,
        key=key,
    )


@attrs.define
class _Recorder:
    """The run's manifest writes, each rebased on the record this run last
    wrote, so that what it settles itself is not taken for another run's."""

    store: ManifestStore
    key: str
    written: Manifest

    def write(self, manifest: Manifest) -> None:
        write_manifest(self.store, self.key, manifest, base=self.written)
        self.written = manifest


def publish(
    prepared: Prepared, *, started: float, on_done: OnDone | None = None
) -> UploadResult:
    """Upload what the plan says, then prune and invalidate; raise
    `UploadFailed` unless every upload arrived. ``started`` is the
    ``time.monotonic()`` the run's timing counts from."""
    plan, settings = prepared.plan, prepared.run.settings
    bucket = prepared.run.bucket
    record = plan.record()
    recorder = _Recorder(
        ManifestStore(prepared.client, bucket),
        manifest_key(settings.prefix),
        plan.remote,
    )
    before = pending(record)
    if before is not None:
        recorder.write(before)
    objects = Objects(prepared.client, bucket)
    arrived: list[PlannedAsset] = []
    failed: list[FailedUpload] = []
    try:
        upload_all(
            objects.upload,
            plan.uploads,
            settings.upload_concurrency,
            arrived,
            failed,
            on_done,
        )
    except BaseException:
        _record_interrupted(recorder, record, arrived)
        raise
    uploaded = tuple(item.key for item in arrived)
    # Prune only after a complete upload: pages of a half-deployed site may
    # still need what would go.
    doomed = [] if failed else [delete.key for delete in plan.deletes]
    final = settled(record, uploaded, without=doomed)
    unrecorded: Exception | None = None
    if final != plan.remote:
        try:
            recorder.write(final)
        except Exception as exc:
            unrecorded = exc
    warnings: list[str] = []
    deleted: list[str] = []
    if unrecorded is None and doomed:
        deleted = _prune(objects, recorder, record, uploaded, doomed, warnings)
    # What changed is invalidated even when other uploads failed: the next run
    # sees these files as unchanged and would never tell the CDN.
    invalidation_id = _invalidate(prepared, uploaded, deleted, warnings)
    for warning in warnings:
        logger.warning("%s", warning)
    result = UploadResult(
        uploaded=uploaded,
        skipped=tuple(item.key for item in plan.skips),
        failed=tuple(sorted(failed, key=lambda failure: failure.key)),
        bytes_uploaded=sum(item.size for item in arrived),
        seconds=time.monotonic() - started,
        deleted=tuple(deleted),
        invalidation_id=invalidation_id,
        warnings=tuple(warnings),
    )
    if unrecorded is not None:
        raise UploadFailed(
            result,
            f"{_files(len(arrived))} uploaded, but the manifest could not be "
            f"written ({describe_error(unrecorded)}); the next run sends them again",
        ) from unrecorded
    if failed:
        raise UploadFailed(result)
    return result


def _files(count: int) -> str:
    return "1 file was" if count == 1 else f"{count} files were"


def _invalidate(
    prepared: Prepared,
    uploaded: tuple[str, ...],
    deleted: list[str],
    warnings: list[str],
) -> str | None:
    paths = invalidation_paths(prepared.plan, uploaded, deleted)
    if prepared.invalidate is None or not paths:
        return None
    try:
        return prepared.invalidate(paths)
    except Exception as exc:
        warnings.append(
            f"the CDN invalidation of {len(paths)} paths failed "
            f"({describe_error(exc)}); the upload itself is complete"
        )
        return None


def _prune(
    objects: Objects,
    recorder: _Recorder,
    record: RunRecord,
    uploaded: tuple[str, ...],
    doomed: list[str],
    warnings: list[str],
) -> list[str]:
    """Delete what the manifest no longer lists. Keys that could not be
    deleted still exist, so they are recorded again for a later run."""
    failures = objects.delete(doomed)
    deleted = [key for key in doomed if key not in failures]
    if failures:
        warnings.extend(
            f"could not delete {key} ({why}); the next pruning run tries again"
            for key, why in sorted(failures.items())
        )
        try:
            recorder.write(settled(record, uploaded, without=deleted))
        except Exception as exc:
            why = describe_error(exc)
            warnings.append(
                f"the manifest could not record the undeleted keys ({why}); "
                "they are left in the bucket untracked"
            )
    return deleted


def _record_interrupted(
    recorder: _Recorder, record: RunRecord, arrived: list[PlannedAsset]
) -> None:
    """Keep what did arrive before an interruption, so the next run resends less."""
    try:
        recorder.write(settled(record, (item.key for item in arrived)))
    except Exception as exc:
        logger.warning(
            "the upload was interrupted and the manifest could not be updated (%s); "
            "the next run sends the interrupted files again",
            describe_error(exc),
        )
