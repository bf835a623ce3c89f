"""A loopback HTTP/1.1 proxy in front of a moto server.

Both the fault tests and the upload benchmark need to stand between a client
and moto: the tests to make S3 misbehave on cue (see ``proxy_actions``, and
the rules of tests/integration/fault_proxy.py), the benchmark to put a long
link in the way, since on loopback every uploader looks instant. Both also
need to know what the client sent, so every request is recorded with what was
done with it and when its head arrived.

The link is modelled per request, not per byte: with ``one_way`` set, a
forwarded request reaches moto ``one_way`` seconds after its head and body
arrived and its answer leaves as long after moto gave it, so a request on a
kept-alive connection pays the full round trip; an ``Expect: 100-continue``
(which botocore sends with every PutObject) pays a second one, as against S3.
Connecting costs nothing, as with keep-alive on a real link: the proxy keeps
a client's connection open, and opens one to moto per request (moto's server
closes it after every response anyway), so charging connects would measure
moto. Bandwidth is ample: a body is read whole before it is sent on.

Requests that change the bucket (PUT, POST, DELETE) are forwarded one at a
time while an ``audit`` is set, and the audit runs right after each one,
before the client gets its answer: a check of what the bucket holds at every
step of a run, not only at its end.

It binds 127.0.0.1 only, forwards only to 127.0.0.1, serves a bounded number
of requests, never sleeps past its ``stop``, and ``stop`` joins every thread
it started.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import socketserver
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO
from urllib.parse import urlsplit

from tests.support.http_messages import (
    Closed,
    Request,
    Response,
    read_body,
    read_head,
    reset,
)
from tests.support.proxy_actions import (
    Action,
    Answer,
    Delay,
    Hold,
    Hook,
    ResetRequest,
    ResetResponse,
    Rewrite,
    S3Error,
)

MUTATING = {"PUT", "POST", "DELETE"}


@dataclass(frozen=True)
class Seen:
    """One request the proxy handled, and what it did with it."""

    method: str
    path: str
    query: str
    outcome: str
    arrived: float
    """``time.monotonic()`` when its head had been read."""


class LoopbackProxy:
    """Forward to ``upstream`` (``http://127.0.0.1:port``), ``one_way`` seconds
    away, doing what ``decide`` says with each request."""

    def __init__(
        self,
        upstream: str,
        *,
        one_way: float = 0.0,
        max_requests: int = 2000,
        idle_timeout: float = 10.0,
        upstream_timeout: float = 10.0,
    ) -> None:
        parts = urlsplit(upstream)
        if parts.hostname not in ("127.0.0.1", "localhost") or parts.port is None:
            raise ValueError(f"the proxy only forwards to loopback, not {upstream}")
        self._upstream = ("127.0.0.1", parts.port)
        self._one_way = one_way
        self._max_requests = max_requests
        self._idle_timeout = idle_timeout
        self._upstream_timeout = upstream_timeout
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._seen: list[Seen] = []
        self._accepted = 0
        self._total = 0
        self.errors: list[str] = []
        """What went wrong in the proxy itself (not injected faults)."""
        self.audit: Callable[[Request], None] | None = None
        """Called with each request that changed the bucket, once it did."""
        self.audit_failures: list[str] = []
        self.overflowed = False
        """Set once more than ``max_requests`` came: those are refused."""

        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                proxy._serve(self.request)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True
            request_queue_size = 64
            """Room for a burst of clients connecting at once (16 upload
            threads), which the default of 5 would make retry the SYN."""

            def process_request(
                self,
                request: socket.socket | tuple[bytes, socket.socket],
                address: object,
            ) -> None:
                thread = threading.Thread(
                    target=self.process_request_thread,
                    args=(request, address),
                    daemon=True,
                    name="loopback-proxy-connection",
                )
                with proxy._lock:
                    proxy._threads = [t for t in proxy._threads if t.is_alive()]
                    proxy._threads.append(thread)
                thread.start()

        self._server = Server(("127.0.0.1", 0), Handler)
        self.port: int = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._serving = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
            name="loopback-proxy",
        )

    # Control, from the test or the benchmark.

    def start(self) -> LoopbackProxy:
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

    def __enter__(self) -> LoopbackProxy:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def decide(self, request: Request) -> Action | None:
        """What to do with ``request``; None forwards it as is."""
        return None

    def requests(self, method: str | None = None) -> list[Seen]:
        with self._lock:
            return [seen for seen in self._seen if method in (None, seen.method)]

    def take(self) -> tuple[int, list[Seen]]:
        """The connections accepted and the requests handled since the last
        call, forgotten here."""
        with self._lock:
            taken = self._accepted, self._seen
            self._accepted, self._seen = 0, []
        return taken

    # Serving, on the proxy's threads.

    def _serve(self, connection: socket.socket) -> None:
        with self._lock:
            if self._stopping.is_set():
                connection.close()
                return
            self._connections.add(connection)
            self._accepted += 1
        connection.settimeout(self._idle_timeout)
        stream = connection.makefile("rb")
        try:
            while not self._stopping.is_set():
                if not self._one(connection, stream):
                    break
        except (Closed, OSError, ValueError):
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
        head = read_head(stream)
        if head is None:
            return False
        request, keep_alive = head
        if self._overflow():
            self._record(request, "refused: too many requests")
            reset(connection)
            return False
        action = self.decide(request)

        if isinstance(action, S3Error) and action.early:
            # Closed with the body unread: the kernel resets the connection.
            self._record(request, f"answered {action.status} {action.code} early")
            connection.sendall(action.response(request).serialize(request.method))
            return False

        if "100-continue" in (request.header("Expect") or "").lower():
            # The head's way to the server and the 100 Continue's way back.
            if not self._travel(2):
                return False
            connection.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")

        if isinstance(action, ResetRequest):
            length = int(request.header("Content-Length") or 0)
            if length:
                stream.read(int(length * action.fraction))
            self._record(request, "reset while the request body was sent")
            reset(connection)
            return False

        body = read_body(stream, request)

        if isinstance(action, (S3Error, Answer)):
            self._record(request, f"answered {action.status} {action.code}")
            connection.sendall(action.response(request).serialize(request.method))
            return keep_alive
        if isinstance(action, Rewrite):
            request, body = action.apply(request, body)
            action = None  # then forwarded like any other
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
        if not self._travel(1):
            return False
        response = self._forward(request, body, action)
        payload = response.serialize(request.method)
        if not self._travel(1):
            return False
        if isinstance(action, ResetResponse):
            self._record(request, f"forwarded ({response.status}), answer cut")
            connection.sendall(payload[: int(len(payload) * action.fraction)])
            reset(connection)
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

    def _travel(self, legs: int) -> bool:
        """Wait while a message crosses the link ``legs`` times; False when
        the proxy is stopping instead."""
        if not self._one_way:
            return True
        return not self._stopping.wait(legs * self._one_way)

    def _overflow(self) -> bool:
        with self._lock:
            self._total += 1
            if self._total > self._max_requests:
                self.overflowed = True
            return self.overflowed

    def _record(self, request: Request, outcome: str) -> None:
        seen = Seen(
            request.method, request.path, request.query, outcome, request.arrived
        )
        with self._lock:
            self._seen.append(seen)

    def _forward(
        self, request: Request, body: bytes, action: Action | None
    ) -> Response:
        if isinstance(action, Hook) or (
            self.audit is not None and request.method in MUTATING
        ):
            with self._write_lock:
                if isinstance(action, Hook):
                    action.run(request)
                response = self._send_upstream(request, body)
                self._audit(request)
            return response
        return self._send_upstream(request, body)

    def _send_upstream(self, request: Request, body: bytes) -> Response:
        try:
            return self._exchange(request, body)
        except (OSError, http.client.HTTPException) as exc:
            self.errors.append(
                f"upstream failed for {request.method} {request.path}: "
                f"{type(exc).__name__}: {exc}"
            )
            raise Closed("upstream failed") from exc

    def _exchange(self, request: Request, body: bytes) -> Response:
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
            return Response(answer.status, answer.reason, answer.getheaders(), payload)
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
