"""Two runs of two versions of one app, interleaved step by step on a model
bucket: the manifest never claims what the bucket does not hold.

Only the bucket and the manifest's store are models. Each run plans with the
real `plan_uploads` and writes the real `RunRecord` changes through the real
`Recorder` and `write_manifest` (so `apply`, its conditional swap and its
replay are the package's own), in the order `publish` takes. The store keeps
a version counter as the ETag: a swap on a stale one is refused and the run
re-reads and re-applies, at most `MANIFEST_ATTEMPTS` times.

The steps of a run are: read the manifest and plan; write `pending`; send
each object (it arrives, fails without landing, or fails after landing); write
`settled`; delete what it prunes, one key at a time (or fail to); write
`pruned`. Between any two steps, and between the read and the swap of any
manifest write, the other run may take steps; a run may die (never to write
again) and, once at most one run is left, the clock may pass `MARK_TTL`.

After every change to the bucket or the manifest, every entry the manifest
lists matches the object under its key, SHA-1 and spec digest, in flight or
not. After both runs, one clean run of either version is followed by a plan
that sends nothing.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import attrs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flask_s3.adapters.manifest_store import ManifestRead, Swapped
from flask_s3.core import resolve_settings
from flask_s3.core.manifest import (
    MARK_TTL,
    Manifest,
    Stored,
    manifest_key,
    parse_manifest,
)
from flask_s3.core.settings import Settings
from flask_s3.core.static_assets import Asset, StaticRoot
from flask_s3.core.upload_plan import Action, LocalFile, Reason, plan_uploads
from flask_s3.deploy.recording import Recorder, Snapshot
from flask_s3.errors import BucketError

ROOT = StaticRoot("/srv/static", "/static")
NAMES = ["a.css", "b.js", "c.svg"]
HASHES = ["1" * 40, "2" * 40, "3" * 40]
HEADERS: list[dict[str, str]] = [{}, {"Cache-Control": "max-age=60"}]
KEY = manifest_key("")
ACL = "public-read"
MAX_STEPS = 120
"""A bound on the steps of one interleaving (a run has at most ~15)."""

Content = tuple[str, str]
"""What an object holds: the SHA-1 of its bytes and the digest of its spec."""


@attrs.frozen
class Version:
    """One version of the app: its files (name -> SHA-1) and settings."""

    files: tuple[tuple[str, str], ...]
    config: tuple[tuple[str, Any], ...]

    def settings(self) -> Settings:
        return resolve_settings(dict(self.config))

    def local_files(self) -> list[LocalFile]:
        return [
            LocalFile(Asset(f"static/{name}", ROOT, name), sha1, 1)
            for name, sha1 in self.files
        ]

    def local_keys(self) -> frozenset[str]:
        return frozenset(f"static/{name}" for name, _ in self.files)


configs = st.fixed_dictionaries(
    {
        "S3_ONLY_MODIFIED": st.booleans(),
        "S3_PRUNE": st.booleans(),
        "S3_CACHE_BUSTING": st.sampled_from([False, "filename"]),
        "S3_PRUNE_KEEP": st.just(1),
        "S3_HEADERS": st.sampled_from(HEADERS),
    }
)
files = st.dictionaries(st.sampled_from(NAMES), st.sampled_from(HASHES))


def version(files: dict[str, str], config: dict[str, Any]) -> Version:
    return Version(tuple(sorted(files.items())), tuple(sorted(config.items())))


@st.composite
def derived(draw: st.DrawFn, base: dict[str, str], config: dict[str, Any]) -> Version:
    """A version made from ``base``: each file kept, or changed, added or
    removed; mostly with the same settings."""
    changed = draw(files)
    kept = draw(st.sets(st.sampled_from(NAMES)))
    ours = {name: base[name] for name in kept if name in base}
    ours.update({name: sha1 for name, sha1 in changed.items() if name not in kept})
    if not ours:
        ours = dict(base) or {NAMES[0]: HASHES[0]}
    return version(ours, draw(st.just(config) | configs))


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[Version | None, Version, Version]:
    """A published version (or an empty bucket), and two made from it."""
    base = draw(files)
    config = draw(configs)
    published = version(base, config) if base else None
    return published, draw(derived(base, config)), draw(derived(base, config))


class Broken(AssertionError):
    """The invariant failed; the message tells the interleaving."""


@attrs.define
class World:
    """The bucket, the manifest's store, the clock, and what happened."""

    data: st.DataObject | None
    """Where each choice comes from; None for a run that meets no fault."""
    objects: dict[str, Content] = attrs.field(factory=dict)
    manifest: bytes | None = None
    version: int = 0
    now: float = 1_000_000.0
    log: list[str] = attrs.field(factory=list)
    runs: dict[str, Iterator[None]] = attrs.field(factory=dict)
    """The live runs' remaining steps."""
    writing: str | None = None
    """The run in the middle of a manifest write, if any."""

    def choose(self, strategy: st.SearchStrategy[Any], default: Any) -> Any:
        return default if self.data is None else self.data.draw(strategy)

    def record(self) -> Manifest:
        return parse_manifest(self.manifest) if self.manifest else Manifest()

    def note(self, event: str) -> None:
        self.log.append(event)
        self.check()

    def check(self) -> None:
        record = self.record()
        for key, entry in record.entries.items():
            held = self.objects.get(key)
            if held != (entry.sha1, entry.spec_digest):
                raise Broken(
                    f"the manifest lists {key} as {(entry.sha1[:4], entry.spec_digest)}"
                    f" but the bucket holds {held}; marks {dict(record.in_flight)};"
                    " steps:\n  " + "\n  ".join(self.log)
                )

    def step(self, name: str) -> None:
        """One step of run ``name``; a run with none left is over."""
        try:
            next(self.runs[name])
        except StopIteration:
            del self.runs[name]
            self.log.append(f"{name} ends")

    def between(self, writer: str) -> None:
        """Between a run's read of the manifest and its swap, the other runs
        may take steps (none of which then interleaves with another)."""
        if self.writing is not None:
            return
        self.writing = writer
        try:
            others = sorted(set(self.runs) - {writer})
            for _ in range(self.choose(st.integers(0, 3), 0)):
                if not others:
                    break
                name = self.choose(st.sampled_from(others), others[0])
                self.step(name)
                others = [other for other in others if other in self.runs]
        finally:
            self.writing = None


@attrs.define
class Store:
    """The manifest store as one run sees it: `ManifestStore`'s read and
    swap, on the world's bytes, with the version as the ETag."""

    world: World
    run: str
    bucket: str = "model"

    def read(self, key: str, *, unless: str | None = None) -> ManifestRead:
        """Every read stays fresh: each write may swap on the last one read,
        however much happened since, and the conditional swap must be what
        keeps the record true. A read that names the current version is
        answered without the record, as S3 answers If-None-Match."""
        world = self.world
        if world.manifest is None:
            return ManifestRead(None, None, math.inf)
        if unless == str(world.version):
            return ManifestRead(None, unless, math.inf, unchanged=True)
        return ManifestRead(world.manifest.decode(), str(world.version), math.inf)

    def swap(self, key: str, etag: str | None, body: bytes) -> Swapped | None:
        world = self.world
        world.between(self.run)
        current = None if world.manifest is None else str(world.version)
        if etag != current:
            world.log.append(f"{self.run}: manifest swap refused (stale)")
            return None
        world.manifest = body
        world.version += 1
        world.note(f"{self.run}: manifest v{world.version} {summary(body)}")
        # A swap whose answer was lost: botocore's retry meets 412.
        if world.choose(st.sampled_from([False, False, False, True]), False):
            return None
        return Swapped(str(world.version))


def summary(body: bytes) -> str:
    record = parse_manifest(body)
    entries = ", ".join(
        f"{key.removeprefix('static/')}={entry.sha1[0]}"
        f"/{(entry.spec_digest or '-')[:4]}@{entry.deploy}"
        for key, entry in sorted(record.entries.items())
    )
    marks = ", ".join(
        f"{key.removeprefix('static/')}:"
        + "+".join(
            f"{owner}{'!' if mark.contested else ''}" for owner, mark in runs.items()
        )
        for key, runs in record.in_flight.items()
    )
    return f"[{entries}] marks [{marks}]"


@attrs.define
class Outcome:
    finished: bool = False
    """Every manifest write this run meant to make landed."""


def run(world: World, name: str, version: Version, outcome: Outcome) -> Iterator[None]:
    """`publish` after `prepare`, one step per request that matters."""
    store = Store(world, name)
    survey = Snapshot.of(store.read(KEY))
    read = Manifest() if survey.manifest is None else survey.manifest
    plan = plan_uploads(
        version.settings(),
        version.local_files(),
        read,
        acl=ACL,
        local_keys=version.local_keys(),
        read=read,
    )
    record = plan.record()
    world.log.append(
        f"{name}: read v{world.version}, sends {sorted(record.sending)}, "
        f"deletes {sorted(record.deleting)}, deploy {record.deploy}"
    )
    recorder = Recorder(
        store,
        KEY,
        record.read,
        survey,
        run=name,
        clock=lambda: world.now,
        etag=survey.etag if survey.manifest is not None else None,
    )
    yield
    try:
        recorder.write(record.pending())
    except BucketError:
        world.log.append(f"{name}: pending not written, gives up")
        return
    marked = recorder.written
    yield
    arrived: dict[str, Stored] = {}
    failed = False
    sending = [item for item in plan.items if item.action is not Action.SKIP]
    order = world.choose(st.permutations(sending), sending)
    for number, item in enumerate(order, 1):
        if number == len(order):  # the settled write's read, sent ahead
            ahead = store.read(KEY, unless=recorder.etag)
            recorder.snapshot = Snapshot.of(ahead, recorder.written)
        fate = world.choose(st.sampled_from(["arrives", "lost", "lands"]), "arrives")
        if fate != "lost":
            world.objects[item.key] = (item.sha1, item.spec.digest)
        if fate == "arrives":
            arrived[item.key] = Stored(item.size, f"etag-{item.sha1[:4]}")
        failed |= fate != "arrives"
        world.note(
            f"{name}: PUT {item.key} {item.sha1[0]}/{item.spec.digest[:4]} {fate}"
        )
        yield
    pruning = not failed and bool(record.deleting)
    try:
        recorder.write(record.settled(arrived, pruning=pruning))
    except BucketError:
        world.log.append(f"{name}: settled not written")
        return
    if not pruning:
        outcome.finished = True
        return
    yield
    undeleted = set()
    for key in sorted(record.deleting):
        if world.choose(st.booleans(), True):
            world.objects.pop(key, None)
            world.note(f"{name}: DELETE {key}")
        else:
            undeleted.add(key)
            world.log.append(f"{name}: DELETE {key} failed")
        yield
    try:
        recorder.write(record.pruned(undeleted, marked=marked))
    except BucketError:
        world.log.append(f"{name}: pruned not written")
        return
    outcome.finished = True


def run_alone(world: World, version: Version, name: str) -> None:
    """A run that meets no other and no fault."""
    data, world.data = world.data, None
    outcome = Outcome()
    try:
        for _ in run(world, name, version, outcome):
            pass
    finally:
        world.data = data
    assert outcome.finished


def interleave(world: World, data: st.DataObject) -> set[str]:
    """Step the runs in drawn order until none is left; returns the ones
    that died."""
    dead: set[str] = set()
    for _ in range(MAX_STEPS):
        if not world.runs:
            return dead
        live = sorted(world.runs)
        moves = [*live, *live, *live, "die"] + (["later"] if len(live) <= 1 else [])
        move = data.draw(st.sampled_from(moves))
        if move == "die":
            victim = data.draw(st.sampled_from(live))
            del world.runs[victim]
            dead.add(victim)
            world.log.append(f"{victim} dies")
        elif move == "later":
            world.now += MARK_TTL + 1
            world.log.append("the clock passes MARK_TTL")
        else:
            world.step(move)
    raise AssertionError(f"the runs did not end in {MAX_STEPS} steps")


def sends_nothing(world: World, version: Version) -> list[str]:
    """What a plan of ``version`` against the bucket would still send or delete."""
    plan = plan_uploads(
        version.settings(),
        version.local_files(),
        world.record(),
        acl=ACL,
        local_keys=version.local_keys(),
    )
    quiet = (Reason.UNCHANGED, Reason.ONLY_MODIFIED_OFF, Reason.HASHED_COPY_EXISTS)
    return [
        f"{item.key}: {item.reason.value}"
        for item in plan.items
        if item.reason not in quiet
    ] + [f"delete {delete.key}" for delete in plan.deletes]


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(scenario=scenarios(), data=st.data())
def test_two_runs_interleaved_keep_the_manifest_honest(
    scenario: tuple[Version | None, Version, Version], data: st.DataObject
) -> None:
    published, one, two = scenario
    world = World(data)
    if published is not None:
        run_alone(world, published, "v0")
    world.log.clear()
    outcomes = {"A": Outcome(), "B": Outcome()}
    world.runs = {
        "A": run(world, "A", one, outcomes["A"]),
        "B": run(world, "B", two, outcomes["B"]),
    }
    dead = interleave(world, data)
    if not dead and all(outcome.finished for outcome in outcomes.values()):
        assert world.record().in_flight == {}, world.log
    if world.record().in_flight:
        world.now += MARK_TTL + 1  # what a dead run marked is free again
        world.log.append("the clock passes MARK_TTL")

    last = data.draw(st.sampled_from([one, two]))
    run_alone(world, last, "C")
    assert sends_nothing(world, last) == [], world.log
    assert world.record().in_flight == {}
