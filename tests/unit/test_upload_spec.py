from __future__ import annotations

from typing import Any

import pytest

from flask_s3.core import resolve_settings
from flask_s3.core.media_types import media_type
from flask_s3.core.upload_spec import UploadSpecs, upload_spec


def spec(path: str, acl: str | None = "public-read", **config: Any):  # type: ignore[no-untyped-def]
    return upload_spec(resolve_settings(config), path, acl=acl)


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("css/app.css", "text/css"),
        ("js/app.js", "text/javascript"),
        ("js/mod.mjs", "text/javascript"),
        ("img/logo.svg", "image/svg+xml"),
        ("img/photo.JPG", "image/jpeg"),
        ("img/a.webp", "image/webp"),
        ("fonts/a.woff2", "font/woff2"),
        ("index.html", "text/html"),
        ("data.json", "application/json"),
        ("README", "application/octet-stream"),
        ("archive.unknownext", "application/octet-stream"),
        ("app.css.gz", "application/gzip"),
        ("dump.tar.xz", "application/x-xz"),
        ("app.js.br", "application/x-brotli"),
    ],
)
def test_content_type_guess(path: str, content_type: str) -> None:
    assert media_type(path) == content_type


def test_every_object_gets_a_content_type() -> None:
    for config in ({}, {"S3_GZIP": True}, {"S3_FORCE_MIMETYPE": True}):
        assert spec("a.css", **config).put_arguments()["ContentType"] == "text/css"


def test_headers_map_to_parameters_and_the_rest_to_metadata() -> None:
    result = spec(
        "a.css",
        S3_HEADERS={
            "cache-control": "max-age=60",
            "Expires": "Thu, 15 Apr 2010 20:00:00 GMT",
            "Content-Disposition": "inline",
            "X-Team": "web",
            "x-amz-meta-owner": "shop",
        },
    )
    assert result.put_arguments() == {
        "CacheControl": "max-age=60",
        "ContentDisposition": "inline",
        "ContentType": "text/css",
        "Expires": "Thu, 15 Apr 2010 20:00:00 GMT",
        "Metadata": {"X-Team": "web", "owner": "shop"},
        "ACL": "public-read",
    }
    assert result.cache_control == "max-age=60"


def test_filepath_headers_apply_to_matching_paths_and_win() -> None:
    config = {
        "S3_HEADERS": {"Cache-Control": "max-age=60"},
        "S3_FILEPATH_HEADERS": {r"\.woff2$": {"cache-control": "max-age=31536000"}},
    }
    assert spec("fonts/a.woff2", **config).cache_control == "max-age=31536000"
    assert spec("css/a.css", **config).cache_control == "max-age=60"


def test_explicit_content_type_wins_unless_mimetype_is_forced() -> None:
    headers = {"S3_HEADERS": {"Content-Type": "text/plain"}}
    assert spec("a.css", **headers).content_type == "text/plain"
    assert spec("a.css", S3_FORCE_MIMETYPE=True, **headers).content_type == "text/css"
    path_type = {"S3_FILEPATH_HEADERS": {"a.css": {"Content-Type": "text/x-special"}}}
    assert (
        spec("a.css", S3_FORCE_MIMETYPE=True, **headers, **path_type).content_type
        == "text/x-special"
    )


def test_gzip_sets_encoding_and_respects_extensions() -> None:
    assert spec("a.css", S3_GZIP=True).content_encoding == "gzip"
    assert spec("a.css", S3_GZIP=True).gzip is True
    only = {"S3_GZIP": True, "S3_GZIP_ONLY_EXTS": [".css", ".js"]}
    assert spec("a.js", **only).gzip is True
    assert spec("a.png", **only).gzip is False
    assert spec("a.png", **only).content_encoding is None
    gzip_header_off = {"S3_HEADERS": {"Content-Encoding": "identity"}, "S3_GZIP": True}
    assert spec("a.css", **gzip_header_off).content_encoding == "gzip"


def test_acl_is_left_out_when_the_bucket_takes_none() -> None:
    assert "ACL" not in spec("a.css", acl=None).put_arguments()
    assert spec("a.css", acl="private").put_arguments()["ACL"] == "private"


def test_fingerprint_changes_with_what_is_sent_and_only_that() -> None:
    base = spec("a.css").digest
    assert spec("b/a.css").digest == base
    assert spec("a.css", S3_HEADERS={"Cache-Control": "no-cache"}).digest != base
    assert spec("a.css", S3_GZIP=True).digest != base
    assert spec("a.css", acl=None).digest != base
    assert spec("a.js").digest != base
    assert spec("a.css", S3_BUCKET_NAME="other").digest == base


def test_assets_alike_share_one_spec_digested_once() -> None:
    settings = resolve_settings(
        {"S3_FILEPATH_HEADERS": {r"^vendor/": {"Cache-Control": "max-age=60"}}}
    )
    specs = UploadSpecs(settings, "public-read")
    first = specs.of("a.css")
    assert specs.of("b/c.css") is first
    assert first == upload_spec(settings, "a.css", acl="public-read")
    vendored = specs.of("vendor/a.css")
    assert vendored is not first
    assert vendored == upload_spec(settings, "vendor/a.css", acl="public-read")
    copy = specs.of("a.css", immutable=True)
    assert copy == upload_spec(settings, "a.css", acl="public-read", immutable=True)
    assert first.digest is first.digest  # computed once, then kept


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (".htaccess", "application/octet-stream"),
        ("css/..css", "application/octet-stream"),
        ("a.", "application/octet-stream"),
        ("dir.d/readme", "application/octet-stream"),
        ("A.CSS", "text/css"),
        ("..a.css", "text/css"),
        ("img/x.SVGZ", "application/gzip"),
        ("a.tar.gz", "application/gzip"),
        ("app.css.br", "application/x-brotli"),
    ],
)
def test_media_type_is_the_last_extension_of_the_name(path: str, expected: str) -> None:
    assert media_type(path) == expected
