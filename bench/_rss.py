"""Peak memory of our create_all on one 512 MiB asset: an upload must stream
from disk, not hold whole files in memory. Sent straight to moto, since the
proxy reads each body whole and latency has nothing to do with memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _common import CHILD, REPO, expect
from _moto import reset_moto

BIG_FILE = 512 * 1024 * 1024


def big_file_rss(env: dict[str, str], moto: str, scratch: Path) -> dict[str, Any]:
    """Our create_all on one 512 MiB random asset, straight to moto."""
    static = scratch / "big" / "static"
    static.mkdir(parents=True)
    path = static / "big.bin"
    started = time.perf_counter()
    try:
        with path.open("wb") as stream:
            for _ in range(BIG_FILE // (1 << 20)):
                stream.write(os.urandom(1 << 20))
        written = time.perf_counter()
        reset_moto(moto)
        done = subprocess.run(
            [sys.executable, "-s", str(CHILD), "ours", str(static), "bench-big", moto],
            env={**env, "PYTHONPATH": str(REPO / "src")},
            capture_output=True,
            text=True,
            check=False,
        )
        uploaded = time.perf_counter()
    finally:
        path.unlink(missing_ok=True)
        reset_moto(moto)
    if done.returncode != 0:
        raise SystemExit(f"the 512 MiB upload failed:\n{done.stderr}")
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    expect(
        report["uploaded"] == 1 and report["bytes_uploaded"] == BIG_FILE,
        f"the 512 MiB upload reported {report}",
    )
    report["write_seconds"] = written - started
    report["wall_seconds"] = uploaded - written
    return report
