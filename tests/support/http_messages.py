"""HTTP/1.1 messages as the loopback proxy reads and writes them.

The proxy must see every request whole (to match rules on it, count it, and
cut it at a chosen byte), so it parses requests itself instead of passing
bytes along; every read is bounded, so a bad client cannot make it hold an
unbounded line or header list.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import time
from dataclasses import dataclass
from typing import BinaryIO
from urllib.parse import unquote, urlsplit

MAX_LINE = 65536
MAX_HEADERS = 200
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection"}


@dataclass(frozen=True)
class Request:
    """A request as the proxy received it; ``key`` assumes path-style URLs."""

    method: str
    path: str
    """The URL path, percent-decoded, without the query."""
    query: str
    headers: tuple[tuple[str, str], ...]
    target: str
    """The request target exactly as sent, for forwarding."""
    arrived: float = 0.0
    """``time.monotonic()`` when its head had been read."""

    @property
    def bucket(self) -> str | None:
        name = self.path.lstrip("/").split("/", 1)[0]
        return name or None

    @property
    def key(self) -> str | None:
        parts = self.path.lstrip("/").split("/", 1)
        return parts[1] if len(parts) == 2 and parts[1] else None

    def header(self, name: str) -> str | None:
        for header, value in self.headers:
            if header.lower() == name.lower():
                return value
        return None


@dataclass
class Response:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes

    def serialize(self, method: str) -> bytes:
        """The response with a Content-Length of its own: the body was read
        whole, so the upstream's framing (chunked, or close-delimited) and
        its connection headers no longer apply."""
        lines = [f"HTTP/1.1 {self.status} {self.reason}"]
        has_body = method != "HEAD" and self.status not in (204, 304)
        for name, value in self.headers:
            lowered = name.lower()
            if lowered in HOP_BY_HOP or (lowered == "content-length" and has_body):
                continue
            lines.append(f"{name}: {value}")
        if has_body:
            lines.append(f"Content-Length: {len(self.body)}")
        head = "\r\n".join(lines).encode("latin-1") + b"\r\n\r\n"
        return head + (self.body if has_body else b"")


class Closed(Exception):
    """The client closed the connection, or sent something unusable."""


def read_line(stream: BinaryIO) -> bytes:
    line = stream.readline(MAX_LINE + 1)
    if len(line) > MAX_LINE:
        raise Closed("line too long")
    return line


def read_exactly(stream: BinaryIO, size: int) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise Closed("body cut short")
    return data


def read_chunked(stream: BinaryIO) -> bytes:
    """The raw bytes of a chunked body, trailers included, to forward as is."""
    raw = bytearray()
    while True:
        size_line = read_line(stream)
        raw += size_line
        size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            while True:
                trailer = read_line(stream)
                raw += trailer
                if trailer in (b"\r\n", b"\n", b""):
                    return bytes(raw)
        raw += read_exactly(stream, size + 2)


def read_head(stream: BinaryIO) -> tuple[Request, bool] | None:
    """The next request's head, and whether the client keeps the connection
    open after it; None when the client closed the connection in between."""
    line = read_line(stream)
    if not line:
        return None
    try:
        method, target, version = line.decode("latin-1").split()
    except ValueError:
        raise Closed("bad request line") from None
    headers: list[tuple[str, str]] = []
    while True:
        header = read_line(stream)
        if header in (b"\r\n", b"\n"):
            break
        if not header or len(headers) >= MAX_HEADERS:
            raise Closed("headers cut short")
        name, _, value = header.decode("latin-1").partition(":")
        headers.append((name.strip(), value.strip()))
    url = urlsplit(target)
    request = Request(
        method, unquote(url.path), url.query, tuple(headers), target, time.monotonic()
    )
    keep_alive = version == "HTTP/1.1" and (
        (request.header("Connection") or "").lower() != "close"
    )
    return request, keep_alive


def read_body(stream: BinaryIO, request: Request) -> bytes:
    if "chunked" in (request.header("Transfer-Encoding") or "").lower():
        return read_chunked(stream)
    return read_exactly(stream, int(request.header("Content-Length") or 0))


def reset(connection: socket.socket) -> None:
    """Close with an RST rather than a FIN: the peer sees a connection reset."""
    with contextlib.suppress(OSError):
        connection.setsockopt(
            socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
        )
    connection.close()
