"""How a run changes the manifest, and how a change lands on a record that
another run may have rewritten meanwhile.

A run never writes "its" manifest: it writes a `Change`, the edits it has a
right to make, applied onto whatever the bucket holds at that moment. What a
run owns is only what it did in this run:

- a **claim** (``put``): an object it wrote, or confirmed, in this run. The
  claim stands only if nobody else recorded other content for the key since
  this run last wrote the record, and no other live run is writing other
  content to it or deleting it; otherwise the entry is dropped, since nobody
  can tell whose bytes landed last;
- a **refresh**: a key it skipped as unchanged, stamped with this deploy, but
  only where the record still holds what this run saw;
- a **drop**: a key it is about to overwrite or delete, or failed to write;
- **marks**: the keys it has in flight, set before it writes or deletes them
  and cleared after. Two live marks of a key for other content (or a delete)
  contest each other for good, since either request may land last: a run
  claims a key only under its own live, uncontested mark, so neither the
  other run's unmark nor a replay of its own landed write lifts that.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import attrs

from flask_s3.core.frozen import FrozenDict
from flask_s3.core.manifest.format import Manifest, ManifestEntry, Mark, content_of

MARK_TTL = 3600.0
"""Seconds after which a mark is taken for that of a run that died: its keys
can be claimed again (until then, they are uploaded again on every run)."""


@attrs.frozen
class Stored:
    """What the bucket answered for an object this run wrote."""

    size: int | None
    etag: str | None


@attrs.frozen
class Change:
    put: FrozenDict[str, ManifestEntry] = attrs.field(factory=FrozenDict)
    refresh: FrozenDict[str, ManifestEntry] = attrs.field(factory=FrozenDict)
    drop: frozenset[str] = frozenset()
    mark: FrozenDict[str, str | None] = attrs.field(factory=FrozenDict)
    """Keys this run is about to write (with `content_of` what it writes) or
    delete (None)."""
    unmark: frozenset[str] = frozenset()
    unsettle: frozenset[str] = frozenset()
    """Plain keys whose replacement starts: the CDN may hold the old copy."""
    settle: frozenset[str] = frozenset()
    deploys: int = 0


def _live_marks(
    in_flight: Mapping[str, Mapping[str, Mark]], now: float
) -> dict[str, dict[str, Mark]]:
    return {
        key: {run: mark for run, mark in runs.items() if now - mark.since < MARK_TTL}
        for key, runs in in_flight.items()
    }


def _may_claim(
    entry: ManifestEntry,
    key: str,
    *,
    base: Manifest,
    latest: Manifest,
    marks: Mapping[str, Mapping[str, Mark]],
    run: str,
) -> bool:
    content = content_of(entry)
    own = marks.get(key, {}).get(run)
    if own is None or own.contested:
        return False
    current = latest.entries.get(key)
    recorded_as_ours = current is not None and content_of(current) == content
    untouched = current == base.entries.get(key)
    contested = any(
        other != run and mark.writes != content
        for other, mark in marks.get(key, {}).items()
    )
    return (untouched or recorded_as_ours) and not contested


def _changes_nothing(change: Change, latest: Manifest) -> bool:
    """Whether ``change`` leaves ``latest`` as it is (no marks to expire)."""
    edits = (
        change.put,
        change.refresh,
        change.drop,
        change.mark,
        change.unmark,
        change.unsettle,
        change.settle,
    )
    return not any(edits) and not latest.in_flight and change.deploys <= latest.deploys


def apply(
    change: Change, *, base: Manifest, latest: Manifest, run: str, now: float
) -> Manifest:
    """``change`` made by ``run`` on top of ``latest``, the record in the
    bucket now. ``base`` is the record as this run last wrote (or read) it:
    a key whose entry differs between the two was touched by someone else."""
    if _changes_nothing(change, latest):
        return latest  # most runs: no copy of every entry to compare
    entries = dict(latest.entries)
    marks = _live_marks(latest.in_flight, now)
    for key in change.drop:
        entries.pop(key, None)
    for key, entry in change.refresh.items():
        current = latest.entries.get(key)
        # What the run saw, not only what it last wrote: its base may have
        # taken in another run's claim since it read the record.
        seen = current is not None and current.at_deploy(entry.deploy)
        if key in entries and current == base.entries.get(key) and seen == entry:
            entries[key] = entry
    for key, entry in change.put.items():
        if _may_claim(entry, key, base=base, latest=latest, marks=marks, run=run):
            entries[key] = entry
        elif key in entries and content_of(entries[key]) != content_of(entry):
            # This run's bytes may have replaced these. An entry of its own
            # content stays: a replay after its own write landed finds it.
            del entries[key]
    for key, writes in change.mark.items():
        runs = marks.setdefault(key, {})
        clashing = [
            other
            for other, mark in runs.items()
            if other != run and (writes is None or mark.writes != writes)
        ]
        for other in clashing:
            runs[other] = attrs.evolve(runs[other], contested=True)
        mine = runs.get(run)
        contested = bool(clashing) or (mine is not None and mine.contested)
        runs[run] = Mark(now, writes, contested)
    for key in change.unmark:
        marks.get(key, {}).pop(run, None)
    unsettled = (set(latest.unsettled) | change.unsettle) - change.settle
    return Manifest(
        entries,
        deploys=max(latest.deploys, change.deploys),
        unsettled=unsettled,
        in_flight=marks,
    )


@attrs.frozen
class RunRecord:
    """What one run may record, as its plan decided it."""

    read: Manifest
    """This app's manifest as the run read it (empty when there was none)."""
    deploy: int
    entries: FrozenDict[str, ManifestEntry]
    """Each key this run writes, with the entry it gets once its object is
    known to be in the bucket. Skipped keys have none: their record stays as
    read, and a run that changes nothing builds no entry at all."""
    sending: frozenset[str]
    """The keys this run writes: uploads and header fixes."""
    skipped: frozenset[str]
    """Keys whose record already matches, hashed copies that exist included."""
    deleting: frozenset[str] = frozenset()
    """The keys a complete run prunes."""

    def replacing(self) -> frozenset[str]:
        """Plain keys whose recorded object this run overwrites."""
        return frozenset(
            key
            for key in self.sending & self.read.entries.keys()
            if self.entries[key].source is None
        )

    def pending(self) -> Change:
        """Written before any object: what will be overwritten is no longer
        claimed, and every key this run may write or delete is in flight."""
        marks: dict[str, str | None] = dict.fromkeys(self.deleting)
        marks.update((key, content_of(self.entries[key])) for key in self.sending)
        return Change(
            drop=self.sending,
            mark=FrozenDict(marks),
            unsettle=self.replacing(),
            deploys=self.read.deploys,
        )

    def withdrawn(self) -> Change:
        """Written when the run stops before it sent anything: its marks are
        taken back, and the deploy does not count."""
        return Change(unmark=self.sending | self.deleting, deploys=self.read.deploys)

    def settled(
        self, arrived: Mapping[str, Stored], *, pruning: bool = False
    ) -> Change:
        """Written once the uploads are over: claims for what arrived, drops
        for what failed (it may or may not have replaced the object) and, when
        ``pruning``, for what is about to be deleted, which stays in flight
        until `pruned`."""
        # A skip means the record already says what the plan would: only the
        # deploy moves, and the size and ETag the bucket answered stay. Where
        # the deploy did not move either (a run that changes nothing), there
        # is nothing to refresh.
        read = self.read.entries
        refresh = {
            key: read[key].at_deploy(self.deploy)
            for key in self.skipped
            if key in read and read[key].deploy != self.deploy
        }
        put = {
            key: attrs.evolve(self.entries[key], size=stored.size, etag=stored.etag)
            for key, stored in arrived.items()
        }
        deleting = self.deleting if pruning else frozenset()
        return Change(
            put=FrozenDict(put),
            refresh=FrozenDict(refresh),
            drop=(self.sending - arrived.keys()) | deleting,
            unmark=self.sending | (self.deleting - deleting),
            settle=frozenset(arrived),
            deploys=self.deploy,
        )

    def pruned(self, undeleted: Iterable[str], *, marked: Manifest) -> Change:
        """Written after the deletes: keys that could not be deleted still
        hold what the record read, so they are claimed again; but only where
        ``marked``, the record once this run's `pending` landed, still held
        it (another run may have written the key between the two)."""
        put = {
            key: self.read.entries[key]
            for key in undeleted
            if key in self.read.entries
            and marked.entries.get(key) == self.read.entries[key]
        }
        return Change(put=FrozenDict(put), unmark=self.deleting, deploys=self.deploy)
