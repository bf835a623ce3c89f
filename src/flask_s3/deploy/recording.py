"""The run's manifest writes: each change applied onto whatever record the
bucket holds at that moment, swapped in on its ETag, and replayed when another
run wrote first (see `flask_s3.core.manifest` for what a change may do)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import attrs

from flask_s3.adapters.manifest_store import ManifestStore
from flask_s3.core.manifest import (
    Change,
    Manifest,
    apply,
    parse_manifest,
    serialize_manifest,
)
from flask_s3.errors import BucketError

MANIFEST_ATTEMPTS = 5


def write_manifest(
    store: ManifestStore,
    key: str,
    change: Change,
    *,
    base: Manifest,
    run: str,
    now: float,
) -> Manifest:
    """Apply ``change`` onto whatever record the bucket holds by now, and
    return what was written. The swap is conditional on the ETag read, and a
    race lost to another run is replayed onto what that run wrote. A bucket
    with no manifest yet starts from an empty one, never from 0.3.x's."""
    for _ in range(MANIFEST_ATTEMPTS):
        current, etag = store.read(key)
        latest = parse_manifest(current) if current is not None else Manifest()
        result = apply(change, base=base, latest=latest, run=run, now=now)
        if result == latest and current is not None:
            return latest
        if store.swap(key, etag, serialize_manifest(result)):
            return result
    raise BucketError(
        f"the manifest of bucket {store.bucket!r} kept changing under this run "
        "(other uploads running at once?); run the upload again",
        operation="PutObject",
        bucket=store.bucket,
        key=key,
    )


@attrs.define
class Recorder:
    """The run's manifest writes. Each is measured against the record this
    run last wrote, so that its own earlier writes are not taken for another
    run's."""

    store: ManifestStore
    key: str
    written: Manifest
    run: str = attrs.field(factory=lambda: uuid.uuid4().hex)
    clock: Callable[[], float] = time.time

    def write(self, change: Change) -> None:
        base = self.written
        applied = apply(change, base=base, latest=base, run=self.run, now=self.clock())
        if applied is base or applied == base:
            return  # nothing to say: a no-change run makes no request
        self.written = write_manifest(
            self.store, self.key, change, base=base, run=self.run, now=self.clock()
        )
