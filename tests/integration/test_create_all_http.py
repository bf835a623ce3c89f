"""create_all against a moto server over real HTTP on 127.0.0.1.

The in-process mock never serialises a request; here every byte goes through
botocore's HTTP stack to a server, as it does with MinIO or S3 itself. One test
then fetches what was uploaded at the URL ``flask_s3.url_for`` renders, with
plain urllib, as a browser would.
"""

from __future__ import annotations

import gzip
import hashlib
import urllib.request
from typing import TYPE_CHECKING

import pytest

import flask_s3
import flask_s3.adapters.objects as objects_adapter
from flask_s3 import FlaskS3, create_all
from tests.integration.moto_site import (
    BUCKET,
    CONTENT_TYPES,
    MANIFEST,
    PUBLIC_READ,
    VISIBLE_KEYS,
    Site,
    Wire,
    body_of,
    grants,
    keys_in,
    manifest_of,
    sha1,
)

if TYPE_CHECKING:
    from types_boto3_s3.client import S3Client

CACHE_CONTROL = "public, max-age=31536000, immutable"


def test_upload_over_http_to_an_endpoint_url(
    server_s3: S3Client, moto_endpoint: str, site: Site, wire: Wire
) -> None:
    site.app.config.update(
        S3_ENDPOINT_URL=moto_endpoint,
        S3_HEADERS={"Cache-Control": CACHE_CONTROL},
        S3_ONLY_MODIFIED=True,
    )
    result = create_all(site.app)

    assert sorted(result.uploaded) == VISIBLE_KEYS
    assert {request.url.split("/")[2] for request in wire.requests} == {
        moto_endpoint.removeprefix("http://")
    }
    assert keys_in(server_s3) == sorted([*VISIBLE_KEYS, MANIFEST])
    assert grants(server_s3.get_bucket_acl(Bucket=BUCKET)) == PUBLIC_READ
    for key in VISIBLE_KEYS:
        response = server_s3.get_object(Bucket=BUCKET, Key=key)
        assert response["Body"].read() == site.body(key), key
        assert response["ContentType"] == CONTENT_TYPES[key], key
        assert response["CacheControl"] == CACHE_CONTROL, key
        acl = server_s3.get_object_acl(Bucket=BUCKET, Key=key)
        assert grants(acl) == PUBLIC_READ, key
    manifest = manifest_of(server_s3)
    assert {key: entry["sha1"] for key, entry in manifest["entries"].items()} == {
        key: sha1(site.body(key)) for key in VISIBLE_KEYS
    }

    site.write("static/js/app.js", b"// new over http\n")
    second = create_all(site.app)
    assert second.uploaded == ("static/js/app.js",)
    assert sorted(second.skipped) == [
        k for k in VISIBLE_KEYS if k != "static/js/app.js"
    ]
    assert body_of(server_s3, "static/js/app.js") == b"// new over http\n"


def test_only_a_big_body_waits_for_the_stores_go_ahead(
    server_s3: S3Client, moto_endpoint: str, site: Site, wire: Wire
) -> None:
    """botocore asks every PutObject to wait for '100 Continue' before its
    body goes: a round trip more per asset and per manifest write. Only a
    body over 1 MiB (here 2 MiB, sent whole) still asks, and all arrive."""
    big = hashlib.sha256(b"big").digest() * (2 * 1024 * 1024 // 32)
    big_key = site.add("static", "big.bin", big)
    site.app.config["S3_ENDPOINT_URL"] = moto_endpoint

    assert sorted(create_all(site.app).uploaded) == sorted([*VISIBLE_KEYS, big_key])

    puts = {
        r.url.split(f"/{BUCKET}/", 1)[1]: r.headers
        for r in wire.requests
        if r.method == "PUT" and f"/{BUCKET}/" in r.url and "?" not in r.url
    }
    assert sorted(puts) == sorted([*VISIBLE_KEYS, big_key, MANIFEST])
    assert [key for key, headers in puts.items() if "Expect" in headers] == [big_key]
    assert body_of(server_s3, big_key) == big
    for key in VISIBLE_KEYS:
        assert body_of(server_s3, key) == site.body(key), key


def test_gzip_over_http_stores_the_compressed_bytes(
    server_s3: S3Client, moto_endpoint: str, site: Site
) -> None:
    site.app.config.update(S3_ENDPOINT_URL=moto_endpoint, S3_GZIP=True)
    create_all(site.app)
    first = body_of(server_s3, "static/css/a.css")
    create_all(site.app)
    response = server_s3.get_object(Bucket=BUCKET, Key="static/css/a.css")
    assert response["ContentEncoding"] == "gzip"
    assert response["ContentType"] == "text/css"
    assert response["Body"].read() == first
    assert gzip.decompress(first) == site.body("static/css/a.css")


def test_multipart_over_http_arrives_intact(
    server_s3: S3Client,
    moto_endpoint: str,
    site: Site,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    part = 5 * 1024 * 1024
    monkeypatch.setattr(objects_adapter, "MULTIPART_THRESHOLD", part)
    big = hashlib.sha256(b"http").digest() * ((11 * 1024 * 1024) // 32 + 3)
    key = site.add("static", "video/big.bin", big)
    site.app.config["S3_ENDPOINT_URL"] = moto_endpoint
    assert create_all(site.app, filepath_filter_regex=r"^video/").uploaded == (key,)
    response = server_s3.get_object(Bucket=BUCKET, Key=key)
    assert response["Body"].read() == big
    parts = [big[i : i + part] for i in range(0, len(big), part)]
    combined = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts))
    assert response["ETag"] == f'"{combined.hexdigest()}-{len(parts)}"'


def test_url_for_urls_fetch_the_uploaded_assets_over_plain_http(
    server_s3: S3Client, moto_endpoint: str, site: Site
) -> None:
    host = moto_endpoint.removeprefix("http://")
    spaced = site.add("static", "css/sale 50 off+new.css", b".sale { color: red }\n")
    site.app.config.update(
        S3_ENDPOINT_URL=moto_endpoint,
        S3_URL_STYLE="path",
        S3_USE_HTTPS=False,
        S3_BUCKET_DOMAIN=host,
        S3_HEADERS={"Cache-Control": CACHE_CONTROL},
    )
    FlaskS3(site.app)
    create_all(site.app)
    assert spaced in keys_in(server_s3)

    with site.app.test_request_context():
        urls = {
            spaced: flask_s3.url_for("static", filename="css/sale 50 off+new.css"),
            "admin/assets/js/admin.js": flask_s3.url_for(
                "admin.static", filename="js/admin.js"
            ),
            "admin/child/kid/child.css": flask_s3.url_for(
                "admin.child.static", filename="child.css"
            ),
        }
    root = f"http://{host}/{BUCKET}"
    assert urls == {
        spaced: f"{root}/static/css/sale%2050%20off%2Bnew.css",
        "admin/assets/js/admin.js": f"{root}/admin/assets/js/admin.js",
        "admin/child/kid/child.css": f"{root}/admin/child/kid/child.css",
    }
    expected_types = {**CONTENT_TYPES, spaced: "text/css"}
    for key, url in urls.items():
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.status == 200, url
            assert response.read() == site.body(key), url
            assert response.headers["Content-Type"] == expected_types[key], url
            assert response.headers["Cache-Control"] == CACHE_CONTROL, url
