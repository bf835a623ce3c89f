"""What a contender sent through the proxy, and when: where a slow run is
explained (a request too many, a pause before the first upload, one after the
last)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from urllib.parse import parse_qsl

from _tree import PREFIX
from tests.support.loopback_proxy import Seen


def request_kind(method: str, path: str, query: str) -> str:
    """``PUT asset``, ``GET object`` (a manifest), ``PUT bucket?acl``..."""
    _, _, key = path.lstrip("/").partition("/")
    if not key:
        kind = "bucket"
    elif key.startswith(f"{PREFIX}/"):
        kind = "asset"
    else:
        kind = "object"
    names = sorted(name for name, _ in parse_qsl(query, keep_blank_values=True))
    return f"{method} {kind}" + (f"?{names[0]}" if names else "")


@dataclass(frozen=True)
class Traffic:
    connections: int
    requests: Counter[str]
    timeline: list[tuple[float, str]]
    """When each request's head arrived, in seconds since the run started."""

    @classmethod
    def of(cls, started: float, taken: tuple[int, list[Seen]]) -> Traffic:
        """From what ``LoopbackProxy.take`` returned after a run that started
        at ``started`` (``time.monotonic()``)."""
        connections, records = taken
        timeline = sorted(
            (seen.arrived - started, request_kind(seen.method, seen.path, seen.query))
            for seen in records
        )
        return cls(connections, Counter(kind for _, kind in timeline), timeline)

    @property
    def asset_puts(self) -> list[float]:
        return [at for at, kind in self.timeline if kind == "PUT asset"]

    def around_assets(self) -> tuple[list[str], list[str]]:
        """The requests before the first asset PUT, and after the last one."""
        puts = [i for i, (_, kind) in enumerate(self.timeline) if kind == "PUT asset"]
        if not puts:
            return [f"{kind} {at:.3f}" for at, kind in self.timeline], []
        return (
            [f"{kind} {at:.3f}" for at, kind in self.timeline[: puts[0]]],
            [f"{kind} {at:.3f}" for at, kind in self.timeline[puts[-1] + 1 :]],
        )

    @property
    def total(self) -> int:
        return sum(self.requests.values())
