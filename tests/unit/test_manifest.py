from __future__ import annotations

import json

import attrs
import pytest

from flask_s3.core.manifest import (
    Change,
    Manifest,
    ManifestEntry,
    Mark,
    apply,
    manifest_from,
    manifest_key,
    parse_legacy_hashes,
    parse_manifest,
    serialize_manifest,
)
from flask_s3.errors import ManifestError

NO_ANSWER = {"source": None, "deploy": 0, "size": None, "etag": None}


def test_round_trip_and_stable_bytes() -> None:
    manifest = Manifest(
        {"b": ManifestEntry("2" * 40, "f"), "a": ManifestEntry("1" * 40, None)}
    )
    body = serialize_manifest(manifest)
    assert parse_manifest(body) == manifest
    assert json.loads(body) == {
        "entries": {
            "a": {**NO_ANSWER, "sha1": "1" * 40, "spec_digest": None},
            "b": {**NO_ANSWER, "sha1": "2" * 40, "spec_digest": "f"},
        },
        "version": 2,
        "deploys": 0,
        "unsettled": [],
        "in_flight": {},
    }
    assert body == serialize_manifest(
        Manifest(dict(reversed(list(manifest.entries.items()))))
    )


def test_legacy_file_hashes_drop_the_leading_slash() -> None:
    body = json.dumps({"/static/a.css": "abc", "/Pre/static/b.js": "def"}).encode()
    assert parse_legacy_hashes(body) == Manifest(
        {
            "static/a.css": ManifestEntry("abc", None),
            "Pre/static/b.js": ManifestEntry("def", None),
        }
    )


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[]",
        b'{"entries": {"a": 1}}',
        b'{"entries": {}, "version": 3}',
    ],
)
def test_unreadable_manifest_is_an_error_that_says_what_to_do(body: bytes) -> None:
    with pytest.raises(
        ManifestError, match=r"flask-s3-manifest\.json (is not valid|has format 3)"
    ):
        parse_manifest(body)


@pytest.mark.parametrize("body", [b"{", b'{"/static/a.css": 5}', b"[1]"])
def test_unreadable_legacy_hashes_are_an_error(body: bytes) -> None:
    with pytest.raises(ManifestError, match=r"\.file-hashes"):
        parse_legacy_hashes(body)


def test_each_prefix_has_its_own_manifest() -> None:
    assert manifest_key("") == ".flask-s3-manifest.json"
    assert manifest_key("/Release/1/") == "Release/1/.flask-s3-manifest.json"


def test_manifest_from_prefers_ours_then_legacy_then_nothing() -> None:
    ours = serialize_manifest(Manifest({"static/a.css": ManifestEntry("1" * 40, "f")}))
    legacy = json.dumps({"/static/b.css": "2" * 40}).encode()
    assert manifest_from(ours, legacy) == (parse_manifest(ours), "flask-s3")
    assert manifest_from(None, legacy) == (
        parse_legacy_hashes(legacy),
        "flask-s3 0.3.x",
    )
    assert manifest_from(None, None) == (Manifest(), "none")


def test_a_change_keeps_another_runs_unsettled_keys_and_drops_what_it_settled() -> None:
    base = Manifest(unsettled=("static/a.css", "static/b.css"))
    latest = Manifest(unsettled=("static/a.css", "static/b.css", "static/z.css"))
    change = Change(
        unsettle=frozenset({"static/c.css"}), settle=frozenset({"static/a.css"})
    )
    merged = apply(change, base=base, latest=latest, run="r", now=0.0)
    assert merged.unsettled == ("static/b.css", "static/c.css", "static/z.css")


def test_format_1_is_read_under_todays_field_names() -> None:
    body = json.dumps(
        {
            "entries": {
                "a": {"sha1": "1" * 40, "fingerprint": "f", "source": None, "deploy": 2}
            },
            "version": 1,
            "deploys": 2,
            "unsettled": [],
        }
    ).encode()
    manifest = parse_manifest(body)
    assert manifest.entries == {"a": ManifestEntry("1" * 40, "f", None, 2)}
    assert json.loads(serialize_manifest(manifest))["version"] == 2


def test_values_are_values() -> None:
    """Frozen means frozen: the entries cannot be changed and a record hashes."""
    manifest = Manifest({"a": ManifestEntry("1" * 40, "f")})
    with pytest.raises(TypeError):
        manifest.entries["b"] = ManifestEntry("2" * 40, "f")  # type: ignore[index]
    assert hash(manifest) == hash(Manifest({"a": ManifestEntry("1" * 40, "f")}))


def test_an_entry_restamped_with_a_deploy_keeps_every_other_field() -> None:
    """`at_deploy` builds the entry by position, for speed: a field added
    later must not be reset on every skipped file."""
    fields = attrs.fields(ManifestEntry)
    entry = ManifestEntry(
        **{field.name: f"value of {field.name}" for field in fields}  # type: ignore[arg-type]
    )

    assert entry.at_deploy(7) == attrs.evolve(entry, deploy=7)


def test_a_change_of_nothing_gives_the_record_back_unless_a_mark_expired() -> None:
    entry = ManifestEntry("1" * 40, "f", deploy=3)
    latest = Manifest({"static/a.css": entry}, deploys=3)
    assert apply(Change(deploys=3), base=latest, latest=latest, run="r", now=0.0) is (
        latest
    )
    newer = apply(Change(deploys=4), base=latest, latest=latest, run="r", now=0.0)
    assert newer.deploys == 4
    dead = Manifest(
        {"static/a.css": entry},
        deploys=3,
        in_flight={"static/b.css": {"gone": Mark(since=0.0, writes=None)}},
    )
    cleaned = apply(Change(deploys=3), base=dead, latest=dead, run="r", now=1e9)
    assert cleaned == Manifest({"static/a.css": entry}, deploys=3)
