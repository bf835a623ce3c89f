"""Benchmark ``flask_s3.create_all`` against Flask-S3 0.3.3, ``aws s3 sync`` and
plain boto3 loops of 16 and 32 threads, over a link with a real round trip, in
one run.

A deploy uploads many small files, so its time goes in round trips, not in
bandwidth: on loopback every uploader looks instant and the comparison says
nothing. Here every contender talks to a moto S3 server through a loopback
proxy that delays each direction by 15 ms (30 ms per round trip; ``--rtt``
sets another), and the proxy counts and times the requests each contender
sends, which is where a slow run is explained. On a few cores moto's CPU, not
the link, bounds the PUTs at 30 ms; a longer round trip shows the other case.
A deploy also starts a fresh interpreter, so every contender runs as a process
of its own and its start-up is part of its time; 0.3.3 must run in its own
venv anyway, since it imports as ``flask_s3`` like us. The no-change re-run is
what most deploys are, so it is timed on its own. Finally, a single 512 MiB
asset, sent straight to moto, checks that an upload streams instead of holding
whole files in memory.

The venvs for 0.3.3 and the AWS CLI are created with pip on the first run under
bench/.venvs/. Run from the repository root with ``python bench/upload.py``; it
uses src/ of this checkout and exits with 1 when a goal is missed.

This file only wires the parts together: the moto server (_moto.py), the
peers' venvs (_peers.py), the files (_tree.py), the runs and their checks
(_runner.py, _traffic.py), the big upload (_rss.py), the profile (_profile.py)
and the figures with their goals (_report.py). The proxy, the environment and
free_port are the ones the tests use, from tests/support/.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

# The proxy and free_port live in tests/support/, shared with the tests.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _moto import admin_client, moto_server
from _peers import ensure_awscli, ensure_peer
from _profile import profile_ours
from _report import print_report, print_rss, print_setup
from _rss import big_file_rss
from _runner import CONTENDERS, Bench
from _tree import FILES, write_static_tree
from tests.support.aws_env import offline_aws_env
from tests.support.loopback_proxy import LoopbackProxy

RTT_MS = 30.0
"""The round trip the goals are set at."""


def max_requests_per_round(files: int) -> int:
    """A round of all contenders sends five PUTs per file (three cold
    uploads that keep their re-run, two plain loops) and a few dozen other
    requests; the bound only stops a runaway client."""
    return 6 * files + 500


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, metavar="N")
    parser.add_argument(
        "--files",
        type=int,
        default=FILES,
        metavar="N",
        help=f"files in the cold upload (default {FILES}; fewer for a quick run)",
    )
    parser.add_argument("--skip-rss", action="store_true")
    parser.add_argument(
        "--rtt",
        type=float,
        default=RTT_MS,
        metavar="MS",
        help=f"the proxy's round trip (default {RTT_MS:.0f}, what the goals are "
        "set at; a longer one shows where the link, not moto, is the bound)",
    )
    parser.add_argument(
        "--without",
        action="append",
        default=[],
        choices=[name for name in CONTENDERS if name != "ours"],
        metavar="NAME",
        help="leave a peer out (0.3.3 sends one request at a time, so its runs "
        "grow with --rtt); its goals are then not run",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also print a cProfile of our cold run and re-run (not timed)",
    )
    options = parser.parse_args()
    if options.repeats < 1:
        parser.error("--repeats must be at least 1")
    if options.files < 10:
        parser.error("--files must be at least 10")
    if options.rtt < 0:
        parser.error("--rtt must not be negative")
    one_way = options.rtt / 2000
    peer_python = ensure_peer()
    aws = ensure_awscli()
    load = os.getloadavg()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="flask-s3-bench-") as tmp:
        scratch = Path(tmp)
        # Fake keys, no ~/.aws, no PYTHONPATH: only the loopback moto is reachable.
        env = offline_aws_env(scratch / "aws-empty", "testing", "testing")
        # boto3 in this process (the admin client) must not read ~/.aws either.
        os.environ.clear()
        os.environ.update(env)
        static = scratch / "app" / "static"
        write_static_tree(static, options.files)
        with moto_server(env) as (moto, moto_pid):
            with LoopbackProxy(
                moto,
                one_way=one_way,
                max_requests=max_requests_per_round(options.files)
                * (options.repeats + 1),
            ) as proxy:
                bench = Bench(
                    env,
                    moto,
                    moto_pid,
                    proxy,
                    static,
                    options.files,
                    peer_python,
                    aws,
                    admin_client(moto),
                )
                order = [name for name in CONTENDERS if name not in options.without]
                for round_number in range(options.repeats):
                    for contender in order:
                        bench.measure(contender, round_number)
                    order.append(order.pop(0))
                timed = time.perf_counter() - started
                profile = profile_ours(bench, scratch) if options.profile else ""
            rss = None if options.skip_rss else big_file_rss(env, moto, scratch)

    print_setup(bench, one_way, load)
    results = print_report(bench, options.repeats)
    print(
        f"\nTimed runs took {timed:.0f} s; load average after them: "
        f"{os.getloadavg()[0]:.2f}."
    )
    if rss is not None:
        results.append(print_rss(rss))
    print(profile, end="")
    missed = results.count(False)
    at = (
        ""
        if options.rtt == RTT_MS
        else f" at a {options.rtt:g} ms round trip (they are set at {RTT_MS:g} ms)"
    )
    print(f"\n{len(results) - missed}/{len(results)} goals met{at}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
