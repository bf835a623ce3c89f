"""Which recorded objects a pruning run deletes, and why.

Only keys the manifest recorded are candidates, so nothing this app never
uploaded is ever deleted; the window of ``S3_PRUNE_KEEP`` deploys keeps the
hashed copies that pages cached by browsers and CDNs still point at.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

import attrs

from flask_s3.core.manifest import Manifest


class DeleteReason(enum.Enum):
    GONE = "no longer exists locally"
    OLD_HASHED_COPY = "hashed copy older than S3_PRUNE_KEEP deploys"


@attrs.frozen
class PlannedDelete:
    key: str
    reason: DeleteReason


def prune_plan(
    remote: Manifest,
    planned: Iterable[str],
    local_keys: frozenset[str],
    *,
    deploy: int,
    keep: int,
) -> tuple[PlannedDelete, ...]:
    """Keys to delete: only ones the manifest recorded, never one planned or
    present locally, and never a hashed copy that was current within the last
    ``keep`` deploys (this one included), since cached pages of those deploys
    still point at it."""
    planned = set(planned)
    spared = planned | local_keys
    # A file that exists but was not hashed in this run (a hidden one, say)
    # has a current copy nobody can name here, so all its copies stay.
    unhashed = local_keys - planned
    deletes = []
    for key, entry in sorted(remote.entries.items()):
        if key in spared or entry.source in unhashed:
            continue
        if entry.source is None:
            deletes.append(PlannedDelete(key, DeleteReason.GONE))
        elif entry.deploy <= deploy - keep:
            deletes.append(PlannedDelete(key, DeleteReason.OLD_HASHED_COPY))
    return tuple(deletes)
