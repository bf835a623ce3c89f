"""Carrying out an upload plan: concurrent uploads, and a manifest that never
claims an object the bucket does not hold.

The manifest is written twice when needed. Before the uploads, without the keys
about to be replaced, so a run killed half-way leaves no stale claim. After
them, with only what arrived, so a failed key is simply sent again next time.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed

import attrs

from flask_s3.adapters.s3_bucket import Bucket, describe_error
from flask_s3.core.invalidation import invalidation_paths
from flask_s3.core.manifest import Manifest
from flask_s3.core.upload_plan import PlannedAsset, UploadPlan
from flask_s3.core.upload_result import FailedUpload, UploadFailed, UploadResult

logger = logging.getLogger("flask_s3")

OnDone = Callable[[PlannedAsset, bool], None]
Invalidate = Callable[[list[str]], str]
"""Start a CDN invalidation of these paths; returns its id."""


def publish(
    bucket: Bucket,
    plan: UploadPlan,
    *,
    prefix: str,
    concurrency: int,
    started: float,
    on_done: OnDone | None = None,
    invalidate: Invalidate | None = None,
) -> UploadResult:
    """Upload what the plan says, then prune and invalidate; raise
    `UploadFailed` unless every upload arrived. ``started`` is the
    ``time.monotonic()`` the run's timing counts from."""
    # Each write is rebased on the record this run last wrote, so that what it
    # settles itself (keys it wrote as pending) is not mistaken for another
    # run's change.
    written = plan.remote
    pending = plan.manifest_before_upload()
    if pending is not None:
        bucket.write_manifest(prefix, pending, base=written)
        written = pending
    arrived: list[PlannedAsset] = []
    failed: list[FailedUpload] = []
    try:
        _upload_all(bucket, plan.uploads, concurrency, arrived, failed, on_done)
    except BaseException:
        _record_interrupted(bucket, prefix, plan, arrived, written)
        raise
    uploaded = tuple(item.key for item in arrived)
    # Prune only after a complete upload: pages of a half-deployed site may
    # still need what would go.
    doomed = [] if failed else [delete.key for delete in plan.deletes]
    result = UploadResult(
        uploaded=uploaded,
        skipped=tuple(item.key for item in plan.skips),
        failed=tuple(sorted(failed, key=lambda failure: failure.key)),
        bytes_uploaded=sum(item.size for item in arrived),
        seconds=0.0,
    )
    final = plan.manifest_after(uploaded, without=doomed)
    unrecorded: Exception | None = None
    if final != plan.remote:
        try:
            bucket.write_manifest(prefix, final, base=written)
        except Exception as exc:
            unrecorded = exc
    warnings: list[str] = []
    deleted = []
    if unrecorded is None:
        deleted = _prune(bucket, prefix, plan, uploaded, doomed, warnings, final)
    # What changed is invalidated even when other uploads failed: the next run
    # sees these files as unchanged and would never tell the CDN.
    invalidation_id = _invalidate(invalidate, plan, uploaded, deleted, warnings)
    for warning in warnings:
        logger.warning("%s", warning)
    result = attrs.evolve(
        result,
        deleted=tuple(deleted),
        invalidation_id=invalidation_id,
        warnings=tuple(warnings),
        seconds=time.monotonic() - started,
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
    invalidate: Invalidate | None,
    plan: UploadPlan,
    uploaded: tuple[str, ...],
    deleted: list[str],
    warnings: list[str],
) -> str | None:
    paths = invalidation_paths(plan, uploaded, deleted)
    if invalidate is None or not paths:
        return None
    try:
        return invalidate(paths)
    except Exception as exc:
        warnings.append(
            f"the CDN invalidation of {len(paths)} paths failed "
            f"({describe_error(exc)}); the upload itself is complete"
        )
        return None


def _prune(
    bucket: Bucket,
    prefix: str,
    plan: UploadPlan,
    uploaded: tuple[str, ...],
    doomed: list[str],
    warnings: list[str],
    written: Manifest,
) -> list[str]:
    """Delete what the manifest no longer lists (``written``, the record
    without them). Keys that could not be deleted still exist, so they are
    recorded again for a later run."""
    if not doomed:
        return []
    failures = bucket.delete(doomed)
    deleted = [key for key in doomed if key not in failures]
    if failures:
        warnings.extend(
            f"could not delete {key} ({why}); the next pruning run tries again"
            for key, why in sorted(failures.items())
        )
        try:
            bucket.write_manifest(
                prefix, plan.manifest_after(uploaded, without=deleted), base=written
            )
        except Exception as exc:
            why = describe_error(exc)
            warnings.append(
                f"the manifest could not record the undeleted keys ({why}); "
                "they are left in the bucket untracked"
            )
    return deleted


def _upload_all(
    bucket: Bucket,
    items: Sequence[PlannedAsset],
    concurrency: int,
    arrived: list[PlannedAsset],
    failed: list[FailedUpload],
    on_done: OnDone | None,
) -> None:
    """Run the uploads. Each worker records its own arrival, so no interrupt
    in this thread (Ctrl-C lands here, between any two bytecodes) can lose the
    record of an object that was sent. On an interrupt, or a KeyboardInterrupt
    raised inside an upload, queued uploads are cancelled, the executor waits
    for the running ones, and the interrupt goes on."""
    if not items:
        return

    def send(item: PlannedAsset) -> None:
        bucket.upload(item)
        arrived.append(item)

    with ThreadPoolExecutor(max_workers=min(concurrency, len(items))) as pool:
        futures: dict[Future[None], PlannedAsset] = {}
        try:
            with _interrupts_deferred():
                for item in items:
                    futures[pool.submit(send, item)] = item
            for future in as_completed(futures):
                item = futures[future]
                error = future.exception()
                if error is not None and not isinstance(error, Exception):
                    raise error
                if error is not None:
                    failed.append(FailedUpload(item.key, describe_error(error)))
                if on_done is not None:
                    on_done(item, error is None)
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise


@contextlib.contextmanager
def _interrupts_deferred() -> Iterator[None]:
    """Hold Ctrl-C while the uploads are queued: landing inside submit(), it
    can leave a worker thread the executor never waits for, whose upload then
    arrives unrecorded. The held signal is delivered on the way out. Only the
    main thread of a POSIX process can hold it; elsewhere this does nothing."""
    if (
        not hasattr(signal, "pthread_sigmask")
        or threading.current_thread() is not threading.main_thread()
    ):
        yield
        return
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


def _record_interrupted(
    bucket: Bucket,
    prefix: str,
    plan: UploadPlan,
    arrived: list[PlannedAsset],
    written: Manifest,
) -> None:
    """Keep what did arrive before an interruption, so the next run resends less."""
    try:
        bucket.write_manifest(
            prefix, plan.manifest_after(item.key for item in arrived), base=written
        )
    except Exception as exc:
        logger.warning(
            "the upload was interrupted and the manifest could not be updated (%s); "
            "the next run sends the interrupted files again",
            describe_error(exc),
        )
