"""Pruning and hidden files: the fingerprinted copy of a hidden file, uploaded
by a run with include_hidden, stays while the file exists, though later runs
without include_hidden do not hash it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import flask_s3
from flask_s3 import FlaskS3, create_all
from tests.integration.moto_site import (
    HIDDEN_KEYS,
    Site,
    keys_in,
    sha1,
)

if TYPE_CHECKING:
    from types_boto3_s3.client import S3Client

A = "static/css/a.css"


def fingerprint_of(key: str, data: bytes) -> str:
    stem, ext = key.rsplit(".", 1)
    return f"{stem}.{sha1(data)[:12]}.{ext}"


def test_the_fingerprinted_copy_of_an_existing_hidden_file_is_never_pruned(
    s3: S3Client, site: Site
) -> None:
    site.app.config.update(S3_CACHE_BUSTING="filename", S3_PRUNE=True)
    FlaskS3(site.app)
    create_all(site.app, include_hidden=True)
    hidden_prints = [fingerprint_of(key, site.body(key)) for key in HIDDEN_KEYS]
    assert set(hidden_prints) <= set(keys_in(s3))

    for version in (b"/* v2 */", b"/* v3 */"):
        site.write(A, version)
        create_all(site.app)  # deploys 2 and 3, without include_hidden

    with site.app.app_context():
        url = flask_s3.url_for("static", filename=".hidden.css")
    assert url.endswith(
        "/" + fingerprint_of("static/.hidden.css", site.body("static/.hidden.css"))
    )
    assert set(hidden_prints) <= set(keys_in(s3))
