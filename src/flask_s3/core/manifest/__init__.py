"""The manifest: the bucket's record of what this app uploaded, and how.

The invariant
-------------
The manifest lists a key only while the bucket holds, under that key, the
bytes whose SHA-1 it records, sent with the spec whose digest it records. It
may know less than the bucket, never more. It holds whatever runs interleave:

- before a run writes or deletes anything, its `RunRecord.pending` change
  drops the keys it will overwrite and marks them, and those it may delete,
  as in flight;
- after, `RunRecord.settled` claims what arrived, drops what failed, and
  refreshes what it skipped, each only where no other run touched the key;
- `apply` lands a change on the record the bucket holds at that moment, so
  no run overwrites what another recorded for a key it did not write.

``format`` holds the types and bytes, ``changes`` the transitions. The deploy
service sequences them and the manifest store swaps the bytes on an ETag;
tests/property interleaves two runs step by step and checks the invariant
after every one.
"""

from flask_s3.core.manifest.changes import (
    MARK_TTL,
    Change,
    RunRecord,
    Stored,
    apply,
)
from flask_s3.core.manifest.format import (
    FORMAT_VERSION,
    LEGACY_HASHES_KEY,
    MANIFEST_NAME,
    Manifest,
    ManifestEntry,
    ManifestSource,
    Mark,
    content_of,
    manifest_from,
    manifest_key,
    parse_legacy_hashes,
    parse_manifest,
    serialize_manifest,
)

__all__ = [
    "FORMAT_VERSION",
    "LEGACY_HASHES_KEY",
    "MANIFEST_NAME",
    "MARK_TTL",
    "Change",
    "Manifest",
    "ManifestEntry",
    "ManifestSource",
    "Mark",
    "RunRecord",
    "Stored",
    "apply",
    "content_of",
    "manifest_from",
    "manifest_key",
    "parse_legacy_hashes",
    "parse_manifest",
    "serialize_manifest",
]
