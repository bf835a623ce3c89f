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

What the pause allocated is still young when it ends, and the first
collections after it would walk all of it twice (22 ms at 2,000 files, on
the way to the first upload), only to find it alive: it lives until the run
ends. So it is moved to the oldest generation at once, unwalked, where that
move is free (`promotes_for_free`).
"""

from __future__ import annotations

import contextlib
import gc
import sys
import sysconfig
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
            _promote_young()
            gc.enable()


def _promote_young() -> None:
    """Every tracked object to the oldest generation: a freeze undone at
    once, which moves them without a walk. Other threads' young objects go
    too, and their cycles wait for the next full collection: the price of a
    move that costs nothing. Not where the app froze objects itself (a
    pre-fork server): undoing the freeze would thaw those too."""
    if promotes_for_free() and gc.get_freeze_count() == 0:
        gc.freeze()
        gc.unfreeze()


def promotes_for_free() -> bool:
    """A freeze splices the generations' lists up to 3.13; the incremental
    collector of 3.14 and the free-threaded one touch every object to freeze
    it, a walk of its own, so there the collector is left to its work."""
    return sys.version_info < (3, 14) and not sysconfig.get_config_var(
        "Py_GIL_DISABLED"
    )
