"""Carrying out an upload plan: concurrent uploads, and a manifest that never
claims an object the bucket does not hold.

The manifest is written twice when needed. Before the uploads, without the keys
about to be replaced, so a run killed half-way leaves no stale claim. After
them, with only what arrived, so a failed key is simply sent again next time.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed

from flask_s3.adapters.s3_bucket import Bucket, describe_error
from flask_s3.core.upload_plan import PlannedAsset, UploadPlan
from flask_s3.core.upload_result import FailedUpload, UploadFailed, UploadResult

logger = logging.getLogger("flask_s3")

OnDone = Callable[[PlannedAsset, bool], None]


def publish(
    bucket: Bucket,
    plan: UploadPlan,
    *,
    prefix: str,
    concurrency: int,
    started: float,
    on_done: OnDone | None = None,
) -> UploadResult:
    """Upload what the plan says; raise `UploadFailed` unless everything arrived.
    ``started`` is the ``time.monotonic()`` the run's timing counts from."""
    pending = plan.manifest_before_upload()
    if pending is not None:
        bucket.write_manifest(prefix, pending)
    arrived: list[PlannedAsset] = []
    failed: list[FailedUpload] = []
    try:
        _upload_all(bucket, plan.uploads, concurrency, arrived, failed, on_done)
    except BaseException:
        _record_interrupted(bucket, prefix, plan, arrived)
        raise
    result = UploadResult(
        uploaded=tuple(item.key for item in arrived),
        skipped=tuple(item.key for item in plan.skips),
        failed=tuple(sorted(failed, key=lambda failure: failure.key)),
        bytes_uploaded=sum(item.size for item in arrived),
        seconds=time.monotonic() - started,
    )
    final = plan.manifest_after(result.uploaded)
    if final != plan.remote:
        try:
            bucket.write_manifest(prefix, final)
        except Exception as exc:
            raise UploadFailed(
                result,
                f"{len(arrived)} files were uploaded, but the manifest could not be "
                f"written ({describe_error(exc)}); the next run sends them again",
            ) from exc
    if failed:
        raise UploadFailed(result)
    return result


def _upload_all(
    bucket: Bucket,
    items: Sequence[PlannedAsset],
    concurrency: int,
    arrived: list[PlannedAsset],
    failed: list[FailedUpload],
    on_done: OnDone | None,
) -> None:
    if not items:
        return
    with ThreadPoolExecutor(max_workers=min(concurrency, len(items))) as pool:
        futures = {pool.submit(bucket.upload, item): item for item in items}
        settled: set[Future[None]] = set()

        def settle(future: Future[None]) -> None:
            settled.add(future)
            item = futures[future]
            error = future.exception()
            if error is None:
                arrived.append(item)
            else:
                failed.append(FailedUpload(item.key, describe_error(error)))
            if on_done is not None:
                on_done(item, error is None)

        try:
            for future in as_completed(futures):
                settle(future)
        except BaseException:
            for future in futures:
                future.cancel()
            for future in futures:
                if future not in settled and not future.cancelled():
                    settle(future)
            raise


def _record_interrupted(
    bucket: Bucket, prefix: str, plan: UploadPlan, arrived: list[PlannedAsset]
) -> None:
    """Keep what did arrive before an interruption, so the next run resends less."""
    try:
        bucket.write_manifest(prefix, plan.manifest_after(item.key for item in arrived))
    except Exception as exc:
        logger.warning(
            "the upload was interrupted and the manifest could not be updated (%s); "
            "the next run sends the interrupted files again",
            describe_error(exc),
        )
