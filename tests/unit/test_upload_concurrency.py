"""How many uploads go at once: pinned by the setting, otherwise a ramp
from `START` that doubles while it pays and the uploads do not queue, never
past its cap. No timing: the ramp reads a clock the tests drive, and the pool
is checked by counting."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any, cast

import pytest

from flask_s3.adapters.aws import Credentials, make_s3_client
from flask_s3.adapters.upload_pool import upload_all
from flask_s3.core import resolve_settings
from flask_s3.core.upload_plan import PlannedAsset
from flask_s3.core.upload_ramp import CAP, GAIN, QUEUED, START, WINDOW, Ramp
from flask_s3.core.upload_result import FailedUpload


def _window(
    ramp: Ramp, seconds: float, at: float, took: float | None = None
) -> tuple[Ramp, float]:
    """One full window of uploads ending evenly over ``seconds`` from ``at``,
    each ``took`` seconds in flight: by default as long as the limit in
    flight at that rate means (Little's law)."""
    count = WINDOW * ramp.limit
    took = seconds / WINDOW if took is None else took
    for index in range(1, count + 1):
        ramp = ramp.upload_ended(at + seconds * index / count, took)
    return ramp, at + seconds


def _started(at: float = 0.0, took: float = 0.5) -> Ramp:
    """A ramp whose first upload ended ``at``, ``took`` seconds after it was
    sent: its first window opens then."""
    return Ramp.starting().upload_ended(at, took)


def test_the_ramp_doubles_while_it_pays_and_stops_at_the_cap() -> None:
    ramp, now = _started(), 0.0
    limits = [ramp.limit]
    while not ramp.settled:
        # Round trips decide: a window takes as long whatever the limit,
        # so twice as many in flight end twice as fast.
        ramp, now = _window(ramp, 1.0, now)
        limits.append(ramp.limit)
    doublings = [START]
    while doublings[-1] < CAP:
        doublings.append(min(2 * doublings[-1], CAP))
    assert limits == [*doublings, CAP]
    assert ramp.limit == CAP
    assert ramp.upload_ended(now + 1, 0.5) == ramp


def test_a_doubling_that_does_not_pay_settles_on_the_smaller_limit() -> None:
    ramp, now = _started(), 0.0
    ramp, now = _window(ramp, 1.0, now)
    assert ramp.limit == 2 * START
    # Twice as many in flight, but the link is full: the window takes
    # nearly twice as long, so uploads end barely faster.
    ramp, now = _window(ramp, 2.0 / (GAIN - 0.1), now)
    assert (ramp.limit, ramp.settled) == (START, True)


def test_a_window_counts_only_once_full() -> None:
    ramp = _started()
    for index in range(WINDOW * START - 1):
        ramp = ramp.upload_ended(float(index), 0.5)
    assert (ramp.limit, ramp.settled) == (START, False)


def test_the_first_round_trip_is_in_no_window() -> None:
    """Uploads end no faster with twice as many in flight (the store is the
    bound), but the first took long to end (new connections, a cold store):
    counted from the first upload sent, the first window looked slow and the
    doubling seemed to pay."""
    ramp, now = _window(_started(5.0, took=5.0), 1.0, 5.0)
    assert ramp.limit == 2 * START
    ramp, now = _window(ramp, 2.0, now)
    assert (ramp.limit, ramp.settled) == (START, True)


@pytest.mark.parametrize(("longer", "doubled"), [(0.9, True), (1.1, False)])
def test_uploads_that_queue_settle_the_ramp_without_a_doubling(
    longer: float, doubled: bool
) -> None:
    """The store (or the link) is the bound from the start: the uploads of
    the first window stay in flight `QUEUED` times as long as the fastest
    one, and twice as many would only queue longer. Round trips that vary
    by less are no queue."""
    fastest = 0.1
    ramp, _ = _window(_started(took=fastest), 1.0, 0.0, took=fastest * QUEUED * longer)
    assert (ramp.limit, ramp.settled) == (
        (2 * START, False) if doubled else (START, True)
    )


def test_a_pinned_number_never_moves() -> None:
    ramp = Ramp.pinned(5)
    for index in range(1000):
        ramp = ramp.upload_ended(index / 1e6, 1.0)
    assert ramp == Ramp.pinned(5)


class _Counting:
    """A send that counts the uploads in flight; with a barrier, each waits
    until that many are in flight together."""

    def __init__(self, together: int | None = None) -> None:
        self.lock = threading.Lock()
        self.in_flight = 0
        self.peak = 0
        self.barrier = threading.Barrier(together, timeout=30) if together else None

    def __call__(self, item: PlannedAsset) -> str:
        with self.lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        try:
            if self.barrier is not None:
                self.barrier.wait()
            return item.key
        finally:
            with self.lock:
                self.in_flight -= 1


def _items(count: int) -> list[PlannedAsset]:
    return [cast(PlannedAsset, SimpleNamespace(key=f"k{i}")) for i in range(count)]


def test_an_explicit_concurrency_is_what_goes_at_once() -> None:
    send = _Counting(together=4)
    arrived: list[tuple[PlannedAsset, str]] = []
    failed: list[FailedUpload] = []
    upload_all(send, _items(40), 4, arrived, failed, None)
    assert (send.peak, len(arrived), failed) == (4, 40, [])


def test_the_default_never_exceeds_the_cap_however_fast_uploads_end() -> None:
    # A clock that stands still: every window looks infinitely fast, the
    # strongest pull upwards there is.
    send = _Counting()
    arrived: list[tuple[PlannedAsset, str]] = []
    upload_all(send, _items(3000), None, arrived, [], None, clock=lambda: 0.0)
    assert send.peak <= CAP
    assert sorted(key for _, key in arrived) == sorted(f"k{i}" for i in range(3000))


def test_the_default_starts_at_the_ramps_first_step() -> None:
    send = _Counting(together=START)
    arrived: list[tuple[PlannedAsset, str]] = []
    upload_all(send, _items(START), None, arrived, [], None)
    assert send.peak == START


@pytest.mark.parametrize(
    ("setting", "pool"), [({}, CAP), ({"S3_UPLOAD_CONCURRENCY": 100}, 100)]
)
def test_the_connection_pool_holds_every_upload_that_may_be_in_flight(
    setting: dict[str, Any], pool: int
) -> None:
    settings = resolve_settings({"S3_REGION": "eu-west-1", **setting})
    client = make_s3_client(settings, Credentials("AKIDEXAMPLE", "secret", None))
    assert client.meta.config.max_pool_connections >= pool


def test_the_ramp_is_told_each_uploads_time_in_flight(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Measured around the send, in the worker that makes it: not from when
    the calling thread queued the upload or saw it end, which a busy
    interpreter delays. Here only the workers' clocks move."""
    local = threading.local()

    def clock() -> float:
        return float(getattr(local, "now", 0.0))

    def send(item: PlannedAsset) -> str:
        local.now = clock() + int(item.key[1:]) % 3 + 1
        return item.key

    told: list[float] = []
    upload_ended = Ramp.upload_ended

    def telling(ramp: Ramp, now: float, took: float) -> Ramp:
        told.append(took)
        return upload_ended(ramp, now, took)

    monkeypatch.setattr(Ramp, "upload_ended", telling)
    upload_all(send, _items(100), None, [], [], None, clock=clock)
    assert sorted(told) == sorted(float(i % 3 + 1) for i in range(100))
