"""How each contender is started: one process per run, with the environment
it may see. Both benchmarks start their contenders from here."""

from __future__ import annotations

import sys
from pathlib import Path

from _common import CHILD, REPO
from _tree import PREFIX

PLAIN = {"plain boto3 x16": "plain-16", "plain boto3 x32": "plain-32"}
"""The plain loops, by the name the child knows each by."""


def child_command(
    contender: str,
    static: Path,
    bucket: str,
    endpoint: str,
    env: dict[str, str],
    peer_python: Path,
) -> tuple[list[str], dict[str, str]]:
    """Our create_all, 0.3.3's, or a plain boto3 loop, each in
    _upload_child.py under the interpreter that gives it its ``flask_s3``."""
    args = [str(static), bucket, endpoint]
    if contender == "ours":
        env = {**env, "PYTHONPATH": str(REPO / "src")}
        return [sys.executable, "-s", str(CHILD), "ours", *args], env
    if contender == "0.3.3":
        # -E: no PYTHONPATH that could lead to our src/; -s: no user site.
        env = {**env, "AWS_ENDPOINT_URL_S3": endpoint}
        return [str(peer_python), "-E", "-s", str(CHILD), "0.3.3", *args], env
    return [sys.executable, "-E", "-s", str(CHILD), PLAIN[contender], *args], env


def aws_sync_command(
    aws: Path, static: Path, bucket: str, endpoint: str, *options: str
) -> list[str]:
    """``aws s3 sync`` of the static folder to the keys we upload it under."""
    return [
        str(aws),
        "s3",
        "sync",
        str(static),
        f"s3://{bucket}/{PREFIX}",
        "--endpoint-url",
        endpoint,
        "--no-progress",
        *options,
    ]
