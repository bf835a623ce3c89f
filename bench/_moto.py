"""The moto S3 server every contender uploads to, and the benchmark's own
client of it, for set-up and checks outside the timings."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

from _common import expect
from tests.support.ports import free_port


@contextlib.contextmanager
def moto_server(env: dict[str, str]) -> Iterator[tuple[str, int]]:
    """A moto S3 server in its own process, so its CPU and memory are not ours.
    Yields its URL and pid."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError):
                urllib.request.urlopen(f"{url}/moto-api/data.json", timeout=1).close()
                break
            expect(process.poll() is None, "the moto server exited at start-up")
            expect(time.monotonic() < deadline, "the moto server did not start")
            time.sleep(0.1)
        yield url, process.pid
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def reset_moto(url: str) -> None:
    """Forget every bucket, so each run meets a server in the same state."""
    request = urllib.request.Request(f"{url}/moto-api/reset", method="POST")
    urllib.request.urlopen(request, timeout=10).close()


def admin_client(moto: str) -> Any:
    """A client straight to moto, for set-up and checks outside the timings."""
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=moto,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
