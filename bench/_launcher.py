"""Starts the contenders of bench/no_change.py, so that each one's peak RSS
is its own.

Linux carries the peak RSS of the process that forks into the child's
``ru_maxrss``. The benchmark itself grows big (tens of thousands of paths, the
proxy's buffers), and any child it started would report at least that as its
peak. This process is started first, while the benchmark is small, stays
small (it never reads a child's output), and starts every contender instead.

As a script it reads one JSON request per line on stdin, ``{"command": [...],
"env": {...}, "stdout": path, "stderr": path}``, and answers each with one
JSON line: ``returncode``, ``cpu`` (the child's user + system seconds),
``peak_rss_kib`` and ``wall``. `Launcher` is the benchmark's side.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any


def serve() -> None:
    for line in sys.stdin:
        request = json.loads(line)
        with (
            open(request["stdout"], "wb") as out,
            open(request["stderr"], "wb") as err,
        ):
            started = time.perf_counter()
            process = subprocess.Popen(
                request["command"], env=request["env"], stdout=out, stderr=err
            )
            # wait4 gives this one child's usage; RUSAGE_CHILDREN would mix
            # every child reaped so far into the peak.
            _, status, usage = os.wait4(process.pid, 0)
            wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        answer = {
            "returncode": process.returncode,
            "cpu": usage.ru_utime + usage.ru_stime,
            "peak_rss_kib": usage.ru_maxrss,
            "wall": wall,
        }
        print(json.dumps(answer), flush=True)


class Launcher:
    """The launcher process, started at once: create it before the benchmark
    allocates anything big."""

    def __init__(self) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-I", __file__],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def run(
        self, command: list[str], env: dict[str, str], scratch: Path
    ) -> tuple[dict[str, Any], str, str]:
        """Run ``command`` to its end: the launcher's answer, and the child's
        stdout and stderr."""
        out, err = scratch / "child.out", scratch / "child.err"
        request = {
            "command": command,
            "env": env,
            "stdout": str(out),
            "stderr": str(err),
        }
        assert self._process.stdin is not None
        assert self._process.stdout is not None
        self._process.stdin.write(json.dumps(request) + "\n")
        self._process.stdin.flush()
        answer: dict[str, Any] = json.loads(self._process.stdout.readline())
        return answer, out.read_text(), err.read_text()

    def close(self) -> None:
        assert self._process.stdin is not None
        self._process.stdin.close()
        self._process.wait()


if __name__ == "__main__":
    serve()
