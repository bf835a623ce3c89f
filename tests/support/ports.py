"""A free TCP port on 127.0.0.1."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A port that was free a moment ago, for a server that must be told its
    port before it starts (moto's, the demo's). Someone else may take it in
    between, so a server that can bind port 0 itself (the loopback proxy)
    should do that instead."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port
