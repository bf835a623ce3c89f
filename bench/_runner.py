"""Runs each contender as a process of its own through the proxy, times it,
and checks that it did what it is named after before its figure counts."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _commands import PLAIN, aws_sync_command, child_command
from _common import REPO, expect
from _moto import reset_moto
from _peers import PEER_VENV
from _traffic import Traffic
from _tree import PREFIX
from tests.support.loopback_proxy import LoopbackProxy

CONTENDERS = ("ours", "0.3.3", "aws s3 sync", *PLAIN)
NO_RERUN = set(PLAIN)
"""The plain loops have no skip logic, so a re-run would just be a cold run."""


def cpu_seconds_of(pid: int) -> float | None:
    """User + system CPU of a running process (Linux), to see who is busy."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass(frozen=True)
class Run:
    wall: float
    inside: float | None
    traffic: Traffic
    cpu: dict[str, float | None]
    """CPU seconds spent during the run by the contender, moto and the proxy."""


@dataclass
class Bench:
    env: dict[str, str]
    moto: str
    moto_pid: int
    proxy: LoopbackProxy
    static: Path
    files: int
    peer_python: Path
    aws: Path
    admin: Any
    runs: dict[tuple[str, str], list[Run]] = field(default_factory=dict)
    peer_versions: dict[str, str] = field(default_factory=dict)

    @property
    def measured(self) -> list[str]:
        """The contenders run, in the order of `CONTENDERS`."""
        return [name for name in CONTENDERS if (name, "cold") in self.runs]

    def command(self, contender: str, bucket: str) -> tuple[list[str], dict[str, str]]:
        if contender == "aws s3 sync":
            options = ("--only-show-errors",)
            command = aws_sync_command(
                self.aws, self.static, bucket, self.proxy.url, *options
            )
            return command, self.env
        return child_command(
            contender, self.static, bucket, self.proxy.url, self.env, self.peer_python
        )

    def run(self, contender: str, bucket: str, phase: str) -> Run:
        command, env = self.command(contender, bucket)
        self.proxy.take()
        since = time.monotonic()
        cpu_before = (
            children_cpu_seconds(),
            cpu_seconds_of(self.moto_pid),
            time.process_time(),
        )
        started = time.perf_counter()
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, check=False
        )
        wall = time.perf_counter() - started
        traffic = Traffic.of(since, self.proxy.take())
        moto_cpu = cpu_seconds_of(self.moto_pid)
        cpu = {
            "contender": children_cpu_seconds() - cpu_before[0],
            "moto": None if moto_cpu is None else moto_cpu - (cpu_before[1] or 0.0),
            # This process is the proxy's: the main thread only waits.
            "proxy": time.process_time() - cpu_before[2],
        }
        if done.returncode != 0:
            raise SystemExit(f"{contender} ({phase}) failed:\n{done.stderr}")
        report: dict[str, Any] = {}
        if contender != "aws s3 sync":
            report = json.loads(done.stdout.strip().splitlines()[-1])
        self.check(contender, bucket, phase, report, traffic)
        run = Run(wall, report.get("create_all_seconds"), traffic, cpu)
        self.runs.setdefault((contender, phase), []).append(run)
        return run

    def check(
        self,
        contender: str,
        bucket: str,
        phase: str,
        report: dict[str, Any],
        traffic: Traffic,
    ) -> None:
        expect(
            not self.proxy.errors and not self.proxy.overflowed,
            f"{contender} ({phase}): the proxy failed: {self.proxy.errors}",
        )
        pages = self.admin.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=f"{PREFIX}/"
        )
        stored = sum(page.get("KeyCount", 0) for page in pages)
        expect(
            stored == self.files,
            f"{contender} ({phase}): {stored} assets in the bucket",
        )
        puts = traffic.requests["PUT asset"]
        expect(
            puts == (self.files if phase == "cold" else 0),
            f"{contender} ({phase}) sent {puts} asset PUTs through the proxy",
        )
        if contender == "ours":
            expect(
                Path(report["module"]).resolve().is_relative_to(REPO / "src"),
                f"ours imported flask_s3 from {report['module']}",
            )
            wanted = (self.files, 0) if phase == "cold" else (0, self.files)
            got = (report["uploaded"], report["skipped"])
            expect(got == wanted, f"ours ({phase}) uploaded/skipped {got}")
        if contender == "0.3.3":
            expect(
                Path(report["module"]).resolve().is_relative_to(PEER_VENV),
                f"0.3.3 imported flask_s3 from {report['module']}",
            )
            self.peer_versions = report["versions"]

    def measure(self, contender: str, round_number: int) -> None:
        bucket = f"bench-{round_number}-{contender.split()[0].replace('.', '')}"
        reset_moto(self.moto)
        self.admin.create_bucket(Bucket=bucket)
        self.run(contender, bucket, "cold")
        if contender not in NO_RERUN:
            self.run(contender, bucket, "re-run")
