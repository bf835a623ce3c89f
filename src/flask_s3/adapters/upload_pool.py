"""Running uploads concurrently without ever losing track of one that arrived.

Each worker records its own arrival, so no interrupt in the calling thread
(Ctrl-C lands there, between any two bytecodes) can lose the record of an
object that was sent: the caller then writes exactly what arrived.
"""

from __future__ import annotations

import contextlib
import queue
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from flask_s3.adapters.aws import describe_error
from flask_s3.core.upload_plan import PlannedAsset
from flask_s3.core.upload_ramp import Ramp
from flask_s3.core.upload_result import FailedUpload

OnDone = Callable[[PlannedAsset, bool], None]
"""Told of each upload as it ends, and whether it arrived (progress bars)."""
T = TypeVar("T")


def upload_all(
    send: Callable[[PlannedAsset], T],
    items: Sequence[PlannedAsset],
    concurrency: int | None,
    arrived: list[tuple[PlannedAsset, T]],
    failed: list[FailedUpload],
    on_done: OnDone | None,
    all_sent: Callable[[], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Send every item, filling ``arrived`` and ``failed`` as they end, with
    ``concurrency`` in flight, or as many as `Ramp` finds pays when it is
    None; ``all_sent`` is told once the last one has started. On an
    interrupt, or a KeyboardInterrupt raised inside an upload, queued
    uploads are cancelled, the running ones are waited for, and the
    interrupt goes on."""
    if not items:
        return
    ramp = Ramp.pinned(concurrency) if concurrency else Ramp.starting()
    ended: queue.SimpleQueue[Future[float]] = queue.SimpleQueue()

    def run(item: PlannedAsset) -> float:
        """The upload's time in flight, for the ramp: timed here, since the
        calling thread may see the upload end late."""
        sent = clock()
        answer = send(item)
        arrived.append((item, answer))
        return clock() - sent

    with ThreadPoolExecutor(max_workers=min(ramp.cap, len(items))) as pool:
        running: dict[Future[float], tuple[PlannedAsset, float]] = {}
        waiting = iter(items)
        try:
            while True:
                with _interrupts_deferred():
                    while len(running) < ramp.limit:
                        item = next(waiting, None)
                        if item is None:
                            if all_sent is not None:
                                all_sent()
                                all_sent = None
                            break
                        future = pool.submit(run, item)
                        running[future] = item, clock()
                        future.add_done_callback(ended.put)
                if not running:
                    return
                future = ended.get()
                item, queued = running.pop(future)
                now, error = clock(), future.exception()
                # A failed upload's own time is not known: it counts from when
                # it was queued.
                took = now - queued if error is not None else future.result()
                ramp = ramp.upload_ended(now, took)
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
