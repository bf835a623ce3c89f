"""How many uploads to keep in flight when ``S3_UPLOAD_CONCURRENCY`` is unset.

A deploy of small files waits on round trips, so its time falls as 1/n with
n uploads in flight until the link or the store is busy; past that point more
only queues requests on a slow link. No fixed n is right for both a far
bucket and a slow uplink, so the ramp measures: it starts at `START`, and
after each window of uploads doubles n while the rate at which uploads end
rose by `GAIN` with the last doubling, up to `CAP`. Once a doubling did not
pay, it settles on the smaller n for the rest of the run. An explicit setting
pins n instead.

A doubling is not even tried where the window's uploads queued: where their
mean time in flight was `QUEUED` times the shortest any upload took, the
link or the store is already the bound (n in flight end at n over that mean,
Little's law), and a window at twice n would only lengthen the queue, on the
store too. Against moto at a 30 ms round trip, the uploads of the first
window at 32 stayed two to three times as long as the fastest.

The first window opens when the first upload ends, not when the first is
sent: the first round trip (connections opened, a store's first answer, the
pipe filling) belongs to no later window, and counted in the first it made n
look slow. Against a store that was already the bound, 32 in flight then
ended 201 uploads a second in its first window and 64 seemed to pay; the run
kept 64 for nothing but a longer queue at its end.

Pure: the caller passes the clock's readings, so the ramp is tested without
waiting.
"""

from __future__ import annotations

import math

import attrs

START = 32
"""What a hand-written uploader's pool runs from its first request: a ramp
from 16 gave away its first windows, and could settle on 16 where 32 was
still faster but short of the gain a doubling must show."""
CAP = 64
"""The most a default run keeps in flight, and what the client's connection
pool is sized for."""
GAIN = 1.25
"""How much faster uploads must end after a doubling for it to count."""
WINDOW = 2
"""A window is this many uploads per one in flight: long enough for each
connection to carry a second request, so a new connection's set-up does not
decide."""
QUEUED = 1.5
"""How much longer than the shortest an upload's mean time in flight may be
before the uploads count as queued: a far bucket's round trips vary, but
not by half."""


@attrs.frozen
class Ramp:
    limit: int
    """Uploads to keep in flight now."""
    cap: int
    settled: bool = False
    started: float | None = None
    """When this window started (the caller's clock); None until the first
    upload ended."""
    ended: int = 0
    """Uploads that ended in this window."""
    before: tuple[int, float] | None = None
    """The limit of the last window and the rate of uploads ending in it."""
    fastest: float = math.inf
    """The shortest time in flight of any upload so far: a round trip with
    nothing queued."""
    waited: float = 0.0
    """The times in flight of the uploads that ended in this window, summed."""

    @classmethod
    def pinned(cls, limit: int) -> Ramp:
        return cls(limit, limit, settled=True)

    @classmethod
    def starting(cls) -> Ramp:
        return cls(START, CAP)

    def upload_ended(self, now: float, took: float) -> Ramp:
        """The ramp after one more upload ended at ``now``, ``took`` seconds
        after it was sent."""
        if self.settled:
            return self
        fastest = min(self.fastest, took)
        if self.started is None:
            return attrs.evolve(self, started=now, fastest=fastest)
        ended, waited = self.ended + 1, self.waited + took
        if ended < WINDOW * self.limit:
            return attrs.evolve(self, ended=ended, waited=waited, fastest=fastest)
        rate = ended / max(now - self.started, 1e-9)
        if self.before is not None and rate < self.before[1] * GAIN:
            return Ramp.pinned(self.before[0])
        if self.limit >= self.cap or waited / ended > QUEUED * fastest:
            return Ramp.pinned(self.limit)
        return Ramp(
            min(2 * self.limit, self.cap),
            self.cap,
            started=now,
            before=(self.limit, rate),
            fastest=fastest,
        )
