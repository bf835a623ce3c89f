"""One run of one contender over a bucket that already holds the site, as a
process of its own: its CPU, wall time and peak memory, what the S3 server
spent meanwhile, and a check that it sent nothing but the changed files.

Each child is started, timed and reaped by the small launcher process
(`_launcher.Launcher`), so that its peak RSS is its own.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _commands import aws_sync_command, child_command
from _common import REPO, expect
from _launcher import Launcher
from _peers import PEER_VENV
from _runner import cpu_seconds_of
from _traffic import Traffic
from tests.support.loopback_proxy import LoopbackProxy

CONTENDERS = ("ours", "aws --dryrun", "0.3.3")
AWS_SYNC = "aws s3 sync"
"""The real sync, for a run that has a file to send (bench/one_change.py)."""


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
    launcher: Launcher
    scratch: Path

    def command(
        self, contender: str, static: Path, bucket: str
    ) -> tuple[list[str], dict[str, str]]:
        endpoint = self.proxy.url
        if contender == "aws --dryrun":
            return aws_sync_command(self.aws, static, bucket, endpoint, "--dryrun"), (
                self.env
            )
        if contender == AWS_SYNC:
            return aws_sync_command(self.aws, static, bucket, endpoint), self.env
        return child_command(
            contender, static, bucket, endpoint, self.env, self.peer_python
        )

    def run(
        self, contender: str, static: Path, bucket: str, files: int, changed: int = 0
    ) -> Run:
        """One run, which must send exactly the ``changed`` files."""
        command, env = self.command(contender, static, bucket)
        self.proxy.take()
        since = time.monotonic()
        server_before = cpu_seconds_of(self.moto_pid)
        answer, stdout, stderr = self.launcher.run(command, env, self.scratch)
        server_after = cpu_seconds_of(self.moto_pid)
        traffic = Traffic.of(since, self.proxy.take())
        if answer["returncode"] != 0:
            raise SystemExit(f"{contender} ({files} files) failed:\n{stderr}")
        check(contender, files, changed, stdout, traffic)
        return Run(
            cpu=answer["cpu"],
            wall=answer["wall"],
            # Linux gives ru_maxrss in KiB.
            peak_rss_mib=answer["peak_rss_kib"] / 1024,
            server_cpu=(
                None
                if server_before is None or server_after is None
                else server_after - server_before
            ),
            requests=traffic.total,
        )


def check(
    contender: str, files: int, changed: int, stdout: str, traffic: Traffic
) -> None:
    """A figure counts only for a run that compared every file and sent
    the changed ones alone."""
    puts = traffic.requests["PUT asset"]
    expect(puts == changed, f"{contender} ({files} files) sent {puts} asset PUTs")
    if contender in ("aws --dryrun", AWS_SYNC):
        sent = [line for line in stdout.splitlines() if "upload:" in line]
        expect(len(sent) == changed, f"{contender} uploaded {len(sent)} files")
        return
    report: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    if contender == "ours":
        expect(
            Path(report["module"]).resolve().is_relative_to(REPO / "src"),
            f"ours imported flask_s3 from {report['module']}",
        )
        got = (report["uploaded"], report["skipped"])
        want = (changed, files - changed)
        expect(got == want, f"ours ({files} files) uploaded/skipped {got}")
    else:
        expect(
            Path(report["module"]).resolve().is_relative_to(PEER_VENV),
            f"0.3.3 imported flask_s3 from {report['module']}",
        )
