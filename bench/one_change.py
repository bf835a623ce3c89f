"""Benchmark the deploy after one file changed, the run most uploading
deploys are, against ``aws s3 sync`` and Flask-S3 0.3.3, at 5,000 and 20,000
files.

Like the no-change run, it walks, hashes and plans every file; then it sends
the one file and records it, where ours writes its manifest twice (the marks,
then what arrived) and reads it around those writes. So it shows what the
record of a big site costs a deploy. The set-up is bench/no_change.py's: each
contender a process of its own against a moto S3 server in another process,
through a loopback proxy without delay, on a bucket that holds the files, our
manifest and 0.3.3's ``.file-hashes``. Before each run one file gets new
bytes of the same size (and a newer time, which is what ``aws s3 sync``
compares), so every contender has exactly one file to send. Rounds interleave
the contenders; figures are medians. No goals: the figures are shown.

Run from the repository root with ``python bench/one_change.py``; it takes
``--sizes 5000`` and ``--rounds N`` for a quick run.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

# The proxy and free_port live in tests/support/, shared with the tests.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import REPO
from _no_change_runs import AWS_SYNC, Run
from _provenance import checkout
from no_change import add_sizes_option, measure, median, print_table

CONTENDERS = ("ours", AWS_SYNC, "0.3.3")
SIZES = (5_000, 20_000)
ROUNDS = 3


def touch_one(static: Path) -> None:
    """New bytes of the same size for one file, and a time after its upload."""
    changed = min(static.rglob("asset-00000.*"))
    changed.write_bytes(os.urandom(changed.stat().st_size))


def print_size(files: int, runs: dict[str, list[Run]]) -> None:
    print_table(f"{files:,} files, one changed", CONTENDERS, runs)
    for pick, what in (("wall", "wall time"), ("cpu", "CPU")):
        ours = median(runs["ours"], pick)
        print(
            f"  ours: {ours / median(runs[AWS_SYNC], pick):.2f}x the {what} of "
            f"aws s3 sync, {ours / median(runs['0.3.3'], pick):.2f}x 0.3.3's"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_sizes_option(parser, SIZES)
    parser.add_argument(
        "--rounds", type=int, default=ROUNDS, metavar="N", help="(default: 3)"
    )
    options = parser.parse_args()
    if options.rounds < 1:
        parser.error("--rounds must be at least 1")
    load = os.getloadavg()
    started = time.perf_counter()
    results = measure(
        options.sizes,
        lambda _: options.rounds,
        CONTENDERS,
        before_each=touch_one,
        changed=1,
    )
    print("One-change deploy benchmark")
    print(
        "  small files (512 B to 4 KiB) 100 to a folder, one of them changed "
        "before each run;\n  each contender a subprocess (start-up included) "
        "against a moto S3 server in its own\n  process, through a loopback "
        "proxy without delay; CPU = the child's user + system\n  time, peak "
        "RSS = its ru_maxrss, server CPU = moto's during the run.\n  "
        f"{os.cpu_count()} CPUs; load average before: {load[0]:.2f}, after: "
        f"{os.getloadavg()[0]:.2f}; {time.perf_counter() - started:.0f} s in all"
    )
    print(f"  ours: src/flask_s3 at {checkout(REPO)}, Python {sys.version.split()[0]}")
    for files, runs in results.items():
        print_size(files, runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
