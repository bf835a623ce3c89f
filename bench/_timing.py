"""The timing harness shared by the url_for benchmark and its 0.3.3 peer process.

A cross-process comparison is only fair when both processes measure the same
way, and the peer must not import the benchmark (that would import our
``flask_s3`` next to 0.3.3's), so the harness lives here and imports nothing
but the standard library.
"""

from __future__ import annotations

import contextlib
import timeit
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass

REPEAT = 7
"""Runs per case; reports use the best and the median."""
TARGET_SECONDS = 0.1
"""Length of one run: long enough to drown the clock's resolution, short
enough that the whole benchmark stays well under two minutes."""


@dataclass(frozen=True)
class Case:
    """A call to time, and the context (a Flask request) it must run inside;
    the context is entered outside the timed loop."""

    func: Callable[[], object]
    context: Callable[[], AbstractContextManager[object]] = contextlib.nullcontext


def _calls_per_run(timer: timeit.Timer, target: float) -> int:
    number = 1
    while (elapsed := timer.timeit(number)) < target / 10:
        number *= 10
    return max(1, round(number * target / elapsed))


def seconds_per_call(
    cases: Mapping[str, Case],
    *,
    repeat: int = REPEAT,
    target: float = TARGET_SECONDS,
) -> dict[str, list[float]]:
    """Seconds per call of each case, in each of ``repeat`` rounds.

    A round runs every case once, so a burst of load from elsewhere on the
    machine slows one run of many cases instead of every run of one case, and
    the best runs of a case and of its baseline stay comparable. The
    calibration calls double as the warm-up, so caches (our LRU of URLs,
    Werkzeug's compiled builders) are in the steady state of a server that has
    rendered the page before.
    """
    timers = {name: timeit.Timer(case.func) for name, case in cases.items()}
    numbers: dict[str, int] = {}
    for name, case in cases.items():
        with case.context():
            numbers[name] = _calls_per_run(timers[name], target)
    results: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeat):
        for name, case in cases.items():
            with case.context():
                total = timers[name].timeit(numbers[name])
            results[name].append(total / numbers[name])
    return results
