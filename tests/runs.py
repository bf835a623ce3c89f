"""One run's manifest writes, carried out on a record nobody else touches."""

from __future__ import annotations

from collections.abc import Iterable

from flask_s3.core.manifest import Change, Manifest, Stored, apply
from flask_s3.core.upload_plan import UploadPlan

RUN = "test-run"


def applied(change: Change, record: Manifest) -> Manifest:
    return apply(change, base=record, latest=record, run=RUN, now=0.0)


def pending_of(plan: UploadPlan) -> Manifest:
    """The record once the run's pending write landed."""
    return applied(plan.record().pending(), plan.read)


def settled_of(
    plan: UploadPlan, arrived: Iterable[str], *, pruning: bool = False
) -> Manifest:
    """The record once the run's uploads in ``arrived`` landed, after its
    pending write (and, when ``pruning``, with its deletes dropped)."""
    record = plan.record()
    stored = {key: Stored(None, None) for key in arrived}
    return applied(record.settled(stored, pruning=pruning), pending_of(plan))
