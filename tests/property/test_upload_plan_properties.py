"""The plan against any listing and any manifest, simulated against a model bucket.

The model bucket maps each key to the (sha1, fingerprint) of the object it
holds. A manifest is honest when every entry it lists matches the model: that
is the invariant every run must keep, whatever subset of uploads arrives.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from flask_s3.core import resolve_settings
from flask_s3.core.manifest import Manifest, ManifestEntry
from flask_s3.core.static_assets import Asset, StaticRoot
from flask_s3.core.upload_plan import (
    Action,
    LocalFile,
    Reason,
    UploadPlan,
    plan_uploads,
)
from flask_s3.core.upload_spec import UploadSpecs, upload_spec
from tests.runs import pending_of, settled_of

ROOT = StaticRoot("/srv/static", "/static")
KEYS = [
    f"static/{name}"
    for name in ("a.css", "b.js", "c.png", "d/e.svg", "f.txt", "g.woff2")
]
HASHES = ["1" * 40, "2" * 40, "3" * 40]
HEADER_CHOICES: list[dict[str, Any]] = [
    {},
    {"S3_HEADERS": {"Cache-Control": "max-age=60"}},
]

Model = dict[str, tuple[str, str | None]]


def local_file(key: str, sha1: str) -> LocalFile:
    relative = key.removeprefix("static/")
    return LocalFile(Asset(key, ROOT, relative), sha1, len(relative))


locals_ = st.dictionaries(st.sampled_from(KEYS), st.sampled_from(HASHES)).map(
    lambda chosen: [local_file(key, sha) for key, sha in sorted(chosen.items())]
)
fingerprints = st.sampled_from([None, "stale-fingerprint", "current"])


@st.composite
def bucket_and_manifest(draw: st.DrawFn) -> tuple[Model, Manifest]:
    """A bucket, and a manifest listing an honest subset of it."""
    model: Model = draw(
        st.dictionaries(
            st.sampled_from(KEYS), st.tuples(st.sampled_from(HASHES), fingerprints)
        )
    )
    listed = draw(st.sets(st.sampled_from(sorted(model)))) if model else set()
    manifest = Manifest({key: ManifestEntry(*model[key]) for key in sorted(listed)})
    return model, manifest


def settle_fingerprints(
    model: Model, manifest: Manifest, config: dict[str, Any]
) -> tuple[Model, Manifest]:
    """Replace the placeholder 'current' with the real fingerprint of each key."""
    settings = resolve_settings(config)

    def real(key: str, fingerprint: str | None) -> str | None:
        if fingerprint != "current":
            return fingerprint
        return upload_spec(
            settings, key.removeprefix("static/"), acl="public-read"
        ).digest

    model = {key: (sha, real(key, fp)) for key, (sha, fp) in model.items()}
    manifest = Manifest(
        {
            key: ManifestEntry(e.sha1, real(key, e.spec_digest))
            for key, e in manifest.entries.items()
        }
    )
    return model, manifest


def plan_for(
    local: list[LocalFile], remote: Manifest, config: dict[str, Any]
) -> UploadPlan:
    return plan_uploads(resolve_settings(config), local, remote, acl="public-read")


def sent(plan: UploadPlan) -> Iterator[str]:
    """The keys a run writes: uploads and header fixes."""
    for item in plan.items:
        if item.action is not Action.SKIP:
            yield item.key


def honest(manifest: Manifest, model: Model) -> bool:
    """Every listed key holds the listed content, and the listed spec where the
    bucket knows it: an object 0.3.x wrote (spec None) is adopted as sent with
    today's spec, so that a later header change re-uploads it."""
    for key, entry in manifest.entries.items():
        if key not in model or model[key][0] != entry.sha1:
            return False
        known = model[key][1]
        if None not in (known, entry.spec_digest) and known != entry.spec_digest:
            return False
    return True


config_strategy = st.builds(
    lambda headers, only: {**headers, "S3_ONLY_MODIFIED": only},
    st.sampled_from(HEADER_CHOICES),
    st.booleans(),
)


@given(locals_, bucket_and_manifest(), config_strategy)
def test_every_asset_is_planned_once_with_a_consistent_reason(
    local: list[LocalFile], bucket: tuple[Model, Manifest], config: dict[str, Any]
) -> None:
    _, remote = settle_fingerprints(*bucket, config)
    plan = plan_for(local, remote, config)
    assert [item.key for item in plan.items] == [file.asset.key for file in local]
    for item in plan.items:
        entry = remote.entries.get(item.key)
        if entry is None:
            assert item.reason is Reason.NEW
        elif entry.sha1 != item.sha1:
            assert item.reason is Reason.CONTENT_CHANGED
        elif entry.spec_digest is None:
            # 0.3.x recorded no headers: the object is served as it is fixed
            assert item.reason is Reason.HEADERS_UNKNOWN
            assert item.action is Action.FIX_HEADERS
            continue
        elif entry.spec_digest != item.spec.digest:
            assert item.reason is Reason.SETTINGS_CHANGED
        else:
            assert item.reason in (Reason.UNCHANGED, Reason.ONLY_MODIFIED_OFF)
        skipped = item.action is Action.SKIP
        assert skipped == (item.reason is Reason.UNCHANGED)
        assert skipped <= config["S3_ONLY_MODIFIED"]
        assert (item.reason is Reason.ONLY_MODIFIED_OFF) <= (
            not config["S3_ONLY_MODIFIED"]
        )


@given(locals_, bucket_and_manifest(), config_strategy, st.data())
def test_manifest_stays_honest_whatever_arrives(
    local: list[LocalFile],
    bucket: tuple[Model, Manifest],
    config: dict[str, Any],
    data: st.DataObject,
) -> None:
    model, remote = settle_fingerprints(*bucket, config)
    assert honest(remote, model)
    plan = plan_for(local, remote, config)
    uploads = [item for item in plan.items if item.action is not Action.SKIP]

    before = pending_of(plan)
    if before is not None:
        assert honest(before, model)
        assert not {item.key for item in uploads} & before.entries.keys()
    else:
        assert not {item.key for item in uploads} & remote.entries.keys()

    # Any subset arrives; a failed PUT may or may not have replaced the object.
    arrived = (
        data.draw(st.sets(st.sampled_from([item.key for item in uploads])))
        if uploads
        else set()
    )
    for item in uploads:
        if item.key in arrived or data.draw(st.booleans()):
            model[item.key] = (item.sha1, item.spec.digest)
    after = settled_of(plan, arrived)
    assert honest(after, model)

    # Keys this run did not cover are never dropped.
    covered = {item.key for item in plan.items}
    for key, entry in remote.entries.items():
        if key not in covered:
            assert after.entries[key] == entry
    # Everything skipped or arrived is recorded; failures are not.
    for item in plan.items:
        recorded = item.action is Action.SKIP or item.key in arrived
        assert (item.key in after.entries) is recorded


@given(locals_, bucket_and_manifest(), st.sampled_from(HEADER_CHOICES))
def test_planning_again_after_a_clean_run_uploads_nothing(
    local: list[LocalFile], bucket: tuple[Model, Manifest], headers: dict[str, Any]
) -> None:
    config = {**headers, "S3_ONLY_MODIFIED": True}
    _, remote = settle_fingerprints(*bucket, config)
    first = plan_for(local, remote, config)
    after = settled_of(first, [*sent(first)])
    second = plan_for(local, after, config)
    assert [*sent(second)] == []
    assert settled_of(second, []) == after


@given(locals_, bucket_and_manifest(), st.from_regex(r"\A[a-g]\Z"))
def test_a_partial_run_merges_into_the_manifest(
    local: list[LocalFile], bucket: tuple[Model, Manifest], letter: str
) -> None:
    config = {"S3_ONLY_MODIFIED": True}
    _, remote = settle_fingerprints(*bucket, config)
    full = plan_for(local, remote, config)
    everything = settled_of(full, [*sent(full)])
    part = [file for file in local if file.asset.relative_path.startswith(letter)]
    partial = plan_for(part, everything, config)
    assert [*sent(partial)] == []
    assert settled_of(partial, []) == everything


names = st.lists(
    st.sampled_from(["a", ".", "..", ".h", "min", "js", "JS", "css", "gz"]),
    min_size=1,
    max_size=4,
).map("".join)
spec_paths = st.lists(names, min_size=1, max_size=3).map("/".join)


@settings(max_examples=300)
@example(["a.js", "b.JS"], True, [".js"], False, False)
@example(["a.min.js", "b.js"], True, [".min.js"], False, True)
@example(["a.css", "b.css"], False, [], True, False)
@given(
    paths=st.lists(spec_paths, min_size=1, max_size=12),
    gzip=st.booleans(),
    gzip_only=st.lists(
        st.sampled_from([".css", ".JS", ".min.js", "css", "."]), max_size=2
    ),
    path_headers=st.booleans(),
    immutable=st.booleans(),
)
def test_specs_shared_by_kind_are_each_paths_own(
    paths: list[str],
    gzip: bool,
    gzip_only: list[str],
    path_headers: bool,
    immutable: bool,
) -> None:
    settings = resolve_settings(
        {
            "S3_BUCKET_NAME": "bucket",
            "S3_GZIP": gzip,
            "S3_GZIP_ONLY_EXTS": gzip_only,
            # A pattern that looks at more than the extension.
            "S3_FILEPATH_HEADERS": {"^a": {"X-Kind": "a"}} if path_headers else {},
        }
    )
    specs = UploadSpecs(settings, "public-read")
    for path in paths:  # every path after others have warmed the cache
        assert specs.of(path, immutable=immutable) == upload_spec(
            settings, path, acl="public-read", immutable=immutable
        )
