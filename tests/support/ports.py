"""A free TCP port on 127.0.0.1, and waiting for a server to listen on one."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time


def free_port() -> int:
    """A port that was free a moment ago, for a server that must be told its
    port before it starts (moto's, the demo's). Someone else may take it in
    between, so a server that can bind port 0 itself (the loopback proxy)
    should do that instead."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def wait_until_listening(
    name: str, port: int, process: subprocess.Popen[bytes], seconds: float
) -> None:
    """Return once a server started as ``process`` accepts connections on
    127.0.0.1:``port``; a server that exits or stays silent is an error
    naming it."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode} at start")
        with contextlib.suppress(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        time.sleep(0.05)
    raise RuntimeError(f"{name} did not listen on 127.0.0.1:{port} in time")
