"""Python's cyclic garbage collector, paused while a run builds its plan.

Walking, hashing, reading the manifest and planning allocate a few objects
per file, none of which form cycles, and many live until the plan is carried
out (the manifest's entries, the files to send; in a preview, every file).
Allocations trigger the collector, and each full collection walks every one
of them again: with 20,000 files that was 6% of a no-change run's CPU, and
more as sites grow. Building the plan takes seconds, so it runs paused; the
uploads do not, since their HTTP machinery leaves cycles behind and can take
long.

The deploy service's own import runs paused too. It imports boto3 (where
nothing did yet) and builds dozens of classes (attrs generates each one's
methods, and replaces it with a slotted copy), in a process that already
holds Flask; the full collections those allocations set off walked all of
it, about 50 ms of a deploy's start on the way to its first request, to
free a few hundred objects.

What the pause allocated is left young when it ends. Moving it to the
oldest generation (free up to 3.13: a freeze undone at once) would spare
the collections after the pause 22 ms at 2,000 files, but the run's cyclic
garbage would move with it (a boto3 client, with its session and service
models, about 12 MB) and wait there for a full collection, which the move
brings no closer: a process that deployed forty times held forty clients.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the collector for the block, and resume it afterwards only if
    it ran before: an app that turned it off keeps it off. Two runs in
    threads of one process end with it resumed, whichever ends first."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
