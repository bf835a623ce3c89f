"""The loopback proxy in front of moto, told by rules which faults to inject.

Tests point ``S3_ENDPOINT_URL`` at the proxy and tell it, rule by rule, what to
do with the requests that match: answer with an S3 error of its own, cut the
connection while the request body or the response is on the wire, answer
after the client's read timeout, or run a hook (such as deleting the bucket in
moto) before forwarding. Everything else is forwarded to moto unchanged. The
proxy counts the requests it saw per (method, path), so a test can tell that
botocore retried.

The proxy itself (forwarding, the audit after each change, the bounds, stop)
is tests/support/loopback_proxy.py, shared with the upload benchmark.
"""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from tests.support.http_messages import Request
from tests.support.loopback_proxy import LoopbackProxy
from tests.support.proxy_actions import Action, S3Error

Predicate = Callable[[Request], bool]

INTERNAL_ERROR = S3Error(
    500, "InternalError", "We encountered an internal error. Please try again."
)
SLOW_DOWN = S3Error(503, "SlowDown", "Please reduce your request rate.")


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


class FaultProxy(LoopbackProxy):
    """Forward to ``upstream`` (``http://127.0.0.1:port``), applying rules."""

    def __init__(self, upstream: str) -> None:
        super().__init__(upstream)
        self._rules_lock = threading.Lock()
        self._rules: list[Rule] = []
        self.counts: Counter[tuple[str, str]] = Counter()

    def start(self) -> FaultProxy:
        super().start()
        return self

    def add(
        self,
        match: Predicate,
        action: Action,
        *,
        times: int | None = None,
        skip: int = 0,
    ) -> Rule:
        rule = Rule(match, action, times, skip)
        with self._rules_lock:
            self._rules.append(rule)
        return rule

    def rules(self) -> list[Rule]:
        with self._rules_lock:
            return list(self._rules)

    def clear(self) -> None:
        """Drop every rule, and forget the counts and what was seen."""
        with self._rules_lock:
            self._rules.clear()
            self.counts.clear()
        self.take()

    def count(self, method: str, path: str) -> int:
        with self._rules_lock:
            return self.counts[(method, path)]

    def decide(self, request: Request) -> Action | None:
        with self._rules_lock:
            self.counts[(request.method, request.path)] += 1
            for rule in self._rules:
                if rule.fires(request):
                    return rule.action
        return None


@contextlib.contextmanager
def auditing_proxy(
    upstream: str, audit: Callable[[Request], None]
) -> Iterator[FaultProxy]:
    """A fault proxy that runs ``audit`` after every change to the bucket;
    once left, its threads have stopped, and it met no error of its own and
    no more requests than its bound."""
    faults = FaultProxy(upstream).start()
    faults.audit = audit
    try:
        yield faults
    finally:
        stuck = faults.stop()
    assert stuck == [], "proxy threads did not stop"
    assert faults.errors == []
    assert not faults.overflowed


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
