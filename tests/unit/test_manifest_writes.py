"""Which read a manifest write swaps on: the run's last one while it is
fresh (no request of its own), else a new one; a lost race reads again."""

from __future__ import annotations

import math
import threading
import time

import attrs
import pytest

from flask_s3.adapters.manifest_store import ManifestRead, Swapped, fresh_until
from flask_s3.core.frozen import FrozenDict
from flask_s3.core.manifest import (
    Change,
    Manifest,
    ManifestEntry,
    parse_manifest,
    serialize_manifest,
)
from flask_s3.deploy.recording import Recorder, Snapshot, write_manifest
from flask_s3.errors import S3Error

KEY = ".flask-s3-manifest.json"
ENTRY = ManifestEntry("0" * 40, "spec", None, 1)


@attrs.define
class Store:
    """A manifest store that counts reads; a swap lands only on the
    current version's ETag, as on S3."""

    body: bytes | None = None
    version: int = 0
    reads: int = 0
    bodies: int = 0
    """Reads that were sent the record's bytes."""
    named: list[str | None] = attrs.field(factory=list)
    """The ETag each read named."""
    overtaken: bool = False
    """Set, another run writes just before the next swap lands."""
    swaps: list[str | None] = attrs.field(factory=list)
    failing_reads: int = 0
    gate: threading.Event | None = None
    """Set, reads wait for it."""
    bucket: str = "bucket"

    def read(self, key: str, *, unless: str | None = None) -> ManifestRead:
        self.named.append(unless)
        if self.gate is not None:
            assert self.gate.wait(5)
        self.reads += 1
        if self.failing_reads:
            self.failing_reads -= 1
            raise S3Error("InternalError", operation="GetObject", bucket=self.bucket)
        if unless is not None and unless == self.etag:
            return ManifestRead(None, unless, math.inf, unchanged=True)
        if self.body is not None:
            self.bodies += 1
        text = None if self.body is None else self.body.decode()
        return ManifestRead(text, self.etag, math.inf)

    @property
    def etag(self) -> str | None:
        return None if self.body is None else f"v{self.version}"

    def swap(self, key: str, etag: str | None, body: bytes) -> Swapped | None:
        self.swaps.append(etag)
        if self.overtaken:
            self.overtaken = False
            self.other_run_writes("static/other.css")
        if etag != self.etag:
            return None
        self.body, self.version = body, self.version + 1
        return Swapped(self.etag)

    def other_run_writes(self, key: str) -> None:
        manifest = Manifest() if self.body is None else self.manifest()
        entries = FrozenDict({**manifest.entries, key: ENTRY})
        self.body = serialize_manifest(attrs.evolve(manifest, entries=entries))
        self.version += 1

    def manifest(self) -> Manifest:
        assert self.body is not None
        return parse_manifest(self.body)


def mark(key: str) -> Change:
    """A change that always lands: this run marks a key it is about to write."""
    return Change(mark=FrozenDict({key: "content"}))


def marked(store: Store) -> set[str]:
    return set(store.manifest().in_flight)


def new_recorder(store: Store, snapshot: Snapshot | None = None) -> Recorder:
    """The recorder of a run that started from an empty record."""
    return Recorder(store, KEY, Manifest(), snapshot)  # type: ignore[arg-type]


def write(store: Store, change: Change, snapshot: Snapshot | None) -> Manifest:
    written, _ = write_manifest(
        store,  # type: ignore[arg-type]
        KEY,
        change,
        base=Manifest(),
        run="run",
        now=time.time(),
        snapshot=snapshot,
    )
    return written


def test_a_fresh_read_is_swapped_on_without_a_read_of_its_own() -> None:
    store = Store()
    write(store, mark("static/a.css"), Snapshot(None, None, math.inf))

    assert store.reads == 0
    assert store.swaps == [None]
    assert marked(store) == {"static/a.css"}


def test_a_stale_read_is_sent_again() -> None:
    store = Store()
    store.other_run_writes("static/other.css")
    write(store, mark("static/a.css"), Snapshot(None, None, -math.inf))

    assert store.reads == 1
    assert store.swaps == ["v1"]
    assert set(store.manifest().entries) == {"static/other.css"}
    assert marked(store) == {"static/a.css"}


def test_a_fresh_read_overtaken_by_another_run_loses_the_race_and_replays() -> None:
    """Fresh by the clock, but another run wrote since: the swap is refused
    and this run's change is applied onto what that run wrote."""
    store = Store()
    snapshot = Snapshot(None, None, math.inf)
    store.other_run_writes("static/other.css")
    write(store, mark("static/a.css"), snapshot)

    assert store.swaps == [None, "v1"]
    assert store.reads == 1
    assert set(store.manifest().entries) == {"static/other.css"}
    assert marked(store) == {"static/a.css"}


def test_a_read_serves_one_write_only() -> None:
    """After this run's own write, the read it swapped on is out of date."""
    store = Store()
    recorder = new_recorder(store, Snapshot(None, None, math.inf))
    recorder.write(mark("static/a.css"))
    recorder.write(mark("static/b.css"))

    assert store.reads == 1
    assert store.swaps == [None, "v1"]


def test_the_write_after_a_read_ahead_swaps_on_it() -> None:
    """Sent as the last uploads go out; another run's write before it is
    in what it read."""
    store = Store()
    recorder = new_recorder(store)
    recorder.write(mark("static/a.css"))
    store.other_run_writes("static/other.css")
    recorder.read_ahead()
    recorder.write(mark("static/b.css"))

    assert store.reads == 2  # the first write's, and the one sent ahead
    assert store.swaps == [None, "v2"]
    assert set(store.manifest().entries) == {"static/other.css"}
    assert marked(store) == {"static/a.css", "static/b.css"}


def test_a_read_ahead_that_failed_is_sent_again_by_the_write() -> None:
    store = Store()
    recorder = new_recorder(store)
    store.failing_reads = 1
    recorder.read_ahead()
    recorder.write(mark("static/a.css"))

    assert store.reads == 2
    assert marked(store) == {"static/a.css"}


def test_a_read_ahead_does_not_hold_the_run() -> None:
    """It goes out in a thread of its own, which ends with the read."""
    store = Store(gate=threading.Event())
    recorder = new_recorder(store)
    before = threading.active_count()
    recorder.read_ahead()
    assert store.reads == 0  # still waiting, and so is no one else
    (reading,) = [t for t in threading.enumerate() if t.name == "flask-s3 read ahead"]
    assert reading.daemon  # after a Ctrl-C, it holds up no exit
    assert store.gate is not None
    store.gate.set()
    recorder.write(mark("static/a.css"))

    assert store.reads == 1
    for _ in range(100):
        if threading.active_count() <= before:
            break
        time.sleep(0.01)
    assert threading.active_count() <= before


@pytest.mark.parametrize(
    ("retries", "fresh"), [(0, True), (1, False)], ids=["answered", "retried"]
)
def test_a_read_is_fresh_for_one_round_trip_unless_it_was_retried(
    retries: int, fresh: bool
) -> None:
    """A retried read timed botocore's back-off too, not a round trip."""
    now = time.monotonic()
    metadata = {"ResponseMetadata": {"RetryAttempts": retries}}
    until = fresh_until(now - 10.0, now - 9.0, metadata)

    if fresh:
        assert now + 0.9 < until <= time.monotonic() + 1.0
    else:
        assert until == -math.inf


def test_a_read_after_the_runs_own_write_comes_without_the_record() -> None:
    """It names the ETag the write answered."""
    store = Store()
    recorder = new_recorder(store)
    recorder.write(mark("static/a.css"))
    recorder.read_ahead()
    recorder.write(mark("static/b.css"))
    recorder.write(mark("static/c.css"))  # a stale read: sent by the write

    assert store.reads == 3
    assert store.bodies == 0
    assert store.swaps == [None, "v1", "v2"]
    assert marked(store) == {"static/a.css", "static/b.css", "static/c.css"}
    assert recorder.written == store.manifest()


def test_the_first_write_names_the_etag_the_survey_read() -> None:
    store = Store()
    store.other_run_writes("static/other.css")
    survey = Snapshot(store.manifest(), store.etag, -math.inf)
    assert survey.manifest is not None
    recorder = Recorder(
        store,  # type: ignore[arg-type]
        KEY,
        survey.manifest,
        survey,
        etag=survey.etag,
    )
    recorder.write(mark("static/a.css"))

    assert (store.reads, store.bodies) == (1, 0)
    assert store.swaps == ["v1"]
    assert set(store.manifest().entries) == {"static/other.css"}


def test_a_record_another_run_rewrote_is_read_whole() -> None:
    store = Store()
    recorder = new_recorder(store)
    recorder.write(mark("static/a.css"))
    store.other_run_writes("static/other.css")
    recorder.write(mark("static/b.css"))

    assert store.bodies == 1
    assert store.swaps == [None, "v2"]
    assert set(store.manifest().entries) == {"static/other.css"}
    assert marked(store) == {"static/a.css", "static/b.css"}


def test_a_distrusted_record_is_read_whole_even_unchanged() -> None:
    """Where the store keeps other bytes than it is sent, the ETag of the
    run's own write does not stand for what the run wrote."""
    store = Store()
    recorder = new_recorder(store)
    recorder.write(mark("static/a.css"))
    recorder.read_ahead()
    recorder.distrust()
    recorder.write(mark("static/b.css"))

    assert store.reads == 3  # the one sent ahead is not used
    assert store.bodies == 1


def test_the_replay_after_a_lost_race_reads_the_record_whole() -> None:
    """The refusal proves the bucket holds another record: naming the old
    ETag again could only be answered wrongly."""
    store = Store()
    recorder = new_recorder(store)
    recorder.write(mark("static/a.css"))
    store.overtaken = True
    recorder.write(mark("static/b.css"))

    assert store.named == [None, "v1", None]
    assert store.swaps == [None, "v1", "v2"]
    assert set(store.manifest().entries) == {"static/other.css"}
    assert marked(store) == {"static/a.css", "static/b.css"}


def test_the_first_record_of_a_bucket_is_worked_out_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No record yet is the empty one the run started from: the change the
    run applied onto it to see whether it has anything to say is written
    as it is, not applied again (a cold deploy waits for it)."""
    from flask_s3.deploy import recording

    applied: list[Manifest] = []
    real = recording.apply

    def counting(change: Change, **kwargs: object) -> Manifest:
        applied.append(kwargs["latest"])  # type: ignore[arg-type]
        return real(change, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(recording, "apply", counting)
    store = Store()
    recorder = new_recorder(store, Snapshot(None, None, math.inf))
    recorder.write(mark("static/a.css"))

    assert len(applied) == 1
    assert marked(store) == {"static/a.css"}
