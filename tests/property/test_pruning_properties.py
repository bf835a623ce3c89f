"""Pruning against any manifest and any local tree: it may only ever delete
what the manifest recorded and what no longer exists locally."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from flask_s3.core import resolve_settings
from flask_s3.core.manifest import Manifest, ManifestEntry
from flask_s3.core.pruning import DeleteReason
from flask_s3.core.static_assets import Asset, StaticRoot
from flask_s3.core.upload_plan import LocalFile, plan_uploads
from tests.runs import settled_of

ROOT = StaticRoot("/srv/static", "/static")
NAMES = ["a.css", "b.js", "c.png", "d/e.svg", ".hidden"]
HASHES = ["1" * 40, "2" * 40, "3" * 40]

entries = st.builds(
    ManifestEntry,
    sha1=st.sampled_from(HASHES),
    spec_digest=st.none() | st.just("f"),
    source=st.none() | st.sampled_from([f"static/{name}" for name in NAMES]),
    deploy=st.integers(0, 6),
)
keys = st.sampled_from(NAMES).flatmap(
    lambda name: st.sampled_from(
        [f"static/{name}", f"static/{name}.{'1' * 12}", f"other/{name}"]
    )
)


@given(
    remote=st.dictionaries(keys, entries).flatmap(
        lambda recorded: st.builds(
            Manifest, st.just(recorded), deploys=st.integers(6, 9)
        )
    ),
    present=st.dictionaries(st.sampled_from(NAMES), st.sampled_from(HASHES)),
    hidden_but_local=st.sets(st.sampled_from(NAMES)),
    fingerprints=st.booleans(),
    keep=st.integers(1, 5),
)
def test_pruning_deletes_only_recorded_keys_that_are_gone(
    remote: Manifest,
    present: dict[str, str],
    hidden_but_local: set[str],
    fingerprints: bool,
    keep: int,
) -> None:
    settings = resolve_settings(
        {
            "S3_PRUNE": True,
            "S3_PRUNE_KEEP": keep,
            "S3_ONLY_MODIFIED": True,
            "S3_CACHE_BUSTING": "filename" if fingerprints else False,
        }
    )
    files = [
        LocalFile(Asset(f"static/{name}", ROOT, name), sha1, 1)
        for name, sha1 in sorted(present.items())
    ]
    local_keys = frozenset(f"static/{name}" for name in {*present, *hidden_but_local})
    plan = plan_uploads(settings, files, remote, acl=None, local_keys=local_keys)
    planned = {item.key for item in plan.items}
    deleted = [delete.key for delete in plan.deletes]

    assert len(deleted) == len(set(deleted))
    for delete in plan.deletes:
        assert delete.key in remote.entries  # never a key we did not record
        assert delete.key not in local_keys  # never a file that exists
        assert delete.key not in planned  # never what this run uploads or keeps
        entry = remote.entries[delete.key]
        if delete.reason is DeleteReason.OLD_HASHED_COPY:
            assert entry.source is not None
            assert entry.deploy <= plan.deploy - keep
        else:
            assert entry.source is None
    # A fingerprinted copy current within the window always survives.
    for key, entry in remote.entries.items():
        if entry.source is not None and entry.deploy > plan.deploy - keep:
            assert key not in deleted
    after = settled_of(plan, [item.key for item in plan.uploads], pruning=True)
    assert not set(deleted) & after.entries.keys()
