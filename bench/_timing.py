"""The timing harness shared by the url_for benchmark and its 0.3.3 peer process.

A cross-process comparison is only fair when both processes measure the same
way, and the peer must not import the benchmark (that would import our
``flask_s3`` next to 0.3.3's), so the harness lives here and imports nothing
but the standard library.
"""

from __future__ import annotations

import timeit
from collections.abc import Callable

REPEAT = 7
"""Independent runs per measurement; reports use the best and the median."""
TARGET_SECONDS = 0.1
"""Length of one run: long enough to drown the clock's resolution, short
enough that the whole benchmark stays well under two minutes."""


def seconds_per_call(
    func: Callable[[], object],
    *,
    repeat: int = REPEAT,
    target: float = TARGET_SECONDS,
) -> list[float]:
    """Seconds per call of ``func`` in each of ``repeat`` runs.

    The calibration calls double as the warm-up, so caches (our LRU of URLs,
    Werkzeug's compiled builders) are in their steady state, as in a server
    that has rendered the page before.
    """
    timer = timeit.Timer(func)
    number = 1
    while (elapsed := timer.timeit(number)) < target / 10:
        number *= 10
    number = max(1, round(number * target / elapsed))
    return [total / number for total in timer.repeat(repeat=repeat, number=number)]
