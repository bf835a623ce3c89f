"""The manifest read back is the manifest written, however it is read: a big
site's record is built entry by entry as it is decoded, and anything of
another shape goes through cattrs, which names what is wrong."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flask_s3.core.conversion import converter
from flask_s3.core.manifest import (
    Manifest,
    ManifestEntry,
    Mark,
    parse_manifest,
    serialize_manifest,
)
from flask_s3.errors import ManifestError

hexes = st.text("0123456789abcdef", min_size=1, max_size=40)
maybe_hex = st.none() | hexes
entries = st.builds(
    ManifestEntry,
    sha1=hexes,
    spec_digest=st.sampled_from([None, "d" * 40, "e" * 40]),
    source=st.none() | st.text(max_size=20),
    deploy=st.integers(0, 1000),
    size=st.none() | st.integers(0, 1 << 40),
    etag=maybe_hex,
)
keys = st.text(min_size=1, max_size=30)
marks = st.dictionaries(
    keys,
    st.dictionaries(
        hexes,
        st.builds(Mark, st.floats(0, 2e9), maybe_hex, st.booleans()),
        max_size=2,
    ),
    max_size=3,
)
manifests = st.builds(
    Manifest,
    entries=st.dictionaries(keys, entries, max_size=20),
    deploys=st.integers(0, 1000),
    unsettled=st.lists(keys, max_size=3),
    in_flight=marks,
)


@given(manifests)
def test_a_manifest_reads_back_as_written(manifest: Manifest) -> None:
    parsed = parse_manifest(serialize_manifest(manifest))
    assert parsed == manifest
    digests = {id(entry.spec_digest) for entry in parsed.entries.values()}
    assert len(digests) == len({e.spec_digest for e in parsed.entries.values()})


@given(manifests)
def test_a_manifest_is_written_as_cattrs_would_write_it(manifest: Manifest) -> None:
    """The entries are written field by field for speed: every field, and
    nothing else, exactly as cattrs unstructures them."""
    cattrs_bytes = json.dumps(
        converter.unstructure(manifest), sort_keys=True, separators=(",", ":")
    ).encode()
    assert serialize_manifest(manifest) == cattrs_bytes


BAD_VALUES = {
    "sha1": [None, 1, True, []],
    "spec_digest": [1, [], {}],
    "source": [2, False],
    "deploy": [None, "1", True, 1.5],
    "size": ["1", True, 2.0],
    "etag": [3, {}],
}


@pytest.mark.parametrize(
    ("field", "value"),
    [(field, value) for field, values in BAD_VALUES.items() for value in values],
)
@settings(max_examples=20)
@given(manifest=manifests, where=st.integers(0, 19))
def test_an_entry_of_another_shape_is_named_and_refused(
    field: str, value: object, manifest: Manifest, where: int
) -> None:
    raw = json.loads(serialize_manifest(manifest))
    good = {"sha1": "a" * 40, "spec_digest": None}
    keys = list(raw["entries"]) or ["static/x.css"]
    raw["entries"].setdefault(keys[0], good)
    raw["entries"][keys[where % len(keys)]] = {**good, field: value}
    with pytest.raises(ManifestError, match=r"is not valid \(.*\$\.entries"):
        parse_manifest(json.dumps(raw).encode())


def test_an_entry_missing_a_field_or_with_an_unknown_one() -> None:
    missing = {"version": 2, "entries": {"a": {"sha1": "1"}}}
    with pytest.raises(ManifestError, match="spec_digest"):
        parse_manifest(json.dumps(missing).encode())
    # Unknown fields of an entry are ignored, as cattrs ignores them.
    extra = {"version": 2, "entries": {"a": {"sha1": "1", "spec_digest": None, "x": 1}}}
    assert parse_manifest(json.dumps(extra).encode()) == Manifest(
        {"a": ManifestEntry("1", None)}
    )


def test_entry_shaped_objects_elsewhere_are_not_taken_for_entries() -> None:
    # An entries object whose keys happen to be an entry's field names.
    odd = {"version": 2, "entries": {"sha1": "1", "spec_digest": None}}
    with pytest.raises(ManifestError, match="is not valid"):
        parse_manifest(json.dumps(odd).encode())
    entry = {"sha1": "1", "spec_digest": None}
    marked = {"version": 2, "entries": {}, "in_flight": {"k": {"run": entry}}}
    with pytest.raises(ManifestError, match="is not valid"):
        parse_manifest(json.dumps(marked).encode())
