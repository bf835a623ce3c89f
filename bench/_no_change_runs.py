"""One no-change run of one contender, as a process of its own: its CPU, wall
time and peak memory, what the S3 server spent meanwhile, and a check that it
sent nothing.

The child is reaped with ``os.wait4``, which gives that one process's user
and system time and its peak RSS; ``RUSAGE_CHILDREN`` would mix every child
reaped so far into the peak.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import CHILD, REPO, expect
from _peers import PEER_VENV
from _runner import cpu_seconds_of
from _traffic import Traffic
from tests.support.loopback_proxy import LoopbackProxy

CONTENDERS = ("ours", "aws --dryrun", "0.3.3")


@dataclass(frozen=True)
class Run:
    cpu: float
    """The contender's user + system seconds."""
    wall: float
    peak_rss_mib: float
    server_cpu: float | None
    """The moto server's CPU seconds during the run, from /proc."""
    requests: int


@dataclass(frozen=True)
class Contenders:
    env: dict[str, str]
    moto_pid: int
    proxy: LoopbackProxy
    peer_python: Path
    aws: Path

    def command(
        self, contender: str, static: Path, bucket: str
    ) -> tuple[list[str], dict[str, str]]:
        args = [str(static), bucket, self.proxy.url]
        if contender == "ours":
            env = {**self.env, "PYTHONPATH": str(REPO / "src")}
            return [sys.executable, "-s", str(CHILD), "ours", *args], env
        if contender == "0.3.3":
            # -E: no PYTHONPATH that could lead to our src/; -s: no user site.
            env = {**self.env, "AWS_ENDPOINT_URL_S3": self.proxy.url}
            return [str(self.peer_python), "-E", "-s", str(CHILD), "0.3.3", *args], env
        return [
            str(self.aws),
            "s3",
            "sync",
            str(static),
            f"s3://{bucket}/static",
            "--dryrun",
            "--endpoint-url",
            self.proxy.url,
            "--no-progress",
        ], self.env

    def run(self, contender: str, static: Path, bucket: str, files: int) -> Run:
        command, env = self.command(contender, static, bucket)
        self.proxy.take()
        since = time.monotonic()
        server_before = cpu_seconds_of(self.moto_pid)
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            started = time.perf_counter()
            process = subprocess.Popen(command, env=env, stdout=out, stderr=err)
            _, status, usage = os.wait4(process.pid, 0)
            wall = time.perf_counter() - started
            process.returncode = os.waitstatus_to_exitcode(status)
            out.seek(0)
            err.seek(0)
            stdout, stderr = out.read().decode(), err.read().decode()
        server_after = cpu_seconds_of(self.moto_pid)
        traffic = Traffic.of(since, self.proxy.take())
        if process.returncode != 0:
            raise SystemExit(f"{contender} ({files} files) failed:\n{stderr}")
        check(contender, files, stdout, traffic)
        return Run(
            cpu=usage.ru_utime + usage.ru_stime,
            wall=wall,
            # Linux gives ru_maxrss in KiB.
            peak_rss_mib=usage.ru_maxrss / 1024,
            server_cpu=(
                None
                if server_before is None or server_after is None
                else server_after - server_before
            ),
            requests=traffic.total,
        )


def check(contender: str, files: int, stdout: str, traffic: Traffic) -> None:
    """A figure counts only for a run that compared every file and sent none."""
    puts = traffic.requests["PUT asset"]
    expect(puts == 0, f"{contender} ({files} files) sent {puts} asset PUTs")
    if contender == "aws --dryrun":
        would = [line for line in stdout.splitlines() if "upload:" in line]
        expect(not would, f"aws --dryrun would upload {len(would)} files")
        return
    report: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    if contender == "ours":
        expect(
            Path(report["module"]).resolve().is_relative_to(REPO / "src"),
            f"ours imported flask_s3 from {report['module']}",
        )
        got = (report["uploaded"], report["skipped"])
        expect(got == (0, files), f"ours ({files} files) uploaded/skipped {got}")
    else:
        expect(
            Path(report["module"]).resolve().is_relative_to(PEER_VENV),
            f"0.3.3 imported flask_s3 from {report['module']}",
        )
