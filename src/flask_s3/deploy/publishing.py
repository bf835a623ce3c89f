"""Carrying out a prepared plan: the order of the steps that keeps the
manifest honest (see `flask_s3.core.manifest` for the invariant).

1. Record `pending`: drop what will be overwritten, mark what is in flight;
   meanwhile the bucket gets the CORS rule and ACL `prepare` found it needs.
2. Upload and fix headers, concurrently; each arrival is noted as it lands.
3. Record `settled`: claim what arrived, drop what failed; nothing where the
   read-back check found the store keeps other bytes, or could not tell.
4. Prune, only after a complete upload, and record `pruned`.
5. Invalidate the CDN paths that changed.

Every write goes through `recording.Recorder`, which applies this run's change
onto whatever the bucket holds at that moment. The read each write swaps on
is one sent earlier where that saves a round trip: the survey's for step 1,
one sent as the last uploads go out for step 3.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import attrs

from flask_s3.adapters.aws import describe_error
from flask_s3.adapters.manifest_store import ManifestStore
from flask_s3.adapters.objects import Objects, ReadBack
from flask_s3.adapters.upload_pool import OnDone, upload_all
from flask_s3.core.invalidation import invalidation_paths
from flask_s3.core.manifest import (
    Manifest,
    RunRecord,
    Stored,
    manifest_key,
)
from flask_s3.core.upload_plan import Action, PlannedAsset
from flask_s3.core.upload_result import FailedUpload, UploadResult
from flask_s3.deploy.preparation import Prepared
from flask_s3.deploy.recording import Recorder, Snapshot
from flask_s3.errors import ManifestError, S3Error, UploadFailed

logger = logging.getLogger("flask_s3")

Arrived = list[tuple[PlannedAsset, tuple[Action, Stored]]]
"""Each upload or fix that landed, with what was done (a fix may have had to
send the bytes after all) and what the bucket answered."""


def publish(
    prepared: Prepared,
    *,
    started: float,
    on_done: OnDone | None = None,
    progress: Callable[[int], None] | None = None,
) -> UploadResult:
    """Send what the plan says, then prune and invalidate; raise
    `UploadFailed` unless everything arrived. ``started`` is the
    ``time.monotonic()`` the run's timing counts from; ``progress`` is told
    of the bytes sent as they go."""
    plan, settings = prepared.plan, prepared.run.settings
    bucket = prepared.run.bucket
    record = plan.record()
    survey = prepared.survey
    recorder = Recorder(
        ManifestStore(prepared.client, bucket),
        manifest_key(settings.prefix),
        record.read,
        Snapshot(
            record.read if survey.manifest_source == "flask-s3" else None,
            survey.manifest_etag,
            survey.manifest_fresh_until,
        ),
        etag=survey.manifest_etag,  # None where the bucket holds none of ours
    )
    _mark(prepared, recorder, record)
    marked = recorder.written
    objects = Objects(prepared.client, bucket, progress)
    check = _ReadBackCheck(objects, prepared)
    sending = [*plan.uploads, *plan.fixes]
    arrived: Arrived = []
    failed: list[FailedUpload] = []
    try:
        upload_all(
            check.send,
            sending,
            settings.upload_concurrency,
            arrived,
            failed,
            on_done,
            recorder.read_ahead,
        )
    except BaseException:
        _record_interrupted(recorder, record, arrived if check.trusted() else [])
        raise
    stored = {item.key: answer for item, (_, answer) in arrived}
    unchecked: Exception | None = None
    try:
        damaged = check.damage()
    except Exception as exc:
        # Whether the store keeps what it is sent is unknown: nothing sent
        # is claimed (the marks go), and the run stops on this unless it
        # has a failure of its own to tell.
        damaged, unchecked, stored = None, exc, {}
    if damaged is not None:
        # The store keeps other bytes than it is sent: the record this run
        # wrote is not what its ETag stands for, and is read whole.
        recorder.distrust()
        try:
            recorder.write(record.settled({}))  # claims nothing it sent
        except ManifestError as exc:
            # The store kept the manifest this run wrote the same way.
            raise S3Error(
                f"{damaged}; the manifest {recorder.key!r} it holds now is "
                f"unreadable too ({describe_error(exc)}): delete {recorder.key!r} "
                "from the bucket",
                operation=damaged.operation,
                bucket=damaged.bucket,
                key=damaged.key,
            ) from exc
        except Exception as exc:
            _marks_left(exc)
        raise damaged
    # Prune only after a complete upload: pages of a half-deployed site may
    # still need what would go.
    pruning = not failed and unchecked is None and bool(record.deleting)
    unrecorded: Exception | None = None
    try:
        recorder.write(record.settled(stored, pruning=pruning))
    except Exception as exc:
        unrecorded = exc
    warnings: list[str] = []
    deleted: list[str] = []
    if unrecorded is None and pruning:
        deleted = _prune(objects, recorder, record, marked, warnings)
    # What changed is invalidated even when other uploads failed: the next run
    # sees these files as unchanged and would never tell the CDN.
    invalidation_id = _invalidate(prepared, list(stored), deleted, warnings)
    for warning in warnings:
        logger.warning("%s", warning)
    # A fix that had to send the bytes after all is counted as an upload.
    sent = [item for item, (done, _) in arrived if done is Action.UPLOAD]
    result = UploadResult(
        uploaded=tuple(item.key for item in sent),
        skipped=plan.skipped,
        failed=tuple(sorted(failed, key=lambda failure: failure.key)),
        bytes_uploaded=sum(item.size for item in sent),
        seconds=time.monotonic() - started,
        fixed=tuple(
            item.key for item, (done, _) in arrived if done is Action.FIX_HEADERS
        ),
        deleted=tuple(deleted),
        invalidation_id=invalidation_id,
        warnings=tuple(warnings),
    )
    vanished = _vanished(bucket, result, unrecorded)
    if vanished is not None:
        raise vanished from unrecorded
    if unrecorded is not None:
        raise UploadFailed(
            result,
            f"{_files(len(arrived))} uploaded, but the manifest could not be "
            f"written ({describe_error(unrecorded)}); the next run sends them again",
        ) from unrecorded
    if failed:
        raise UploadFailed(result) from unchecked
    if unchecked is not None:
        raise unchecked
    return result


def _mark(prepared: Prepared, recorder: Recorder, record: RunRecord) -> None:
    """Mark the run's keys while the bucket is made ready, the two round
    trips at once. A bucket that cannot be made ready stops the run before
    any upload, with its error (it came first before they overlapped), and
    the marks are taken back, as they are after a Ctrl-C before the uploads."""
    with contextlib.ExitStack() as stack:
        ready = None
        if prepared.bucket_changes:
            pool = stack.enter_context(ThreadPoolExecutor(max_workers=1))
            ready = pool.submit(_in_order, prepared.bucket_changes)
        try:
            recorder.write(record.pending())
            refused = None if ready is None else ready.exception()
        except Exception as exc:  # from the marks: a wait raises no Exception
            refused = None if ready is None else ready.exception()
            if refused is None:
                raise
            logger.warning(
                "the manifest's marks could not be written either (%s)",
                describe_error(exc),
            )
            raise refused  # noqa: B904 (its own cause stands; the other is logged)
        except BaseException:  # Ctrl-C: the marks may have landed unseen
            _withdraw(recorder, record)
            raise
    if refused is not None:
        _withdraw(recorder, record)
        raise refused


def _withdraw(recorder: Recorder, record: RunRecord) -> None:
    try:
        recorder.write(record.withdrawn(), unsure=True)
    except Exception as exc:
        _marks_left(exc)


def _marks_left(exc: Exception) -> None:
    logger.warning(
        "the marks of this run could not be taken back from the manifest "
        "(%s); other runs ignore them after an hour",
        describe_error(exc),
    )


def _in_order(changes: Sequence[Callable[[], None]]) -> None:
    for change in changes:
        change()


class _ReadBackCheck:
    """After a first upload to another store, one object is read back: a
    store that does not understand boto3's checksum framing may store it as
    part of every object and still answer 200. Other bytes without framing
    are another run's write (or, on a store that overwrites in place, half
    of it), not the store's misunderstanding.

    The worker that sent the first object that can be checked reads it back
    at once, while the other uploads go on, so the check costs the run no
    round trip of its own."""

    def __init__(self, objects: Objects, prepared: Prepared) -> None:
        self._objects = objects
        self._bucket = prepared.run.bucket
        self._pending = (
            prepared.run.settings.endpoint_url is not None
            and not prepared.plan.read.entries
        )
        self._lock = threading.Lock()
        self._found: tuple[PlannedAsset, ReadBack] | None = None
        self._error: Exception | None = None

    def send(self, item: PlannedAsset) -> tuple[Action, Stored]:
        answer = self._objects.send(item)
        if (
            self._pending
            and answer[0] is Action.UPLOAD
            and not item.spec.gzip
            and self._claim()
        ):
            try:
                self._found = item, self._objects.read_back(item)
            except Exception as exc:  # raised by damage(): the upload arrived
                self._error = exc
        return answer

    def _claim(self) -> bool:
        with self._lock:
            pending, self._pending = self._pending, False
        return pending

    def trusted(self) -> bool:
        """Whether what arrived may be claimed as far as the check knows so
        far: not where it found framing, or could not read the object."""
        return self._error is None and (
            self._found is None or self._found[1] != "framed"
        )

    def damage(self) -> S3Error | None:
        """What the read-back found wrong, once the uploads are done; it
        raises what reading the object back raised."""
        if self._error is not None:
            raise self._error
        if self._found is None:
            return None
        sample, found = self._found
        if found == "other":  # another run wrote the key since: its marks decide
            logger.info("%r changed in the bucket before it was read back", sample.key)
        if found != "framed":
            return None
        return S3Error(
            f"{sample.key!r} read back from bucket {self._bucket!r} differs from "
            "the local file: the store does not understand the request checksums "
            "boto3 sends; set S3_REQUEST_CHECKSUMS = 'when_required' and upload "
            "again",
            operation="GetObject",
            bucket=self._bucket,
            key=sample.key,
        )


def _vanished(
    bucket: str, result: UploadResult, unrecorded: Exception | None
) -> UploadFailed | None:
    """A bucket deleted during the run took every object this run sent with
    it: the run says so, and counts none of them as stored."""
    gone = (
        isinstance(unrecorded, S3Error) and unrecorded.code == "NoSuchBucket"
    ) or any(failure.reason.startswith("NoSuchBucket") for failure in result.failed)
    if not gone:
        return None
    lost = [
        FailedUpload(key, "the bucket was deleted during the run")
        for key in (*result.uploaded, *result.fixed)
    ]
    failed = tuple(sorted([*result.failed, *lost], key=lambda f: f.key))
    emptied = attrs.evolve(
        result, uploaded=(), fixed=(), bytes_uploaded=0, failed=failed
    )
    return UploadFailed(
        emptied,
        f"bucket {bucket!r} was deleted during the run, so none of the "
        f"{len(failed)} files sent is stored; run the upload again to create it",
    )


def _files(count: int) -> str:
    return "1 file was" if count == 1 else f"{count} files were"


def _invalidate(
    prepared: Prepared,
    uploaded: list[str],
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
    recorder: Recorder,
    record: RunRecord,
    marked: Manifest,
    warnings: list[str],
) -> list[str]:
    """Delete what the settled record dropped. Keys that could not be deleted
    still exist, so they are claimed again for a later run."""
    doomed = sorted(record.deleting)
    failures = objects.delete(doomed)
    warnings.extend(
        f"could not delete {key} ({why}); the next pruning run tries again"
        for key, why in sorted(failures.items())
    )
    try:
        recorder.write(record.pruned(failures, marked=marked))
    except Exception as exc:
        warnings.append(
            f"the manifest could not be updated after pruning ({describe_error(exc)})"
            + (
                "; the undeleted keys are left in the bucket untracked"
                if failures
                else ""
            )
        )
    return [key for key in doomed if key not in failures]


def _record_interrupted(
    recorder: Recorder,
    record: RunRecord,
    arrived: Arrived,
) -> None:
    """Keep what did arrive before an interruption, so the next run resends less."""
    try:
        recorder.write(
            record.settled({item.key: answer for item, (_, answer) in arrived})
        )
    except Exception as exc:
        logger.warning(
            "the upload was interrupted and the manifest could not be updated (%s); "
            "the next run sends the interrupted files again",
            describe_error(exc),
        )
