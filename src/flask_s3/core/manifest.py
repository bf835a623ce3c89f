"""The bucket's record of what we uploaded, and how.

Reading it replaces a HEAD request per object, which is what makes a no-change
run cheap. The record is only ever a subset of the truth: it lists a key only
once the object is known to hold that content with that spec. Flask-S3 0.3.x's
``.file-hashes`` is read as a fallback, so a bucket it managed is not uploaded
again in full on its first run with us.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Literal

import attrs
from cattrs import transform_error
from cattrs.errors import BaseValidationError

from flask_s3.core.conversion import converter

ManifestSource = Literal["flask-s3", "flask-s3 0.3.x", "none"]

MANIFEST_NAME = ".flask-s3-manifest.json"
LEGACY_HASHES_KEY = ".file-hashes"
FORMAT_VERSION = 1


@attrs.frozen
class ManifestEntry:
    sha1: str
    fingerprint: str | None
    """None for entries taken from 0.3.x's .file-hashes, which did not record
    how a file was sent. An unchanged file under such an entry is skipped and
    then recorded with today's fingerprint: adopting it that way is what lets
    a later header change re-upload it."""
    source: str | None = None
    """For a content-fingerprinted copy, the plain key it copies."""
    deploy: int = 0
    """The last deploy in which the file was current, so that pruning can keep
    the fingerprinted files of recent deploys that cached pages still use."""


@attrs.frozen
class Manifest:
    entries: Mapping[str, ManifestEntry] = attrs.field(factory=dict)
    version: int = FORMAT_VERSION
    deploys: int = 0
    """How many runs have written this manifest: the number of the last deploy."""
    unsettled: tuple[str, ...] = ()
    """Keys whose replacement was started but not confirmed: the CDN may hold
    an older copy, so the run that finally sends them invalidates them, though
    they then look new."""


class ManifestError(ValueError):
    """The manifest object exists but cannot be read; uploading over it blindly
    could lose track of what the bucket holds."""


def manifest_key(prefix: str) -> str:
    """Each S3_PREFIX keeps its own manifest, so apps sharing a bucket under
    different prefixes never overwrite each other's record."""
    stripped = prefix.strip("/")
    return f"{stripped}/{MANIFEST_NAME}" if stripped else MANIFEST_NAME


def _problem(exc: Exception) -> str:
    if isinstance(exc, BaseValidationError):
        return "; ".join(transform_error(exc))
    return str(exc)


def parse_manifest(body: bytes) -> Manifest:
    try:
        raw = json.loads(body)
        if not isinstance(raw, dict) or not (
            {"entries", "version"}
            <= set(raw)
            <= {"entries", "version", "deploys", "unsettled"}
        ):
            raise ValueError("expected an object with 'entries' and 'version'")
        manifest = converter.structure(raw, Manifest)
    except Exception as exc:
        raise ManifestError(
            f"the manifest {MANIFEST_NAME} is not valid ({_problem(exc)}); delete "
            "it to upload everything again"
        ) from None
    if manifest.version != FORMAT_VERSION:
        raise ManifestError(
            f"the manifest {MANIFEST_NAME} has format {manifest.version}, "
            f"this version of Flask-S3 reads format {FORMAT_VERSION}"
        )
    return manifest


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


def rebase(ours: Manifest, base: Manifest, latest: Manifest) -> Manifest:
    """Our new record, replayed onto the one in the bucket now.

    ``base`` is what this run read; ``latest`` is what the bucket holds now,
    possibly written by another run meanwhile. Keys this run changed (added,
    replaced, removed) take our value; every other key keeps the latest, so
    two runs at once never drop each other's entries.
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
    settled = set(base.unsettled) - set(ours.unsettled)
    unsettled = (set(latest.unsettled) - settled) | (
        set(ours.unsettled) - set(base.unsettled)
    )
    return Manifest(
        entries,
        deploys=max(ours.deploys, latest.deploys),
        unsettled=tuple(sorted(unsettled)),
    )
