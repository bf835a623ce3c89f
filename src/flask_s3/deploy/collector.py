"""Python's cyclic garbage collector, paused while a run builds its plan.

Walking, hashing, reading the manifest and planning allocate a few objects
per file, none of which form cycles, and many live until the plan is carried
out (the manifest's entries, the files to send; in a preview, every file).
Allocations trigger the collector, and each full collection walks every one
of them again: with 20,000 files that was 6% of a no-change run's CPU, and
more as sites grow. Building the plan takes seconds, so it runs paused; the
uploads do not, since their HTTP machinery leaves cycles behind and can take
long.
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
