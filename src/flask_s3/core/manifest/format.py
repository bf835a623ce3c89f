"""The manifest's format: its value types, and their bytes in the bucket.

Reading it replaces a HEAD request per object, which is what makes a no-change
run cheap. Flask-S3 0.3.x's ``.file-hashes`` is read as a fallback, so a
bucket it managed is not uploaded again in full on its first run with us.
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
"""2 renamed an entry's ``fingerprint`` to ``spec_digest`` and added what the
bucket answered (size, ETag) and the keys in flight; 1 is still read."""
_READABLE = (1, 2)
_FIELDS = {"entries", "version", "deploys", "unsettled", "in_flight"}


# One per file, held until the run ends: no weakref slot.
@attrs.frozen(weakref_slot=False)
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
    size: int | None = None
    """The object's size in the bucket, as stored (gzipped, if it was)."""
    etag: str | None = None
    """The object's ETag as S3 answered it, unquoted: with the size, what
    ``--verify`` compares against a listing to notice out-of-band damage."""

    def at_deploy(self, deploy: int) -> ManifestEntry:
        """This entry, current in ``deploy``. Every skipped file's entry is
        restamped by each deploy, twice: built by hand, not with
        `attrs.evolve`, which costs three times as much."""
        return ManifestEntry(
            self.sha1, self.spec_digest, self.source, deploy, self.size, self.etag
        )


def _entries(
    items: FrozenDict[str, ManifestEntry] | dict[str, ManifestEntry],
) -> FrozenDict[str, ManifestEntry]:
    return items if isinstance(items, FrozenDict) else FrozenDict(items)


def _keys(keys: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(set(keys)))


@attrs.frozen
class Mark:
    """A run's word that it is writing or deleting a key."""

    since: float
    """When the run said so, in seconds since the epoch."""
    writes: str | None
    """What it writes (`content_of` its entry), or None when it deletes."""
    contested: bool = False
    """Another live run marked the key for other content, or either deletes
    it: whichever request lands last, this run can no longer claim the key,
    even once the other run's mark is gone."""


def content_of(entry: ManifestEntry) -> str:
    """What an entry says the object is: two runs that write the same bytes
    with the same headers cannot make each other's record false."""
    return f"{entry.sha1}/{entry.spec_digest}"


def _marks(
    marks: FrozenDict[str, FrozenDict[str, Mark]] | dict[str, dict[str, Mark]],
) -> FrozenDict[str, FrozenDict[str, Mark]]:
    return FrozenDict(
        (key, FrozenDict(runs)) for key, runs in sorted(marks.items()) if runs
    )


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
    in_flight: FrozenDict[str, FrozenDict[str, Mark]] = attrs.field(
        factory=FrozenDict, converter=_marks
    )
    """Keys that runs are writing or deleting now: key -> run id -> mark. No
    run claims a key that another live run writes other bytes to, or
    deletes, since nobody can tell whose request lands last."""


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


def parse_manifest(body: str | bytes) -> Manifest:
    """Text is best: JSON decodes bytes to a copy, and a caller holding the
    bytes holds a big site's record twice while it is parsed."""
    reader = _EntryReader()
    try:
        raw = json.loads(body, object_hook=reader.read)
        if not isinstance(raw, dict) or not {"entries", "version"} <= set(raw):
            raise ValueError("expected an object with 'entries' and 'version'")
    except ValueError as exc:
        raise _invalid(exc) from None
    version = raw["version"]
    if type(version) is int and version > FORMAT_VERSION:
        raise ManifestError(
            f"the manifest {MANIFEST_NAME} has format {version}, written by a "
            f"newer version of Flask-S3 (this one reads up to {FORMAT_VERSION}); "
            "upgrade Flask-S3 to deploy to this bucket"
        )
    if version not in _READABLE:
        raise _invalid(ValueError(f"unknown format {version!r}"))
    try:
        if not set(raw) <= _FIELDS:
            raise ValueError(f"unknown fields {sorted(set(raw) - _FIELDS)}")
        entries = raw["entries"]
        if version == FORMAT_VERSION and reader.read_all(entries):
            rest = converter.structure({**raw, "entries": {}}, Manifest)
            return attrs.evolve(rest, entries=FrozenDict(entries))
        # Another shape (format 1, or an error to name): cattrs, from the text.
        return converter.structure(_current_shape(json.loads(body)), Manifest)
    except Exception as exc:
        raise _invalid(exc) from None


_ENTRY_FIELDS = frozenset(attrs.fields_dict(ManifestEntry))
_NUMBER = (int, type(None))


class _EntryReader:
    """Builds each entry as the JSON decoder finishes it, so a record of tens
    of thousands is never held as dicts and entries at once, and skips
    cattrs, which takes three times as long per entry. Spec digests are
    shared: a site has a handful, not one per entry."""

    def __init__(self) -> None:
        self._digests: dict[str, str] = {}
        self._built = 0

    def read(self, value: dict[str, Any]) -> Any:
        if "sha1" not in value or not value.keys() <= _ENTRY_FIELDS:
            return value
        sha1, digest = value["sha1"], value.get("spec_digest", 0)
        source, etag = value.get("source"), value.get("etag")
        deploy, size = value.get("deploy", 0), value.get("size")
        if not (
            type(sha1) is str
            and (digest is None or type(digest) is str)
            and (source is None or type(source) is str)
            and (etag is None or type(etag) is str)
            and type(deploy) is int
            and type(size) in _NUMBER
        ):
            return value
        if digest is not None:
            digest = self._digests.setdefault(digest, digest)
        self._built += 1
        return ManifestEntry(sha1, digest, source, deploy, size, etag)

    def read_all(self, entries: object) -> bool:
        """Whether every entry, and nothing else, was built here."""
        return (
            type(entries) is dict
            and self._built == len(entries)
            and all(type(entry) is ManifestEntry for entry in entries.values())
        )


def _invalid(exc: Exception) -> ManifestError:
    return ManifestError(
        f"the manifest {MANIFEST_NAME} is not valid ({_problem(exc)}); delete "
        "it to upload everything again"
    )


def parse_legacy_hashes(body: str | bytes) -> Manifest:
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
    """Written field by field, not through cattrs, which took three times as
    long: a run that changes one file of a big site writes the whole record
    twice, and the marks of a big upload before its first byte goes."""
    unstructured = {
        "entries": {key: _fields(entry) for key, entry in manifest.entries.items()},
        "version": manifest.version,
        "deploys": manifest.deploys,
        "unsettled": list(manifest.unsettled),
        "in_flight": {
            key: {run: _mark_fields(mark) for run, mark in runs.items()}
            for key, runs in manifest.in_flight.items()
        },
    }
    return json.dumps(unstructured, sort_keys=True, separators=(",", ":")).encode()


def _mark_fields(mark: Mark) -> dict[str, Any]:
    return {"since": mark.since, "writes": mark.writes, "contested": mark.contested}


def _fields(entry: ManifestEntry) -> dict[str, Any]:
    """An entry as the manifest holds it: what cattrs would make of it."""
    return {
        "sha1": entry.sha1,
        "spec_digest": entry.spec_digest,
        "source": entry.source,
        "deploy": entry.deploy,
        "size": entry.size,
        "etag": entry.etag,
    }


def manifest_from(
    ours: str | None, legacy: str | None
) -> tuple[Manifest, ManifestSource]:
    """Our manifest when the bucket has one, else 0.3.x's .file-hashes, else
    an empty record; both are fetched at once, so this only chooses."""
    if ours is not None:
        return parse_manifest(ours), "flask-s3"
    if legacy is not None:
        return parse_legacy_hashes(legacy), "flask-s3 0.3.x"
    return Manifest(), "none"
