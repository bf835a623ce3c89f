"""Benchmark the no-change deploy, the run most deploys are, against
``aws s3 sync --dryrun`` and Flask-S3 0.3.3, at 1,000 to 50,000 files.

A run that changes nothing still walks the folder, hashes every file, reads
the record of the bucket and plans; with many files its cost is client CPU
and memory, not round trips. So each contender runs as a process of its own
(start-up included, as in a deploy step) against a moto S3 server in another
process, through a loopback proxy without delay that counts the requests;
the figures are the child's user + system CPU, its wall time and its peak
RSS, and the server's CPU during the run says how much of the wall time was
the server's. Rounds interleave the contenders; figures are medians.

Every contender meets a bucket that already holds the files: ours finds its
manifest, 0.3.3 its ``.file-hashes`` (``FLASKS3_ONLY_MODIFIED``, so it
hashes and compares every file), and ``aws s3 sync --dryrun`` compares a
listing with the files' sizes and times. A run counts only if it sent no
asset.

Run from the repository root with ``python bench/no_change.py``; it uses
src/ of this checkout, exits with 1 when a goal is missed, and takes
``--sizes 1000,5000`` for a quick run. The venvs of 0.3.3 and the AWS CLI
are created under bench/.venvs/ on the first run (bench/_peers.py).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

# The proxy and free_port live in tests/support/, shared with the tests.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import CHILD, REPO
from _launcher import Launcher
from _moto import admin_client, moto_server, reset_moto
from _no_change_runs import CONTENDERS, Contenders, Run
from _peers import ensure_awscli, ensure_peer
from _provenance import checkout
from _tree import write_small_files
from tests.support.aws_env import offline_aws_env
from tests.support.loopback_proxy import LoopbackProxy

SIZES = (1_000, 5_000, 20_000, 50_000)
ROUNDS = {1_000: 5, 5_000: 5, 20_000: 3, 50_000: 2}
"""Interleaved rounds per size: few where one round takes minutes."""
BUCKET = "bench-no-change"
GOAL_SIZE = 20_000
RSS_SIZE = 50_000
MAX_CPU_VS_AWS = 0.5
MAX_CPU_VS_033 = 1.5
MAX_PEAK_RSS_MIB = 100.0


def seed_bucket(
    env: dict[str, str], moto: str, static: Path, legacy_hashes: bytes
) -> None:
    """The state after a deploy: every file and our manifest, written by our
    own upload straight to moto, and 0.3.3's record of the same files."""
    reset_moto(moto)
    admin = admin_client(moto)
    admin.create_bucket(Bucket=BUCKET)
    done = subprocess.run(
        [sys.executable, "-s", str(CHILD), "ours", str(static), BUCKET, moto],
        env={**env, "PYTHONPATH": str(REPO / "src")},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"the first upload failed:\n{done.stderr}")
    admin.put_object(Bucket=BUCKET, Key=".file-hashes", Body=legacy_hashes)


def legacy_hashes(static: Path) -> bytes:
    """0.3.3's ``.file-hashes``: each key, with a leading slash, and the SHA-1
    of the file's bytes."""
    import hashlib
    import json

    hashes = {
        f"/static/{path.relative_to(static).as_posix()}": hashlib.sha1(
            path.read_bytes()
        ).hexdigest()
        for path in static.rglob("*")
        if path.is_file()
    }
    return json.dumps(hashes).encode()


def median(runs: list[Run], pick: str) -> float:
    return statistics.median(getattr(run, pick) for run in runs)


def print_table(title: str, names: Sequence[str], runs: dict[str, list[Run]]) -> None:
    """Each contender's medians, under ``title``."""
    print(f"\n{title}, medians of {len(runs['ours'])} rounds")
    print(
        f"  {'contender':<13} {'CPU s':>7} {'wall s':>7} {'peak RSS MiB':>13} "
        f"{'server CPU s':>13} {'requests':>9}"
    )
    for contender in names:
        done = runs[contender]
        server = [run.server_cpu for run in done if run.server_cpu is not None]
        print(
            f"  {contender:<13} {median(done, 'cpu'):7.2f} {median(done, 'wall'):7.2f} "
            f"{median(done, 'peak_rss_mib'):13.1f} "
            f"{statistics.median(server) if server else float('nan'):13.2f} "
            f"{median(done, 'requests'):9.0f}"
        )


def print_size(files: int, runs: dict[str, list[Run]]) -> None:
    print_table(f"{files:,} files", CONTENDERS, runs)
    ours = median(runs["ours"], "cpu")
    print(
        f"  ours: {ours / median(runs['aws --dryrun'], 'cpu'):.2f}x the CPU of aws "
        f"--dryrun, {ours / median(runs['0.3.3'], 'cpu'):.2f}x 0.3.3's"
    )


def goals(results: dict[int, dict[str, list[Run]]]) -> list[bool]:
    rows: list[tuple[str, float, str, bool]] = []
    if GOAL_SIZE in results:
        runs = results[GOAL_SIZE]
        ours = median(runs["ours"], "cpu")
        vs_aws = ours / median(runs["aws --dryrun"], "cpu")
        vs_033 = ours / median(runs["0.3.3"], "cpu")
        rows.append(
            (
                f"CPU at {GOAL_SIZE:,}: ours / aws --dryrun",
                vs_aws,
                f"<= {MAX_CPU_VS_AWS}",
                vs_aws <= MAX_CPU_VS_AWS,
            )
        )
        rows.append(
            (
                f"CPU at {GOAL_SIZE:,}: ours / 0.3.3",
                vs_033,
                f"<= {MAX_CPU_VS_033}",
                vs_033 <= MAX_CPU_VS_033,
            )
        )
    if RSS_SIZE in results:
        runs = results[RSS_SIZE]
        vs_033 = median(runs["ours"], "cpu") / median(runs["0.3.3"], "cpu")
        print(
            f"\n  (shown, not a goal: CPU at {RSS_SIZE:,}, ours / 0.3.3 = "
            f"{vs_033:.2f}x)"
        )
        peak = median(runs["ours"], "peak_rss_mib")
        rows.append(
            (
                f"peak RSS at {RSS_SIZE:,} (aws: "
                f"{median(runs['aws --dryrun'], 'peak_rss_mib'):.0f} MiB)",
                peak,
                f"<= {MAX_PEAK_RSS_MIB:.0f} MiB",
                peak <= MAX_PEAK_RSS_MIB,
            )
        )
    print("\nGoals")
    if not rows:
        print(f"  none at these sizes (they are at {GOAL_SIZE:,} and {RSS_SIZE:,})")
    for label, value, goal, passed in rows:
        print(f"  {label:<44} {value:7.2f}  {goal:<11} {'PASS' if passed else 'MISS'}")
    return [passed for *_, passed in rows]


def sizes_option(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--sizes takes numbers separated by commas, not {text!r}"
        ) from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"--sizes must be positive, not {text!r}")
    return sizes


def add_sizes_option(parser: argparse.ArgumentParser, default: Sequence[int]) -> None:
    """``--sizes``, the numbers of files to measure at."""
    parser.add_argument(
        "--sizes",
        type=sizes_option,
        default=default,
        metavar="N,N,...",
        help=f"numbers of files (default: {','.join(map(str, default))})",
    )


def measure(
    sizes: Sequence[int],
    rounds: Callable[[int], int],
    names: Sequence[str],
    *,
    before_each: Callable[[Path], None] | None = None,
    changed: int = 0,
) -> dict[int, dict[str, list[Run]]]:
    """Interleaved rounds of each contender at each size, on a bucket that
    holds the files (`seed_bucket`); ``before_each`` is called with the
    static folder before every run, which must send ``changed`` files."""
    launcher = Launcher()  # first, while this process is small
    peer_python = ensure_peer()
    aws = ensure_awscli()
    results: dict[int, dict[str, list[Run]]] = {}
    with tempfile.TemporaryDirectory(prefix="flask-s3-bench-") as tmp:
        scratch = Path(tmp)
        # Fake keys, no ~/.aws, no PYTHONPATH: only the loopback moto is reachable.
        env = offline_aws_env(scratch / "aws-empty", "testing", "testing")
        os.environ.clear()
        os.environ.update(env)
        with (
            moto_server(env) as (moto, moto_pid),
            LoopbackProxy(moto, max_requests=1_000_000) as proxy,
        ):
            contenders = Contenders(
                env, moto_pid, proxy, peer_python, aws, launcher, scratch
            )
            for files in sizes:
                static = scratch / f"app-{files}" / "static"
                write_small_files(static, files)
                seed_bucket(env, moto, static, legacy_hashes(static))
                runs: dict[str, list[Run]] = {name: [] for name in names}
                order = list(names)
                for _ in range(rounds(files)):
                    for contender in order:
                        if before_each is not None:
                            before_each(static)
                        runs[contender].append(
                            contenders.run(contender, static, BUCKET, files, changed)
                        )
                    order.append(order.pop(0))
                results[files] = runs
                print(f"({files:,} files done)", file=sys.stderr)
    launcher.close()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_sizes_option(parser, SIZES)
    parser.add_argument(
        "--rounds",
        type=int,
        metavar="N",
        help="rounds at every size (default: 5, 3 at 20,000, 2 at 50,000)",
    )
    options = parser.parse_args()
    if options.rounds is not None and options.rounds < 1:
        parser.error("--rounds must be at least 1")
    load = os.getloadavg()
    started = time.perf_counter()
    results = measure(
        options.sizes, lambda files: options.rounds or ROUNDS.get(files, 3), CONTENDERS
    )
    print("No-change deploy benchmark")
    print(
        "  small files (512 B to 4 KiB) 100 to a folder; each contender a "
        "subprocess (start-up included)\n  against a moto S3 server in its own "
        "process, through a loopback proxy without delay;\n  CPU = the child's "
        "user + system time, peak RSS = its ru_maxrss, server CPU = moto's "
        f"during the run.\n  {os.cpu_count()} CPUs; load average before: "
        f"{load[0]:.2f}, after: {os.getloadavg()[0]:.2f} (other work skews the "
        f"figures); {time.perf_counter() - started:.0f} s in all"
    )
    print(f"  ours: src/flask_s3 at {checkout(REPO)}, Python {sys.version.split()[0]}")
    print(
        "  Each contender is started by a small launcher process, so its peak "
        "RSS is its own\n  (Linux carries the peak of the process that forks "
        "into the child's)."
    )
    for files, runs in results.items():
        print_size(files, runs)
    passed = goals(results)
    missed = passed.count(False)
    print(f"\n{len(passed) - missed}/{len(passed)} goals met")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
