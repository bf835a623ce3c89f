"""Two runs writing one manifest: neither loses the other's entries."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from flask_s3.core.manifest import Manifest, ManifestEntry, rebase

KEYS = [f"static/{name}" for name in "abcdefg"]
entries = st.builds(
    ManifestEntry, st.sampled_from(["1" * 40, "2" * 40, "3" * 40]), st.just("f")
)
records = st.dictionaries(st.sampled_from(KEYS), entries)


def edited(
    base: dict[str, ManifestEntry], changes: dict[str, ManifestEntry | None]
) -> Manifest:
    result = dict(base)
    for key, value in changes.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = value
    return Manifest(result)


changes = st.dictionaries(st.sampled_from(KEYS), st.none() | entries)


@given(records, changes, changes, st.integers(0, 5), st.integers(0, 5))
def test_rebase_keeps_both_runs_changes(
    base_entries: dict[str, ManifestEntry],
    mine: dict[str, ManifestEntry | None],
    theirs: dict[str, ManifestEntry | None],
    my_deploys: int,
    their_deploys: int,
) -> None:
    base = Manifest(base_entries)
    ours = Manifest(edited(base_entries, mine).entries, deploys=my_deploys)
    latest = Manifest(edited(base_entries, theirs).entries, deploys=their_deploys)
    merged = rebase(ours, base, latest)
    for key in KEYS:
        if ours.entries.get(key) != base.entries.get(key):
            assert merged.entries.get(key) == ours.entries.get(
                key
            )  # ours wins where we wrote
        else:
            assert merged.entries.get(key) == latest.entries.get(
                key
            )  # theirs kept elsewhere
    assert merged.deploys == max(my_deploys, their_deploys)


@given(records, changes)
def test_rebase_onto_an_unchanged_bucket_is_our_record(
    base_entries: dict[str, ManifestEntry], mine: dict[str, ManifestEntry | None]
) -> None:
    base = Manifest(base_entries)
    ours = edited(base_entries, mine)
    assert rebase(ours, base, base).entries == ours.entries
