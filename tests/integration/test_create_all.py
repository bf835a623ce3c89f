"""create_all against moto in-process: what lands in the bucket, and how.

Every test publishes the test site (an app static folder, a blueprint under a
url_prefix, a nested blueprint) and reads back keys, bytes, headers, ACLs and
the manifest exactly as S3 reports them.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest
from botocore.exceptions import ClientError

import flask_s3.adapters.objects as objects_adapter
from flask_s3 import UploadFailed, create_all
from flask_s3.adapters.listed_files import ListedFile
from flask_s3.adapters.manifest_store import ManifestStore
from flask_s3.adapters.objects import Objects
from flask_s3.core import SettingsError, resolve_settings
from flask_s3.core.manifest import Stored
from flask_s3.core.upload_plan import PlannedAsset
from flask_s3.core.upload_result import FailedUpload
from flask_s3.core.upload_spec import upload_spec
from tests.integration.moto_site import (
    BUCKET,
    CONTENT_TYPES,
    CSS,
    FILES,
    HIDDEN_KEYS,
    MANIFEST,
    OWNER_ONLY,
    PUBLIC_READ,
    VISIBLE_KEYS,
    Site,
    Wire,
    body_of,
    build_site,
    grants,
    keys_in,
    manifest_of,
    relative_of,
    sha1,
    stored,
)

if TYPE_CHECKING:
    from types_boto3_s3.client import S3Client

EXPIRES = "Wed, 01 Dec 2094 16:00:00 GMT"


# Keys and discovery


def unstamped(entry: dict[str, object]) -> dict[str, object]:
    """A manifest entry without its deploy stamp, which every run covering
    the file renews."""
    return {name: value for name, value in entry.items() if name != "deploy"}


def test_every_file_lands_at_the_path_flask_serves_it(s3: S3Client, site: Site) -> None:
    result = create_all(site.app)
    assert keys_in(s3) == sorted([*VISIBLE_KEYS, MANIFEST])
    assert sorted(result.uploaded) == VISIBLE_KEYS
    assert result.skipped == ()
    assert result.failed == ()
    assert result.bytes_uploaded == sum(len(site.body(key)) for key in VISIBLE_KEYS)
    client = site.app.test_client()
    for key in VISIBLE_KEYS:
        served = client.get("/" + key)
        assert served.status_code == 200, key
        assert served.data == body_of(s3, key) == site.body(key)
        served.close()


def test_s3_prefix_goes_in_front_of_every_key_and_the_manifest(
    s3: S3Client, site: Site
) -> None:
    site.app.config["S3_PREFIX"] = "/Deploy/v2/"
    create_all(site.app)
    prefixed = [f"Deploy/v2/{key}" for key in VISIBLE_KEYS]
    assert keys_in(s3) == sorted([*prefixed, f"Deploy/v2/{MANIFEST}"])
    manifest = manifest_of(s3, f"Deploy/v2/{MANIFEST}")
    assert sorted(manifest["entries"]) == prefixed
    assert manifest["entries"]["Deploy/v2/static/css/a.css"]["sha1"] == sha1(CSS)
    assert body_of(s3, "Deploy/v2/admin/child/kid/child.css") == site.body(
        "admin/child/kid/child.css"
    )


def test_hidden_files_and_dirs_are_skipped_unless_asked_for(
    s3: S3Client, site: Site
) -> None:
    create_all(site.app)
    assert keys_in(s3) == sorted([*VISIBLE_KEYS, MANIFEST])
    result = create_all(site.app, include_hidden=True)
    assert sorted(result.uploaded) == sorted([*VISIBLE_KEYS, *HIDDEN_KEYS])
    assert keys_in(s3) == sorted([*VISIBLE_KEYS, *HIDDEN_KEYS, MANIFEST])
    for key in HIDDEN_KEYS:
        assert body_of(s3, key) == site.body(key)
    assert sorted(manifest_of(s3)["entries"]) == sorted([*VISIBLE_KEYS, *HIDDEN_KEYS])


def test_filter_is_searched_in_the_path_relative_to_the_static_folder(
    s3: S3Client, site: Site
) -> None:
    # Anchored: "^css/" matches "css/a.css" but not "static/css/a.css".
    result = create_all(site.app, filepath_filter_regex=r"^css/")
    assert result.uploaded == ("static/css/a.css",)
    assert keys_in(s3) == sorted(["static/css/a.css", MANIFEST])
    result = create_all(site.app, filepath_filter_regex=r"\.css$")
    assert sorted(result.uploaded) == [
        "admin/assets/admin.css",
        "admin/child/kid/child.css",
        "static/css/a.css",
    ]
    # Searched, not matched: "js/admin.js" has "admin" in the middle. And not in
    # the key: "admin/child/kid/child.css" is "child.css" in its folder.
    result = create_all(site.app, filepath_filter_regex="admin")
    assert sorted(result.uploaded) == [
        "admin/assets/admin.css",
        "admin/assets/js/admin.js",
    ]


def test_a_filtered_run_keeps_the_other_keys_in_the_manifest(
    s3: S3Client, site: Site
) -> None:
    site.app.config["S3_ONLY_MODIFIED"] = True
    create_all(site.app)
    before = manifest_of(s3)
    site.write("static/js/app.js", b"// changed js\n")
    site.write("static/css/a.css", b"/* changed css */\n")
    result = create_all(site.app, filepath_filter_regex=r"\.js$")
    assert sorted(result.uploaded) == ["static/js/app.js"]
    assert sorted(result.skipped) == ["admin/assets/js/admin.js"]
    after = manifest_of(s3)
    assert sorted(after["entries"]) == VISIBLE_KEYS
    assert after["version"] == 2
    assert after["entries"]["static/js/app.js"]["sha1"] == sha1(b"// changed js\n")
    # The css was changed too but outside the filter: its record is untouched,
    # so the next unfiltered run still sends it.
    for key in VISIBLE_KEYS:
        if key != "static/js/app.js":
            assert unstamped(after["entries"][key]) == unstamped(
                before["entries"][key]
            ), key
    assert body_of(s3, "static/css/a.css") == CSS
    assert create_all(site.app).uploaded == ("static/css/a.css",)
    assert body_of(s3, "static/css/a.css") == b"/* changed css */\n"


def test_manifest_format_and_values(s3: S3Client, site: Site) -> None:
    create_all(site.app)
    raw = body_of(s3, MANIFEST)
    manifest = json.loads(raw)
    assert set(manifest) == {
        "entries",
        "version",
        "deploys",
        "unsettled",
        "in_flight",
    }
    assert manifest["unsettled"] == []
    assert manifest["in_flight"] == {}
    assert manifest["version"] == 2
    assert manifest["deploys"] == 1
    assert sorted(manifest["entries"]) == VISIBLE_KEYS
    settings = resolve_settings(site.app.config)
    for key, entry in manifest["entries"].items():
        relative = relative_of(key)
        assert entry == {
            "spec_digest": upload_spec(settings, relative, acl="public-read").digest,
            "sha1": sha1(site.body(key)),
            "source": None,
            "deploy": 1,
            "size": len(site.body(key)),
            "etag": hashlib.md5(site.body(key)).hexdigest(),
        }, key
    head = s3.head_object(Bucket=BUCKET, Key=MANIFEST)
    assert head["ContentType"] == "application/json"


# Bodies


def test_downloaded_bytes_equal_local_bytes(s3: S3Client, site: Site) -> None:
    create_all(site.app)
    for key in VISIBLE_KEYS:
        response = s3.get_object(Bucket=BUCKET, Key=key)
        assert response["Body"].read() == site.body(key), key
        assert "ContentEncoding" not in response, key
        assert response["ETag"] == f'"{hashlib.md5(site.body(key)).hexdigest()}"'


def test_gzip_bodies_gunzip_to_local_bytes_deterministically(
    s3: S3Client, site: Site
) -> None:
    site.app.config["S3_GZIP"] = True
    create_all(site.app)
    first = {key: s3.get_object(Bucket=BUCKET, Key=key) for key in VISIBLE_KEYS}
    first_bodies = {key: response["Body"].read() for key, response in first.items()}
    for key in VISIBLE_KEYS:
        assert first[key]["ContentEncoding"] == "gzip", key
        assert first[key]["ContentType"] == CONTENT_TYPES[key], key
        assert gzip.decompress(first_bodies[key]) == site.body(key), key
    assert len(first_bodies["static/css/a.css"]) < len(CSS) // 10
    create_all(site.app)
    for key in VISIBLE_KEYS:
        again = s3.get_object(Bucket=BUCKET, Key=key)
        assert again["Body"].read() == first_bodies[key], key
        assert again["ETag"] == first[key]["ETag"], key


def test_gzip_only_exts_limits_compression(s3: S3Client, site: Site) -> None:
    site.app.config.update(S3_GZIP=True, S3_GZIP_ONLY_EXTS=[".css", ".svg"])
    create_all(site.app)
    for key in VISIBLE_KEYS:
        response = s3.get_object(Bucket=BUCKET, Key=key)
        body = response["Body"].read()
        assert response["ContentType"] == CONTENT_TYPES[key], key
        if key.endswith((".css", ".svg")):
            assert response["ContentEncoding"] == "gzip", key
            assert gzip.decompress(body) == site.body(key), key
        else:
            assert "ContentEncoding" not in response, key
            assert body == site.body(key), key


# Headers


@pytest.mark.parametrize("gzipped", [False, True])
@pytest.mark.parametrize("force_mimetype", [False, True])
def test_content_type_is_always_set(
    s3: S3Client, site: Site, gzipped: bool, force_mimetype: bool
) -> None:
    site.app.config.update(S3_GZIP=gzipped, S3_FORCE_MIMETYPE=force_mimetype)
    create_all(site.app)
    for key, content_type in CONTENT_TYPES.items():
        head = s3.head_object(Bucket=BUCKET, Key=key)
        assert head["ContentType"] == content_type, key
        assert head.get("ContentEncoding") == ("gzip" if gzipped else None), key


def test_force_mimetype_beats_a_content_type_in_s3_headers(
    s3: S3Client, site: Site
) -> None:
    site.app.config.update(
        S3_HEADERS={"Content-Type": "text/plain"}, S3_FORCE_MIMETYPE=True
    )
    create_all(site.app)
    for key, content_type in CONTENT_TYPES.items():
        assert s3.head_object(Bucket=BUCKET, Key=key)["ContentType"] == content_type


def test_s3_headers_become_real_headers_or_metadata(s3: S3Client, site: Site) -> None:
    site.app.config["S3_HEADERS"] = {
        "Cache-Control": "max-age=31536000, public",
        "Expires": EXPIRES,
        "X-Team": "storefront",
        "x-amz-meta-build": "1234",
    }
    create_all(site.app)
    for key in VISIBLE_KEYS:
        head = s3.head_object(Bucket=BUCKET, Key=key)
        headers = head["ResponseMetadata"]["HTTPHeaders"]
        assert head["CacheControl"] == "max-age=31536000, public", key
        assert headers["cache-control"] == "max-age=31536000, public", key
        assert headers["expires"] == EXPIRES, key
        assert head["ContentType"] == CONTENT_TYPES[key], key
        assert head["Metadata"] == {"x-team": "storefront", "build": "1234"}, key


def test_filepath_headers_apply_to_matching_files_only(
    s3: S3Client, site: Site
) -> None:
    site.app.config.update(
        S3_HEADERS={"Cache-Control": "max-age=60"},
        S3_FILEPATH_HEADERS={
            r"\.css$": {"Cache-Control": "max-age=86400", "X-Kind": "style"},
            r"^js/": {"Content-Language": "en"},
        },
    )
    create_all(site.app)
    for key in VISIBLE_KEYS:
        head = s3.head_object(Bucket=BUCKET, Key=key)
        is_css = key.endswith(".css")
        assert head["CacheControl"] == ("max-age=86400" if is_css else "max-age=60")
        assert head["Metadata"] == ({"x-kind": "style"} if is_css else {}), key
        in_js_dir = key in ("static/js/app.js", "admin/assets/js/admin.js")
        assert head.get("ContentLanguage") == ("en" if in_js_dir else None), key
        assert head["ContentType"] == CONTENT_TYPES[key], key


# ACLs


def test_objects_are_public_read_and_the_bucket_is_made_public(
    s3: S3Client, site: Site, wire: Wire
) -> None:
    create_all(site.app)
    assert len(wire.bucket_acl_puts) == 1
    assert grants(s3.get_bucket_acl(Bucket=BUCKET)) == PUBLIC_READ
    for key in VISIBLE_KEYS:
        assert grants(s3.get_object_acl(Bucket=BUCKET, Key=key)) == PUBLIC_READ, key
        (put,) = wire.to(key)
        assert put.headers["x-amz-acl"] == "public-read", key


def test_put_bucket_acl_false_leaves_the_bucket_acl_alone(
    s3: S3Client, site: Site, wire: Wire
) -> None:
    create_all(site.app, put_bucket_acl=False)
    assert wire.bucket_acl_puts == []
    assert grants(s3.get_bucket_acl(Bucket=BUCKET)) == OWNER_ONLY
    for key in VISIBLE_KEYS:
        assert grants(s3.get_object_acl(Bucket=BUCKET, Key=key)) == PUBLIC_READ, key


def test_object_acl_private_is_sent_and_leaves_objects_owner_only(
    s3: S3Client, site: Site, wire: Wire
) -> None:
    site.app.config["S3_OBJECT_ACL"] = "private"
    create_all(site.app)
    assert grants(s3.get_bucket_acl(Bucket=BUCKET)) == PUBLIC_READ
    for key in VISIBLE_KEYS:
        assert grants(s3.get_object_acl(Bucket=BUCKET, Key=key)) == OWNER_ONLY, key
        (put,) = wire.to(key)
        assert put.headers["x-amz-acl"] == "private", key


def test_object_acl_none_sends_no_acl(s3: S3Client, site: Site, wire: Wire) -> None:
    site.app.config["S3_OBJECT_ACL"] = None
    # moto gives an object put without an ACL the bucket's ACL (S3 does not), so
    # the bucket stays private here for the grants to show that none was sent.
    create_all(site.app, put_bucket_acl=False)
    for key in VISIBLE_KEYS:
        assert grants(s3.get_object_acl(Bucket=BUCKET, Key=key)) == OWNER_ONLY, key
        (put,) = wire.to(key)
        assert "x-amz-acl" not in put.headers, key
        assert "x-amz-grant-read" not in put.headers, key


def test_a_bucket_with_acls_disabled_gets_no_acl(
    s3: S3Client, site: Site, wire: Wire, caplog: pytest.LogCaptureFixture
) -> None:
    s3.create_bucket(Bucket=BUCKET, ObjectOwnership="BucketOwnerEnforced")
    bucket_acl = s3.get_bucket_acl(Bucket=BUCKET)["Grants"]
    with caplog.at_level(logging.DEBUG, logger="flask_s3"):
        result = create_all(site.app)
    assert sorted(result.uploaded) == VISIBLE_KEYS
    assert s3.get_bucket_acl(Bucket=BUCKET)["Grants"] == bucket_acl
    assert wire.bucket_acl_puts == []
    assert [r for r in wire.requests if "x-amz-acl" in r.headers] == []
    for key in VISIBLE_KEYS:
        assert grants(s3.get_object_acl(Bucket=BUCKET, Key=key)) == OWNER_ONLY, key
    # Exactly one INFO line says why; warnings about public read may follow.
    assert [
        (record.name, record.getMessage())
        for record in caplog.records
        if record.name.startswith("flask_s3") and record.levelno == logging.INFO
    ] == [
        (
            "flask_s3",
            f"bucket {BUCKET} has ACLs disabled (Object Ownership: "
            "BucketOwnerEnforced), so no ACLs are sent; grant public read with a "
            "bucket policy",
        )
    ]


# Region


@pytest.mark.parametrize("how", ["location", "S3_REGION"])
def test_bucket_is_created_in_the_requested_region(
    s3: S3Client, site: Site, how: str
) -> None:
    if how == "location":
        create_all(site.app, location="eu-west-1")
    else:
        site.app.config["S3_REGION"] = "eu-west-1"
        create_all(site.app)
    location = s3.get_bucket_location(Bucket=BUCKET)["LocationConstraint"]
    assert location == "eu-west-1"
    assert keys_in(s3) == sorted([*VISIBLE_KEYS, MANIFEST])


def test_bucket_is_created_in_us_east_1_by_default(s3: S3Client, site: Site) -> None:
    create_all(site.app)
    assert s3.get_bucket_location(Bucket=BUCKET)["LocationConstraint"] is None


# Flask-S3 0.3.x buckets


@pytest.mark.parametrize("prefix", ["", "Deploy"])
def test_a_0_3_bucket_is_not_uploaded_again_in_full(
    s3: S3Client, site: Site, prefix: str
) -> None:
    # What 0.3.x left behind: the objects, and .file-hashes at the bucket root
    # keyed by "/" + key (its FLASKS3_PREFIX included), written by a run with
    # its own config names.
    site.app.config.update(FLASKS3_ONLY_MODIFIED=True, FLASKS3_PREFIX=prefix)
    base = f"{prefix}/" if prefix else ""
    keys = [base + key for key in VISIBLE_KEYS]
    s3.create_bucket(Bucket=BUCKET)
    for key in VISIBLE_KEYS:
        s3.put_object(Bucket=BUCKET, Key=base + key, Body=site.body(key))
    hashes = {f"/{base}{key}": sha1(site.body(key)) for key in VISIBLE_KEYS}
    s3.put_object(Bucket=BUCKET, Key=".file-hashes", Body=json.dumps(hashes))
    site.write("static/css/a.css", b"/* edited since 0.3.x */")
    added = base + site.add("static", "js/added.js", b"// new since 0.3.x\n")

    result = create_all(site.app)

    assert sorted(result.uploaded) == sorted([f"{base}static/css/a.css", added])
    # 0.3.x recorded no headers: the unchanged objects get theirs in place.
    assert sorted(result.fixed) == [
        key for key in keys if key != f"{base}static/css/a.css"
    ]
    assert result.skipped == ()
    assert body_of(s3, f"{base}static/css/a.css") == b"/* edited since 0.3.x */"
    assert body_of(s3, added) == b"// new since 0.3.x\n"
    manifest = manifest_of(s3, base + MANIFEST)
    settings = resolve_settings(site.app.config)
    assert manifest == {
        "entries": {
            key: {
                "spec_digest": upload_spec(
                    settings, relative_of(key.removeprefix(base)), acl="public-read"
                ).digest,
                "sha1": sha1(site.body(key.removeprefix(base))),
                "source": None,
                "deploy": 1,
                **stored(s3, key),
            }
            for key in [*keys, added]
        },
        "version": 2,
        "deploys": 1,
        "unsettled": [],
        "in_flight": {},
    }
    second = create_all(site.app)
    assert second.uploaded == ()
    assert sorted(second.skipped) == sorted([*keys, added])


def test_0_3_records_are_read_only_where_ours_is_missing(
    s3: S3Client, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bucket that moved on from 0.3.x keeps its .file-hashes, as big as
    our manifest: a run asks for both at once, to save a round trip where
    ours is missing, and leaves 0.3.x's body unread once ours is there."""
    site.app.config["S3_ONLY_MODIFIED"] = True
    s3.create_bucket(Bucket=BUCKET)
    hashes = {f"/{key}": sha1(site.body(key)) for key in VISIBLE_KEYS}
    s3.put_object(Bucket=BUCKET, Key=".file-hashes", Body=json.dumps(hashes))
    decoded: list[str] = []
    real = ManifestStore._text

    def recording(self: ManifestStore, body: bytes, key: str) -> str:
        decoded.append(key)
        return real(self, body, key)

    monkeypatch.setattr(ManifestStore, "_text", recording)
    create_all(site.app)
    assert ".file-hashes" in decoded
    decoded.clear()

    second = create_all(site.app)

    assert decoded == [MANIFEST]
    assert sorted(second.skipped) == VISIBLE_KEYS


# S3_ONLY_MODIFIED


def test_only_modified_sends_only_what_changed(
    s3: S3Client, site: Site, wire: Wire
) -> None:
    site.app.config["S3_ONLY_MODIFIED"] = True

    def objects_put() -> list[str]:
        """The asset keys PUT since the last call (the manifest aside)."""
        sent = [
            urlsplit(request.url).path.removeprefix("/")
            for request in wire.requests
            if request.method == "PUT" and urlsplit(request.url).path != "/"
        ]
        wire.requests.clear()
        return sorted(key for key in sent if key != MANIFEST)

    assert sorted(create_all(site.app).uploaded) == VISIBLE_KEYS
    assert objects_put() == VISIBLE_KEYS

    unchanged = create_all(site.app)
    assert unchanged.uploaded == ()
    assert sorted(unchanged.skipped) == VISIBLE_KEYS
    assert unchanged.bytes_uploaded == 0
    # Nothing written at all: no asset, no manifest, no ACL.
    assert [r.url for r in wire.requests if r.method == "PUT"] == [
        r.url for r in wire.bucket_acl_puts
    ]
    wire.requests.clear()

    site.write("admin/child/kid/child.css", b".child { padding: 2px; }\n")
    one = create_all(site.app)
    assert one.uploaded == ("admin/child/kid/child.css",)
    assert sorted(one.skipped) == [
        key for key in VISIBLE_KEYS if key != "admin/child/kid/child.css"
    ]
    assert objects_put() == ["admin/child/kid/child.css"]
    assert body_of(s3, "admin/child/kid/child.css") == b".child { padding: 2px; }\n"

    site.app.config["S3_HEADERS"] = {"Cache-Control": "max-age=600"}
    settings_changed = create_all(site.app)
    assert sorted(settings_changed.uploaded) == VISIBLE_KEYS
    assert settings_changed.skipped == ()
    assert objects_put() == VISIBLE_KEYS
    for key in VISIBLE_KEYS:
        head = s3.head_object(Bucket=BUCKET, Key=key)
        assert head["CacheControl"] == "max-age=600", key
    assert create_all(site.app).uploaded == ()
    assert objects_put() == []


def test_without_only_modified_every_file_is_sent_each_run(
    s3: S3Client, site: Site, wire: Wire
) -> None:
    for _ in range(2):
        result = create_all(site.app)
        assert sorted(result.uploaded) == VISIBLE_KEYS
        assert result.skipped == ()
    for key in VISIBLE_KEYS:
        assert len(wire.to(key)) == 2, key


# Multipart


def test_a_file_over_the_multipart_threshold_arrives_intact(
    s3: S3Client, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    part = 5 * 1024 * 1024
    monkeypatch.setattr(objects_adapter, "MULTIPART_THRESHOLD", part)
    big = hashlib.sha256(b"seed").digest() * ((11 * 1024 * 1024) // 32 + 7)
    key = site.add("static", "video/big.bin", big)
    result = create_all(site.app, filepath_filter_regex=r"^video/")
    assert result.uploaded == (key,)
    assert result.bytes_uploaded == len(big)
    response = s3.get_object(Bucket=BUCKET, Key=key)
    assert response["Body"].read() == big
    parts = [big[i : i + part] for i in range(0, len(big), part)]
    assert len(parts) == 3
    combined = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts))
    assert response["ETag"] == f'"{combined.hexdigest()}-3"'
    assert response["ContentType"] == "application/octet-stream"
    assert grants(s3.get_object_acl(Bucket=BUCKET, Key=key)) == PUBLIC_READ


def test_a_big_file_streams_its_parts_from_the_listed_file(
    s3: S3Client, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Parts are read as they are sent, a bounded read at a time, not each
    read whole into memory first: many big files in flight would otherwise
    hold a part or two each."""
    part = 5 * 1024 * 1024
    monkeypatch.setattr(objects_adapter, "MULTIPART_THRESHOLD", part)
    reads: list[int] = []
    readinto = ListedFile.readinto

    def counted(self: ListedFile, buffer: Any) -> int:
        count = readinto(self, buffer)
        reads.append(count)
        return count

    monkeypatch.setattr(ListedFile, "readinto", counted)
    big = random.Random(1).randbytes(11 * 1024 * 1024)
    key = site.add("static", "video/big.bin", big)
    assert create_all(site.app, filepath_filter_regex=r"^video/").uploaded == (key,)
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == big
    assert sum(reads) >= len(big)
    assert max(reads) <= 1024 * 1024


def test_a_gzipped_file_over_the_threshold_is_sent_in_parts(
    s3: S3Client, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    part = 5 * 1024 * 1024
    monkeypatch.setattr(objects_adapter, "MULTIPART_THRESHOLD", part)
    # Incompressible, so the gzipped body is still over the threshold.
    big = random.Random(0).randbytes(11 * 1024 * 1024)
    key = site.add("static", "video/big.bin", big)
    site.app.config["S3_GZIP"] = True
    assert create_all(site.app, filepath_filter_regex=r"^video/").uploaded == (key,)
    response = s3.get_object(Bucket=BUCKET, Key=key)
    body = response["Body"].read()
    assert gzip.decompress(body) == big
    assert response["ContentEncoding"] == "gzip"
    assert response["ContentType"] == "application/octet-stream"
    parts = [body[i : i + part] for i in range(0, len(body), part)]
    assert len(parts) == 3
    combined = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts))
    assert response["ETag"] == f'"{combined.hexdigest()}-3"'


# Failures and repair


@dataclass
class Faults:
    """Uploads of the ``doomed`` keys fail as S3 refuses a PUT; ``attempted``
    records every key an upload was tried for. Clear both for a clean run."""

    doomed: set[str]
    attempted: list[str] = field(default_factory=list)


def inject_faults(monkeypatch: pytest.MonkeyPatch, *doomed: str) -> Faults:
    faults = Faults(set(doomed))
    original = Objects.upload

    def upload(self: Objects, item: PlannedAsset) -> Stored:
        faults.attempted.append(item.key)
        if item.key in faults.doomed:
            raise ClientError(
                {"Error": {"Code": "AccessDenied", "Message": "Access Denied"}},
                "PutObject",
            )
        return original(self, item)

    monkeypatch.setattr(Objects, "upload", upload)
    return faults


def test_failed_uploads_are_reported_and_a_rerun_sends_exactly_them(
    s3: S3Client, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    site.app.config["S3_ONLY_MODIFIED"] = True
    doomed = {"static/js/app.js", "admin/assets/admin.css"}
    faults = inject_faults(monkeypatch, *doomed)

    with pytest.raises(UploadFailed) as raised:
        create_all(site.app)

    assert str(raised.value) == (
        "2 of 8 uploads failed; run the upload again to retry them\n"
        "  admin/assets/admin.css: AccessDenied: Access Denied\n"
        "  static/js/app.js: AccessDenied: Access Denied"
    )
    result = raised.value.result
    assert result.failed == (
        FailedUpload("admin/assets/admin.css", "AccessDenied: Access Denied"),
        FailedUpload("static/js/app.js", "AccessDenied: Access Denied"),
    )
    arrived = [key for key in VISIBLE_KEYS if key not in doomed]
    assert sorted(result.uploaded) == arrived
    assert keys_in(s3) == sorted([*arrived, MANIFEST])
    assert sorted(manifest_of(s3)["entries"]) == arrived

    assert sorted(faults.attempted) == VISIBLE_KEYS
    faults.doomed.clear()
    faults.attempted.clear()
    repaired = create_all(site.app)
    assert sorted(repaired.uploaded) == sorted(doomed)
    assert sorted(faults.attempted) == sorted(doomed)
    assert sorted(repaired.skipped) == arrived
    assert sorted(manifest_of(s3)["entries"]) == VISIBLE_KEYS
    for key in VISIBLE_KEYS:
        assert body_of(s3, key) == site.body(key), key


def test_a_failed_replacement_is_dropped_from_the_manifest(
    s3: S3Client, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    site.app.config["S3_ONLY_MODIFIED"] = True
    create_all(site.app)
    before = manifest_of(s3)
    site.write("static/css/a.css", b"/* v2 a */")
    site.write("static/img/logo.svg", b"<svg/>")
    faults = inject_faults(monkeypatch, "static/img/logo.svg")

    with pytest.raises(UploadFailed) as raised:
        create_all(site.app)

    assert str(raised.value) == (
        "1 of 2 uploads failed; run the upload again to retry them\n"
        "  static/img/logo.svg: AccessDenied: Access Denied"
    )
    assert raised.value.result.uploaded == ("static/css/a.css",)
    after = manifest_of(s3)["entries"]
    assert sorted(after) == [
        key for key in VISIBLE_KEYS if key != "static/img/logo.svg"
    ]
    assert after["static/css/a.css"]["sha1"] == sha1(b"/* v2 a */")
    for key in after:
        if key != "static/css/a.css":
            assert unstamped(after[key]) == unstamped(before["entries"][key]), key

    # The failed PUT left the old logo in place, and no record claims otherwise.
    assert body_of(s3, "static/img/logo.svg") == FILES["static/img/logo.svg"]
    faults.doomed.clear()
    faults.attempted.clear()
    repaired = create_all(site.app)
    assert repaired.uploaded == ("static/img/logo.svg",)
    assert faults.attempted == ["static/img/logo.svg"]
    assert body_of(s3, "static/img/logo.svg") == b"<svg/>"


# Credentials


CONFIG_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "AKIACONFIG0000000000",
    "AWS_SECRET_ACCESS_KEY": "config-secret",
    "AWS_SESSION_TOKEN": "config-token",
}


@pytest.mark.parametrize(
    ("arguments", "config", "expected"),
    [
        (
            {"user": "AKIAARGUMENTS0000000", "password": "argument-secret"},
            CONFIG_CREDENTIALS,
            ("AKIAARGUMENTS0000000", "argument-secret", None),
        ),
        (
            {},
            CONFIG_CREDENTIALS,
            ("AKIACONFIG0000000000", "config-secret", "config-token"),
        ),
        ({}, {}, ("AKIAENVIRONMENT00000", "environment-secret", None)),
        (
            {"user": "AKIAARGUMENTS0000000"},
            CONFIG_CREDENTIALS,
            ("AKIAARGUMENTS0000000", "config-secret", None),
        ),
        (
            {"password": "argument-secret"},
            CONFIG_CREDENTIALS,
            ("AKIACONFIG0000000000", "argument-secret", None),
        ),
    ],
    ids=["arguments", "config", "environment", "user-only", "password-only"],
)
def test_credentials_arguments_then_config_then_environment(
    s3: S3Client,
    site: Site,
    wire: Wire,
    monkeypatch: pytest.MonkeyPatch,
    arguments: dict[str, Any],
    config: dict[str, str],
    expected: tuple[str, str, str | None],
) -> None:
    # Set after mock_aws started: it puts its own keys in the environment.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAENVIRONMENT00000")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "environment-secret")
    site.app.config.update(config)
    create_all(site.app, **arguments)
    (client,) = wire.clients
    frozen = client._request_signer._credentials.get_frozen_credentials()
    assert (frozen.access_key, frozen.secret_key, frozen.token) == expected
    assert len(wire.requests) > len(VISIBLE_KEYS)
    signed_with = {
        (request.access_key, request.headers.get("X-Amz-Security-Token"))
        for request in wire.requests
    }
    assert signed_with == {(expected[0], expected[2])}


@pytest.mark.parametrize(
    ("arguments", "missing"),
    [
        ({"user": "AKIAARGUMENTS0000000"}, "AWS_SECRET_ACCESS_KEY"),
        ({"password": "argument-secret"}, "AWS_ACCESS_KEY_ID"),
    ],
)
def test_half_a_key_pair_names_the_missing_half(
    s3: S3Client, site: Site, arguments: dict[str, str], missing: str
) -> None:
    with pytest.raises(SettingsError, match=missing) as raised:
        create_all(site.app, **arguments)
    assert raised.value.key == missing
    assert "argument-secret" not in str(raised.value)


# Settings


def test_a_missing_bucket_name_is_a_settings_error(
    s3: S3Client, tmp_path: Path
) -> None:
    site = build_site(tmp_path)
    del site.app.config["S3_BUCKET_NAME"]
    with pytest.raises(SettingsError, match="S3_BUCKET_NAME") as raised:
        create_all(site.app)
    assert raised.value.key == "S3_BUCKET_NAME"
    assert s3.list_buckets()["Buckets"] == []


@pytest.mark.parametrize(
    ("arguments", "key"),
    [({"bucket_name": "Bad_Bucket!"}, "bucket_name"), ({"location": 5}, "location")],
)
def test_bad_overrides_are_settings_errors_naming_the_argument(
    s3: S3Client, site: Site, arguments: dict[str, Any], key: str
) -> None:
    with pytest.raises(SettingsError, match=f"^{key} = ") as raised:
        create_all(site.app, **arguments)
    assert raised.value.key == key
    assert s3.list_buckets()["Buckets"] == []


def test_bucket_name_argument_overrides_the_config(s3: S3Client, site: Site) -> None:
    s3.create_bucket(Bucket="other-bucket")
    create_all(site.app, bucket_name="other-bucket")
    assert keys_in(s3, "other-bucket") == sorted([*VISIBLE_KEYS, MANIFEST])
    assert [bucket["Name"] for bucket in s3.list_buckets()["Buckets"]] == [
        "other-bucket"
    ]
