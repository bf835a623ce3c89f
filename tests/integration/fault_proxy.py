"""A loopback HTTP/1.1 proxy in front of the moto server that injects faults.

Tests point ``S3_ENDPOINT_URL`` at the proxy and tell it, rule by rule, what to
do with the requests that match: answer with an S3 error of its own, cut the
connection while the request body or the response is on the wire, answer
after the client's read timeout, or run a hook (such as deleting the bucket in
moto) before forwarding. Everything else is forwarded to moto unchanged. The
proxy counts the requests it saw per (method, path), so a test can tell that
botocore retried.

Requests that change the bucket (PUT, POST, DELETE) are forwarded one at a
time, and an optional ``audit`` runs right after each one, before the client
gets its answer: a check of what the bucket holds at every step of a run, not
only at its end.

It binds 127.0.0.1 only, serves a bounded number of requests, never sleeps
past its ``stop``, and ``stop`` joins every thread it started.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import socketserver
import struct
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO
from urllib.parse import unquote, urlsplit
from xml.sax.saxutils import escape

MAX_LINE = 65536
MAX_HEADERS = 200
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection"}
MUTATING = {"PUT", "POST", "DELETE"}


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


Predicate = Callable[[Request], bool]


# What a rule does with a request it fires on.


@dataclass(frozen=True)
class S3Error:
    """Answer with this S3 error (and an XML body S3 would send), unforwarded."""

    status: int
    code: str
    message: str


INTERNAL_ERROR = S3Error(
    500, "InternalError", "We encountered an internal error. Please try again."
)
SLOW_DOWN = S3Error(503, "SlowDown", "Please reduce your request rate.")


@dataclass(frozen=True)
class ResetRequest:
    """Read ``fraction`` of the request body, then reset the connection: the
    request never reaches the server."""

    fraction: float = 0.5


@dataclass(frozen=True)
class ResetResponse:
    """Forward the request (so the server acts on it), then send ``fraction``
    of the response and reset the connection."""

    fraction: float = 0.5


@dataclass(frozen=True)
class Delay:
    """Answer only after ``seconds``: with ``forward``, the server acts on the
    request at once and its answer is held back; without, it never sees it."""

    seconds: float
    forward: bool = True


@dataclass(frozen=True)
class Hook:
    """Call ``run`` (while no other change is forwarded), then forward."""

    run: Callable[[Request], None]


@dataclass(frozen=True)
class Hold:
    """Forward only once ``ready()`` (checked every 10 ms) or after
    ``timeout`` seconds, while other requests, changes included, go on:
    a way to line two clients' requests up in a chosen order."""

    ready: Callable[[], bool]
    timeout: float = 3.0


Action = S3Error | ResetRequest | ResetResponse | Delay | Hook | Hold


@dataclass
class Rule:
    """Fire ``action`` on matching requests: let the first ``skip`` matches
    through, then fire on the next ``times`` (every later one if None)."""

    match: Predicate
    action: Action
    times: int | None = None
    skip: int = 0
    matched: int = 0
    fired: int = 0

    def fires(self, request: Request) -> bool:
        if not self.match(request):
            return False
        self.matched += 1
        if self.matched <= self.skip:
            return False
        if self.times is not None and self.fired >= self.times:
            return False
        self.fired += 1
        return True


@dataclass(frozen=True)
class Seen:
    """One request the proxy handled, and what it did with it."""

    method: str
    path: str
    query: str
    outcome: str


@dataclass
class _Response:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes

    def serialize(self, method: str) -> bytes:
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


def _error_response(error: S3Error, request: Request) -> _Response:
    request_id = uuid.uuid4().hex[:16].upper()
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{escape(error.code)}</Code>"
        f"<Message>{escape(error.message)}</Message>"
        f"<Resource>{escape(request.path)}</Resource>"
        f"<RequestId>{request_id}</RequestId></Error>"
    ).encode()
    headers = [
        ("Content-Type", "application/xml"),
        ("x-amz-request-id", request_id),
        ("Server", "fault-proxy"),
    ]
    reasons = {404: "Not Found", 500: "Internal Server Error", 503: "Slow Down"}
    return _Response(error.status, reasons.get(error.status, "Error"), headers, body)


class _Closed(Exception):
    """The client closed the connection, or sent something unusable."""


def _read_line(stream: BinaryIO) -> bytes:
    line = stream.readline(MAX_LINE + 1)
    if len(line) > MAX_LINE:
        raise _Closed("line too long")
    return line


def _read_exactly(stream: BinaryIO, size: int) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise _Closed("body cut short")
    return data


def _read_chunked(stream: BinaryIO) -> bytes:
    """The raw bytes of a chunked body, trailers included, to forward as is."""
    raw = bytearray()
    while True:
        size_line = _read_line(stream)
        raw += size_line
        size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            while True:
                trailer = _read_line(stream)
                raw += trailer
                if trailer in (b"\r\n", b"\n", b""):
                    return bytes(raw)
        raw += _read_exactly(stream, size + 2)


def _reset(connection: socket.socket) -> None:
    """Close with an RST rather than a FIN: the peer sees a connection reset."""
    with contextlib.suppress(OSError):
        connection.setsockopt(
            socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
        )
    connection.close()


class FaultProxy:
    """Forward to ``upstream`` (``http://127.0.0.1:port``), applying rules."""

    def __init__(
        self,
        upstream: str,
        *,
        max_requests: int = 2000,
        idle_timeout: float = 10.0,
        upstream_timeout: float = 10.0,
    ) -> None:
        parts = urlsplit(upstream)
        if parts.hostname not in ("127.0.0.1", "localhost") or parts.port is None:
            raise ValueError(f"the proxy only forwards to loopback, not {upstream}")
        self._upstream = ("127.0.0.1", parts.port)
        self._max_requests = max_requests
        self._idle_timeout = idle_timeout
        self._upstream_timeout = upstream_timeout
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._stopping = threading.Event()
        self._rules: list[Rule] = []
        self._connections: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self.counts: Counter[tuple[str, str]] = Counter()
        self.seen: list[Seen] = []
        self.errors: list[str] = []
        """What went wrong in the proxy itself (not injected faults)."""
        self.audit: Callable[[Request], None] | None = None
        """Called with each request that changed the bucket, once it did."""
        self.audit_failures: list[str] = []
        self.overflowed = False
        """Set once more than ``max_requests`` came: those are refused."""
        self._total = 0

        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                proxy._serve(self.request)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

            def process_request(
                self,
                request: socket.socket | tuple[bytes, socket.socket],
                address: object,
            ) -> None:
                thread = threading.Thread(
                    target=self.process_request_thread,
                    args=(request, address),
                    daemon=True,
                    name="fault-proxy-connection",
                )
                with proxy._lock:
                    proxy._threads.append(thread)
                thread.start()

        self._server = Server(("127.0.0.1", 0), Handler)
        self.port: int = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._serving = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
            name="fault-proxy",
        )

    # Control, from the test.

    def start(self) -> FaultProxy:
        self._serving.start()
        return self

    def stop(self, timeout: float = 5.0) -> list[str]:
        """Stop serving, cut every open connection, wake every delay, and join
        all threads; returns the names of threads that did not end in time."""
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            connections = list(self._connections)
            threads = list(self._threads)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        self._serving.join(timeout)
        stuck = []
        for thread in threads:
            thread.join(timeout)
            if thread.is_alive():
                stuck.append(thread.name)
        return stuck

    def add(
        self,
        match: Predicate,
        action: Action,
        *,
        times: int | None = None,
        skip: int = 0,
    ) -> Rule:
        rule = Rule(match, action, times, skip)
        with self._lock:
            self._rules.append(rule)
        return rule

    def clear(self) -> None:
        """Drop every rule, and forget the counts and what was seen."""
        with self._lock:
            self._rules.clear()
            self.counts.clear()
            self.seen.clear()

    def count(self, method: str, path: str) -> int:
        with self._lock:
            return self.counts[(method, path)]

    def requests(self, method: str | None = None) -> list[Seen]:
        with self._lock:
            return [seen for seen in self.seen if method in (None, seen.method)]

    # Serving, on the proxy's threads.

    def _serve(self, connection: socket.socket) -> None:
        with self._lock:
            if self._stopping.is_set():
                connection.close()
                return
            self._connections.add(connection)
        connection.settimeout(self._idle_timeout)
        stream = connection.makefile("rb")
        try:
            while not self._stopping.is_set():
                if not self._one(connection, stream):
                    break
        except (_Closed, OSError, ValueError):
            pass
        except Exception as exc:  # a bug in the proxy: tell the test
            self.errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            with self._lock:
                self._connections.discard(connection)
            stream.close()
            connection.close()

    def _one(self, connection: socket.socket, stream: BinaryIO) -> bool:
        """Handle one request; False when the connection is done."""
        line = _read_line(stream)
        if not line:
            return False
        try:
            method, target, version = line.decode("latin-1").split()
        except ValueError:
            raise _Closed("bad request line") from None
        headers: list[tuple[str, str]] = []
        while True:
            header = _read_line(stream)
            if header in (b"\r\n", b"\n"):
                break
            if not header or len(headers) >= MAX_HEADERS:
                raise _Closed("headers cut short")
            name, _, value = header.decode("latin-1").partition(":")
            headers.append((name.strip(), value.strip()))
        url = urlsplit(target)
        request = Request(method, unquote(url.path), url.query, tuple(headers), target)
        keep_alive = version == "HTTP/1.1" and (
            (request.header("Connection") or "").lower() != "close"
        )
        if self._overflow():
            self._record(request, "refused: too many requests")
            _reset(connection)
            return False
        action = self._decide(request)

        if "100-continue" in (request.header("Expect") or "").lower():
            connection.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        length = int(request.header("Content-Length") or 0)
        chunked = "chunked" in (request.header("Transfer-Encoding") or "").lower()

        if isinstance(action, ResetRequest):
            if length:
                stream.read(int(length * action.fraction))
            self._record(request, "reset while the request body was sent")
            _reset(connection)
            return False

        body = _read_chunked(stream) if chunked else _read_exactly(stream, length)

        if isinstance(action, S3Error):
            self._record(request, f"answered {action.status} {action.code}")
            connection.sendall(_error_response(action, request).serialize(method))
            return keep_alive
        if isinstance(action, Hold):
            deadline = time.monotonic() + action.timeout
            while not action.ready() and time.monotonic() < deadline:
                if self._stopping.wait(0.01):
                    return False
            action = None  # then forwarded like any other
        if isinstance(action, Delay) and not action.forward:
            self._record(request, f"dropped, answered nothing for {action.seconds}s")
            self._stopping.wait(action.seconds)
            return False
        response = self._forward(request, body, action)
        payload = response.serialize(method)
        if isinstance(action, ResetResponse):
            self._record(request, f"forwarded ({response.status}), answer cut")
            connection.sendall(payload[: int(len(payload) * action.fraction)])
            _reset(connection)
            return False
        if isinstance(action, Delay):
            self._record(
                request,
                f"forwarded ({response.status}), answered after {action.seconds}s",
            )
            if self._stopping.wait(action.seconds):
                return False
        else:
            self._record(request, f"forwarded ({response.status})")
        connection.sendall(payload)
        return keep_alive and not self._stopping.is_set()

    def _decide(self, request: Request) -> Action | None:
        with self._lock:
            self.counts[(request.method, request.path)] += 1
            for rule in self._rules:
                if rule.fires(request):
                    return rule.action
        return None

    def _overflow(self) -> bool:
        with self._lock:
            self._total += 1
            if self._total > self._max_requests:
                self.overflowed = True
            return self.overflowed

    def _record(self, request: Request, outcome: str) -> None:
        with self._lock:
            self.seen.append(Seen(request.method, request.path, request.query, outcome))

    def _forward(
        self, request: Request, body: bytes, action: Action | None
    ) -> _Response:
        if request.method in MUTATING or isinstance(action, Hook):
            with self._write_lock:
                if isinstance(action, Hook):
                    action.run(request)
                response = self._send_upstream(request, body)
                self._audit(request)
            return response
        return self._send_upstream(request, body)

    def _send_upstream(self, request: Request, body: bytes) -> _Response:
        try:
            return self._exchange(request, body)
        except (OSError, http.client.HTTPException) as exc:
            self.errors.append(
                f"upstream failed for {request.method} {request.path}: "
                f"{type(exc).__name__}: {exc}"
            )
            raise _Closed("upstream failed") from exc

    def _exchange(self, request: Request, body: bytes) -> _Response:
        upstream = http.client.HTTPConnection(
            *self._upstream, timeout=self._upstream_timeout
        )
        try:
            upstream.putrequest(
                request.method,
                request.target,
                skip_host=True,
                skip_accept_encoding=True,
            )
            for name, value in request.headers:
                if name.lower() in ("expect", "connection", "proxy-connection"):
                    continue
                upstream.putheader(name, value)
            upstream.putheader("Connection", "close")
            upstream.endheaders(body or None)
            answer = upstream.getresponse()
            payload = answer.read()
            return _Response(answer.status, answer.reason, answer.getheaders(), payload)
        finally:
            upstream.close()

    def _audit(self, request: Request) -> None:
        if self.audit is None:
            return
        try:
            self.audit(request)
        except AssertionError as exc:
            self.audit_failures.append(f"after {request.method} {request.path}: {exc}")
        except Exception as exc:
            self.audit_failures.append(
                f"after {request.method} {request.path}, the audit failed: "
                f"{type(exc).__name__}: {exc}"
            )


# Predicates for S3 requests, path-style.


def is_object_put(key: str | None = None, *, bucket: str | None = None) -> Predicate:
    """A PutObject (no sub-resource in the query), to ``key`` if given."""

    def match(request: Request) -> bool:
        return (
            request.method == "PUT"
            and request.key is not None
            and not request.query
            and (key is None or request.key == key)
            and (bucket is None or request.bucket == bucket)
        )

    return match


def is_object_get(key: str) -> Predicate:
    def match(request: Request) -> bool:
        return request.method == "GET" and request.key == key and not request.query

    return match


def all_of(*predicates: Predicate) -> Predicate:
    return lambda request: all(predicate(request) for predicate in predicates)
