"""What the loopback proxy can do to a request instead of forwarding it as is.

Each is a way S3, or the network in front of it, fails a client: an error of
its own, a connection cut on either side of the server acting, an answer too
late, or a change made by someone else in between.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from xml.sax.saxutils import escape

from tests.support.http_messages import Request, Response


@dataclass(frozen=True)
class S3Error:
    """Answer with this S3 error (and an XML body S3 would send), unforwarded.
    ``early``: as soon as the head arrived, with the body unread, and then
    close the connection: a store that refuses a request on its head alone
    while a client that did not wait for ``100 Continue`` is still sending."""

    status: int
    code: str
    message: str
    early: bool = False

    def response(self, request: Request) -> Response:
        request_id = uuid.uuid4().hex[:16].upper()
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{escape(self.code)}</Code>"
            f"<Message>{escape(self.message)}</Message>"
            f"<Resource>{escape(request.path)}</Resource>"
            f"<RequestId>{request_id}</RequestId></Error>"
        ).encode()
        headers = [
            ("Content-Type", "application/xml"),
            ("x-amz-request-id", request_id),
            ("Server", "fault-proxy"),
        ]
        reasons = {404: "Not Found", 500: "Internal Server Error", 503: "Slow Down"}
        reason = reasons.get(self.status, "Error")
        return Response(self.status, reason, headers, body)


@dataclass(frozen=True)
class Answer:
    """Answer with this status and body, unforwarded: a store that gives an
    answer of its own (a listing where S3 gives a configuration, say)."""

    status: int
    body: bytes
    content_type: str = "application/xml"

    @property
    def code(self) -> str:
        return "canned answer"

    def response(self, request: Request) -> Response:
        headers = [("Content-Type", self.content_type), ("Server", "fault-proxy")]
        return Response(
            self.status, "OK" if self.status < 300 else "Error", headers, self.body
        )


@dataclass(frozen=True)
class Rewrite:
    """Forward the request with its body changed by ``body`` (its
    Content-Length follows): a store that keeps other bytes than it got."""

    body: Callable[[bytes], bytes]

    def apply(self, request: Request, original: bytes) -> tuple[Request, bytes]:
        changed = self.body(original)
        headers = tuple(
            (name, str(len(changed)) if name.lower() == "content-length" else value)
            for name, value in request.headers
        )
        return dataclasses.replace(request, headers=headers), changed


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


Action = S3Error | Answer | Rewrite | ResetRequest | ResetResponse | Delay | Hook | Hold
