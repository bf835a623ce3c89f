"""The run's manifest writes: each change applied onto whatever record the
bucket holds at that moment, swapped in on its ETag, and replayed when another
run wrote first (see `flask_s3.core.manifest` for what a change may do)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future

import attrs

from flask_s3.adapters.manifest_store import ManifestRead, ManifestStore
from flask_s3.core.manifest import (
    Change,
    Manifest,
    apply,
    parse_manifest,
    serialize_manifest,
)
from flask_s3.errors import BucketError

MANIFEST_ATTEMPTS = 5

_NONE_YET = Manifest()
"""What a bucket without a manifest of ours holds, as a record."""


@attrs.frozen
class Snapshot:
    """The manifest as a read found it, parsed, for a write to swap on
    without a read of its own while the read is fresh (`ManifestRead`)."""

    manifest: Manifest | None
    """None where the bucket holds no manifest of ours."""
    etag: str | None
    fresh_until: float

    @classmethod
    def of(cls, read: ManifestRead, named: Manifest | None = None) -> Snapshot:
        """``named``: the record whose ETag the read named, which an
        unchanged answer stands for."""
        if read.unchanged:
            if named is None:  # empty would drop every entry and mark
                raise ValueError("an unchanged read must stand for a record")
            return cls(named, read.etag, read.fresh_until)
        manifest = parse_manifest(read.text) if read.text is not None else None
        return cls(manifest, read.etag, read.fresh_until)


def write_manifest(
    store: ManifestStore,
    key: str,
    change: Change,
    *,
    base: Manifest,
    run: str,
    now: float,
    snapshot: Snapshot | None = None,
    base_etag: str | None = None,
    on_base: Manifest | None = None,
) -> tuple[Manifest, str | None]:
    """Apply ``change`` onto whatever record the bucket holds by now, and
    return what was written, with its ETag. The swap is conditional on the
    ETag read (the ``snapshot``'s, while it is fresh), and a race lost to
    another run is replayed onto what that run wrote. A read names
    ``base_etag``, so that while the bucket still holds ``base`` no body
    comes, and ``on_base`` (``change`` applied onto ``base``, where the
    caller has it) is not worked out again. A bucket with no manifest yet
    starts from an empty one, never from 0.3.x's."""
    for _ in range(MANIFEST_ATTEMPTS):
        if snapshot is None or time.monotonic() > snapshot.fresh_until:
            snapshot = Snapshot.of(store.read(key, unless=base_etag), base)
        latest, etag, snapshot = snapshot.manifest, snapshot.etag, None
        if on_base is not None and (
            latest is base or (latest is None and base == _NONE_YET)
        ):
            result = on_base
        else:
            result = apply(
                change,
                base=base,
                latest=_NONE_YET if latest is None else latest,
                run=run,
                now=now,
            )
        if latest is not None and result == latest:
            return latest, etag
        swapped = store.swap(key, etag, serialize_manifest(result))
        if swapped is not None:
            return result, swapped.etag
        base_etag = None  # refused: the bucket holds another record now
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
    snapshot: Snapshot | None = None
    """The read the next write may swap on (the survey's, at first)."""
    run: str = attrs.field(factory=lambda: uuid.uuid4().hex)
    clock: Callable[[], float] = time.time
    etag: str | None = None
    """The ETag of ``written`` in the bucket, where the run knows it: the
    next read names it, to be spared the record while nobody else wrote."""
    _ahead: Future[Snapshot] | None = attrs.field(default=None, init=False)

    def read_ahead(self) -> None:
        """Send the next write's read now, in the background: sent as the
        last uploads go out, its answer is back by the time they are, and
        the write that follows them saves that round trip."""
        ahead: Future[Snapshot] = Future()
        written, etag = self.written, self.etag

        def read() -> None:
            try:
                answer = self.store.read(self.key, unless=etag)
                ahead.set_result(Snapshot.of(answer, written))
            except BaseException as exc:  # the write reads again, and says why
                ahead.set_exception(exc)

        # A daemon: after a Ctrl-C, a read nobody waits for holds up no exit.
        threading.Thread(target=read, name="flask-s3 read ahead", daemon=True).start()
        self._ahead = ahead

    def distrust(self) -> None:
        """The bucket may not hold what this run wrote under the ETag it
        answered: the next write reads the record whole."""
        self.etag = None
        self.snapshot = self._ahead = None

    def write(self, change: Change, *, unsure: bool = False) -> None:
        """``unsure``: the bucket may hold more of this run's than it knows
        (a write cut short by an interrupt may have landed), so the record
        is read and changed even where this run's own copy needs nothing."""
        base, now = self.written, self.clock()
        on_base = None
        if not unsure:
            on_base = apply(change, base=base, latest=base, run=self.run, now=now)
            if on_base is base or on_base == base:
                return  # nothing to say: a no-change run makes no request
        self.written, self.etag = write_manifest(
            self.store,
            self.key,
            change,
            base=base,
            run=self.run,
            now=now,
            snapshot=self._taken(),
            base_etag=self.etag,
            on_base=on_base,
        )

    def _taken(self) -> Snapshot | None:
        """The snapshot for this write, used once: a read sent ahead that
        failed is sent again by the write, which says why if it fails too."""
        snapshot, ahead = self.snapshot, self._ahead
        self.snapshot = self._ahead = None
        if ahead is not None and ahead.exception() is None:
            return ahead.result()
        return snapshot
