"""A cProfile of our create_all, for when a figure needs explaining; taken
outside the timed runs, since profiling slows what it watches."""

from __future__ import annotations

import pstats
import subprocess
from io import StringIO
from pathlib import Path

from _moto import reset_moto
from _runner import Bench


def profile_ours(bench: Bench, scratch: Path) -> str:
    """cProfile of our cold run and re-run; only the calling thread is
    profiled, so the upload workers show as waiting."""
    bucket = "bench-profile"
    reset_moto(bench.moto)
    bench.admin.create_bucket(Bucket=bucket)
    report = StringIO()
    for phase in ("cold", "re-run"):
        path = scratch / f"ours-{phase.replace('-', '')}.prof"
        command, env = bench.command("ours", bucket)
        subprocess.run(
            command,
            env={**env, "BENCH_PROFILE": str(path)},
            check=True,
            text=True,
            capture_output=True,
        )
        print(f"\ncProfile of our create_all, {phase}:", file=report)
        stats = pstats.Stats(str(path), stream=report)
        stats.sort_stats("cumulative").print_stats(r"flask_s3[/\\]", 25)
    return report.getvalue()
