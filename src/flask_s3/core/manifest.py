"""The manifest: the bucket's record of what this app uploaded, and how.

Reading it replaces a HEAD request per object, which is what makes a no-change
run cheap. Flask-S3 0.3.x's ``.file-hashes`` is read as a fallback, so a
bucket it managed is not uploaded again in full on its first run with us.

The invariant
-------------
The manifest lists a key only while the bucket holds, under that key, the
bytes whose SHA-1 it records, sent with the spec whose digest it records. It
may know less than the bucket, never more. Each transition below keeps it:

- `pending`: written before the uploads, the record without the keys about
  to be overwritten, so a run that dies half-way leaves no claim of content
  that was replaced;
- `settled`: written after them, with what arrived or was confirmed, and
  without what failed or is about to be deleted;
- `rebase`: a record replayed onto whatever a concurrent writer stored
  meanwhile, keeping that writer's entries for every key this run left alone.

This module holds only the pure steps; the deploy service sequences them and
the manifest store reads and swaps the bytes. tests/property checks each step.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, Literal

import attrs
from cattrs import transform_error
from cattrs.errors import BaseValidationError

from flask_s3.core.conversion import converter
from flask_s3.core.frozen import FrozenDict
from flask_s3.errors import ManifestError

ManifestSource = Literal["flask-s3", "flask-s3 0.3.x", "none"]

MANIFEST_NAME = ".flask-s3-manifest.json"
LEGACY_HASHES_KEY = ".file-hashes"
FORMAT_VERSION = 2
"""2 renamed an entry's ``fingerprint`` to ``spec_digest``; 1 is still read."""
_READABLE = (1, 2)
_FIELDS = {"entries", "version", "deploys", "unsettled"}


@attrs.frozen
class ManifestEntry:
    sha1: str
    spec_digest: str | None
    """None for entries taken from 0.3.x's .file-hashes, which did not record
    how a file was sent. An unchanged file under such an entry is skipped and
    then recorded with today's digest: adopting it that way is what lets a
    later header change re-upload it."""
    source: str | None = None
    """For a hashed copy, the plain key it copies."""
    deploy: int = 0
    """The last deploy in which the file was current, so that pruning can keep
    the hashed copies of recent deploys that cached pages still use."""


def _entries(
    items: FrozenDict[str, ManifestEntry] | dict[str, ManifestEntry],
) -> FrozenDict[str, ManifestEntry]:
    return items if isinstance(items, FrozenDict) else FrozenDict(items)


def _keys(keys: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(set(keys)))


@attrs.frozen
class Manifest:
    entries: FrozenDict[str, ManifestEntry] = attrs.field(
        factory=FrozenDict, converter=_entries
    )
    version: int = FORMAT_VERSION
    deploys: int = 0
    """How many deploys have written this manifest: the number of the last."""
    unsettled: tuple[str, ...] = attrs.field(default=(), converter=_keys)
    """Keys whose replacement was started but not confirmed: the CDN may hold
    an older copy, so the run that finally sends them invalidates them, though
    they then look new."""


def manifest_key(prefix: str) -> str:
    """Each S3_PREFIX keeps its own manifest, so apps sharing a bucket under
    different prefixes never overwrite each other's record."""
    stripped = prefix.strip("/")
    return f"{stripped}/{MANIFEST_NAME}" if stripped else MANIFEST_NAME


def _problem(exc: Exception) -> str:
    if isinstance(exc, BaseValidationError):
        return "; ".join(transform_error(exc))
    return str(exc)


def _renamed(entry: Any) -> Any:
    if not isinstance(entry, dict) or "fingerprint" not in entry:
        return entry
    entry = dict(entry)
    entry["spec_digest"] = entry.pop("fingerprint")
    return entry


def _current_shape(raw: dict[str, Any]) -> dict[str, Any]:
    """Format 1's entries, under today's field names."""
    entries = raw["entries"]
    if raw["version"] != 1 or not isinstance(entries, dict):
        return raw
    upgraded = {key: _renamed(entry) for key, entry in entries.items()}
    return {**raw, "version": FORMAT_VERSION, "entries": upgraded}


def parse_manifest(body: bytes) -> Manifest:
    try:
        raw = json.loads(body)
        if not isinstance(raw, dict) or not {"entries", "version"} <= set(raw):
            raise ValueError("expected an object with 'entries' and 'version'")
    except ValueError as exc:
        raise _invalid(exc) from None
    if raw["version"] not in _READABLE:
        raise ManifestError(
            f"the manifest {MANIFEST_NAME} has format {raw['version']!r}, "
            f"this version of Flask-S3 reads format {FORMAT_VERSION}"
        )
    try:
        if not set(raw) <= _FIELDS:
            raise ValueError(f"unknown fields {sorted(set(raw) - _FIELDS)}")
        return converter.structure(_current_shape(raw), Manifest)
    except Exception as exc:
        raise _invalid(exc) from None


def _invalid(exc: Exception) -> ManifestError:
    return ManifestError(
        f"the manifest {MANIFEST_NAME} is not valid ({_problem(exc)}); delete "
        "it to upload everything again"
    )


def parse_legacy_hashes(body: bytes) -> Manifest:
    """0.3.x wrote ``{"/static/a.css": sha1}``: keys with a leading slash."""
    try:
        raw = json.loads(body)
        hashes = converter.structure(raw, dict[str, str])
    except Exception as exc:
        raise ManifestError(
            f"{LEGACY_HASHES_KEY} (written by Flask-S3 0.3.x) is not valid "
            f"({_problem(exc)}); delete it to upload everything again"
        ) from None
    return Manifest(
        {path.lstrip("/"): ManifestEntry(sha1, None) for path, sha1 in hashes.items()}
    )


def serialize_manifest(manifest: Manifest) -> bytes:
    unstructured = converter.unstructure(manifest)
    return json.dumps(unstructured, sort_keys=True, separators=(",", ":")).encode()


def manifest_from(
    ours: bytes | None, legacy: bytes | None
) -> tuple[Manifest, ManifestSource]:
    """Our manifest when the bucket has one, else 0.3.x's .file-hashes, else
    an empty record; both are fetched at once, so this only chooses."""
    if ours is not None:
        return parse_manifest(ours), "flask-s3"
    if legacy is not None:
        return parse_legacy_hashes(legacy), "flask-s3 0.3.x"
    return Manifest(), "none"


@attrs.frozen
class RunRecord:
    """What one run may record, as its plan decided it."""

    read: Manifest
    """The record the run read before planning."""
    deploy: int
    entries: FrozenDict[str, ManifestEntry]
    """Every planned key, with the entry it gets once its object is known to
    be in the bucket."""
    sending: frozenset[str]
    """The keys this run uploads."""
    kept_copies: frozenset[str]
    """Hashed copies already in the bucket: their entry stays, stamped with
    this deploy, since the name proves the content."""

    def replacing(self) -> frozenset[str]:
        """Plain keys whose recorded object this run overwrites."""
        return frozenset(
            key
            for key in self.sending & self.read.entries.keys()
            if self.entries[key].source is None
        )


def _unsettled(record: RunRecord, arrived: Iterable[str]) -> tuple[str, ...]:
    """Plain keys being replaced stay unsettled until their upload lands."""
    return _keys((set(record.read.unsettled) | record.replacing()) - set(arrived))


def pending(record: RunRecord) -> Manifest | None:
    """The record to write before the uploads: the one read, without the keys
    about to be overwritten; None when it names none of them."""
    doomed = record.sending & record.read.entries.keys()
    if not doomed:
        return None
    kept = {k: v for k, v in record.read.entries.items() if k not in doomed}
    return attrs.evolve(record.read, entries=kept, unsettled=_unsettled(record, ()))


def settled(
    record: RunRecord, arrived: Iterable[str], *, without: Iterable[str] = ()
) -> Manifest:
    """The record once the uploads in ``arrived`` have landed and the keys in
    ``without`` are (about to be) deleted. Keys outside the run are kept; a
    key whose upload failed is dropped, so the next run sends it again."""
    arrived = set(arrived)
    entries = dict(record.read.entries)
    for key, entry in record.entries.items():
        previous = entries.get(key)
        if key in record.kept_copies and previous is not None:
            entries[key] = attrs.evolve(previous, deploy=record.deploy)
        elif key not in record.sending or key in arrived:
            entries[key] = entry
        else:
            entries.pop(key, None)
    for key in without:
        entries.pop(key, None)
    return Manifest(
        entries, deploys=record.deploy, unsettled=_unsettled(record, arrived)
    )


def rebase(ours: Manifest, base: Manifest, latest: Manifest) -> Manifest:
    """Our new record, replayed onto the one in the bucket now.

    ``base`` is what this run last read or wrote; ``latest`` is what the
    bucket holds now, possibly written by another run meanwhile. Keys this
    run changed (added, replaced, removed) take our value; every other key
    keeps the latest, so two runs at once never drop each other's entries.
    """
    entries = dict(latest.entries)
    for key in ours.entries.keys() | base.entries.keys():
        mine = ours.entries.get(key)
        if mine == base.entries.get(key):
            continue
        if mine is None:
            entries.pop(key, None)
        else:
            entries[key] = mine
    settled_keys = set(base.unsettled) - set(ours.unsettled)
    unsettled = (set(latest.unsettled) - settled_keys) | (
        set(ours.unsettled) - set(base.unsettled)
    )
    return Manifest(
        entries, deploys=max(ours.deploys, latest.deploys), unsettled=unsettled
    )
