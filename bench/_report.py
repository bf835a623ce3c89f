"""The figures, and the goals they are held to.

Every figure is a median of wall-clock times, since a deploy is waited for;
the ratios against the peers are the goals, because absolute seconds depend on
the machine and the ratios much less.
"""

from __future__ import annotations

import os
import statistics
import sys
from collections.abc import Callable
from functools import partial
from typing import Any

from _common import REPO
from _peers import AWSCLI_VENV, PEER_VENV, venv_python, version_in
from _provenance import checkout
from _runner import Bench, Run
from _tree import FILE_SIZE

MAX_RATIO_VS_SYNC = 1.0
MAX_RATIO_VS_PLAIN = 1.0
"""Against the 32-thread loop: at 30 ms a round trip, 16 threads leave the
link idle, so beating that loop says little."""
MIN_SPEEDUP_VS_033 = 8.0
MAX_PEAK_RSS_MIB = 150


def median(runs: list[Run], pick: Callable[[Run], float | None]) -> float | None:
    values = [value for value in map(pick, runs) if value is not None]
    return statistics.median(values) if values else None


def seconds(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def print_setup(bench: Bench, one_way: float, load: tuple[float, float, float]) -> None:
    versions = bench.peer_versions
    print("flask_s3.create_all upload benchmark")
    print(
        f"  {bench.files} files of {FILE_SIZE // 1024} KiB (.css/.js/.png, random "
        "bytes) in 6 folders; moto S3 server in its own process behind a\n"
        f"  loopback proxy adding {one_way * 1000:.0f} ms each way "
        f"  ({2 * one_way * 1000:.0f} ms per request, twice that for a PUT "
        "with Expect: 100-continue; connecting is free, as\n  with keep-alive); "
        "a fresh bucket for every cold run, created beforehand for all; "
        f"{os.cpu_count()} CPUs shared by moto,\n  the proxy and the contender. "
        "Every contender is a subprocess: start-up is part of its cost."
    )
    print(
        f"  load average before the runs: {load[0]:.2f} (other work on the machine "
        "skews the figures)"
    )
    print(f"  ours : src/flask_s3 at {checkout(REPO)}, Python {sys.version.split()[0]}")
    if "0.3.3" in bench.measured:
        print(
            f"  0.3.3: Flask-S3 {versions.get('flask-s3')} in "
            f"{PEER_VENV.relative_to(REPO)} (boto3 {versions.get('boto3')}, endpoint "
            "from AWS_ENDPOINT_URL_S3), sequential put_object"
        )
    if "aws s3 sync" in bench.measured:
        print(
            f"  aws  : awscli {version_in(venv_python(AWSCLI_VENV), 'awscli')} in "
            f"{AWSCLI_VENV.relative_to(REPO)}, `aws s3 sync` with its default 10 "
            "threads"
        )
    print(
        "  plain: boto3 put_object of each file's bytes, ThreadPoolExecutor(N), "
        "one client with max_pool_connections=N,\n         N = 16 and 32"
    )
    print("  ours : default settings but S3_ONLY_MODIFIED (for the re-run)")


def print_report(bench: Bench, repeats: int) -> list[bool]:
    """The timings and the goals on them; whether each goal was met."""
    print(
        f"\nSeconds, median of {repeats} runs. wall = the whole subprocess, "
        "interpreter start-up and imports included\n(every contender pays them); "
        "in-proc = create_all / the upload loop alone, as the child timed it."
    )
    print(
        f"  {'contender':<17} {'cold wall':>10} {'in-proc':>8}   "
        f"{'re-run wall':>11} {'in-proc':>8}   cold runs / re-run runs"
    )
    for contender in bench.measured:
        cold = bench.runs[(contender, "cold")]
        rerun = bench.runs.get((contender, "re-run"), [])
        spread = " ".join(f"{run.wall:.2f}" for run in cold)
        spread += " / " + (" ".join(f"{run.wall:.2f}" for run in rerun) or "n/a")
        print(
            f"  {contender:<17} {seconds(median(cold, lambda r: r.wall)):>10} "
            f"{seconds(median(cold, lambda r: r.inside)):>8}   "
            f"{seconds(median(rerun, lambda r: r.wall)):>11} "
            f"{seconds(median(rerun, lambda r: r.inside)):>8}   {spread}"
        )
    print(f"  {'':<17} (plain loops: no skip logic, so no re-run)")

    def wall(contender: str, phase: str) -> float:
        value = median(bench.runs[(contender, phase)], lambda r: r.wall)
        assert value is not None
        return value

    ours_cold, ours_rerun = wall("ours", "cold"), wall("ours", "re-run")
    goals = [
        ("cold: ours / aws s3 sync", "aws s3 sync", "cold", MAX_RATIO_VS_SYNC),
        ("cold: ours / plain boto3 x32", "plain boto3 x32", "cold", MAX_RATIO_VS_PLAIN),
        ("cold: 0.3.3 / ours", "0.3.3", "cold", MIN_SPEEDUP_VS_033),
        ("re-run: ours / aws s3 sync", "aws s3 sync", "re-run", MAX_RATIO_VS_SYNC),
    ]
    results: list[bool] = []
    print("\nGoals, on the median wall-clock times")
    for label, peer, phase, bound in goals:
        if peer not in bench.measured:
            print(f"  {label:<30} {'':>7}  {'':<8} NOT RUN")
            continue
        ours = ours_cold if phase == "cold" else ours_rerun
        if peer == "0.3.3":  # a speed-up, the peer's time over ours
            ratio, goal = wall(peer, phase) / ours, f">= {bound:.2f}"
            passed = ratio >= bound
        else:
            ratio, goal = ours / wall(peer, phase), f"<= {bound:.2f}"
            passed = ratio <= bound
        print(f"  {label:<30} {ratio:6.2f}x  {goal:<8} {'PASS' if passed else 'MISS'}")
        results.append(passed)
    if {"plain boto3 x16", "plain boto3 x32"} <= set(bench.measured):
        x16, x32 = wall("plain boto3 x16", "cold"), wall("plain boto3 x32", "cold")
        print(
            "  (for scale, not goals: ours / plain boto3 x16 = "
            f"{ours_cold / x16:.2f}x, plain boto3 x16 / x32 = {x16 / x32:.2f}x)"
        )
    print_traffic(bench)
    print_cpu(bench)
    return results


def print_traffic(bench: Bench) -> None:
    print(
        "\nRequests through the proxy in the median run of each, with the times "
        "their heads\narrived, in seconds since the process was started"
    )
    for contender in bench.measured:
        for phase in ("cold", "re-run"):
            runs = bench.runs.get((contender, phase))
            if not runs:
                continue
            run = sorted(runs, key=lambda r: r.wall)[len(runs) // 2]
            traffic = run.traffic
            kinds = ", ".join(
                f"{count} {kind}" for kind, count in sorted(traffic.requests.items())
            )
            print(
                f"  {contender:<17} {phase:<7} {traffic.connections:>3} connections, "
                f"{traffic.total:>3} requests: {kinds}"
            )
            if traffic.asset_puts:
                print(
                    f"  {'':<25} first asset PUT at {traffic.asset_puts[0]:.3f}, last "
                    f"at {traffic.asset_puts[-1]:.3f}, process done at {run.wall:.3f}"
                )
            before, after = traffic.around_assets()
            label = "before the first asset PUT" if traffic.asset_puts else "at"
            if before:
                print(f"  {'':<25} {label}: {', '.join(before)}")
            if after:
                print(f"  {'':<25} after the last: {', '.join(after)}")


def cpu_of(name: str, run: Run) -> float | None:
    return run.cpu[name]


def print_cpu(bench: Bench) -> None:
    """Who was busy: on a few cores, moto and the proxy compete with the
    contender, and a run that used them all was not waiting on the network."""
    cpus = os.cpu_count() or 1
    print(
        f"\nCPU seconds during the cold runs (medians), against wall x {cpus} CPUs; "
        "moto's comes from /proc"
    )
    print(
        f"  {'contender':<17} {'contender':>9} {'moto':>6} {'proxy':>6} "
        f"{'sum':>6}   {'wall x CPUs':>11}"
    )
    for contender in bench.measured:
        runs = bench.runs[(contender, "cold")]
        parts = {
            name: median(runs, partial(cpu_of, name))
            for name in ("contender", "moto", "proxy")
        }
        total = sum(value or 0.0 for value in parts.values())
        capacity = (median(runs, lambda r: r.wall) or 0.0) * cpus
        print(
            f"  {contender:<17} {seconds(parts['contender']):>9} "
            f"{seconds(parts['moto']):>6} {seconds(parts['proxy']):>6} "
            f"{total:6.2f}   {capacity:11.2f}"
        )


def print_rss(report: dict[str, Any]) -> bool:
    """The peak memory of the 512 MiB upload, and whether it met its goal."""
    peak = float(report["peak_rss_kib"]) / 1024
    before = float(report["peak_rss_before_kib"]) / 1024
    passed = peak < MAX_PEAK_RSS_MIB
    print(
        "\nPeak RSS of our create_all uploading one 512 MiB random asset, straight "
        "to moto (no proxy)"
    )
    print(
        f"  peak RSS of the child {peak:7.1f} MiB  (after imports, before "
        f"create_all: {before:.1f} MiB)  goal < {MAX_PEAK_RSS_MIB} MiB  "
        f"{'PASS' if passed else 'MISS'}"
    )
    print(
        f"  ru_maxrss of the uploading process only; the moto server's RSS is NOT "
        f"included. Upload took {report['wall_seconds']:.1f} s wall "
        f"(create_all {report['create_all_seconds']:.1f} s); writing the file "
        f"{report['write_seconds']:.1f} s"
    )
    return passed
