"""Regressions found by the fingerprint/pruning/invalidation tests: re-sent
unchanged files must not count as a deploy, copies of existing but unhashed
(hidden) files must not be pruned, and what changed in a run that failed
elsewhere must still be invalidated (in test_invalidation.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import flask_s3
from flask_s3 import FlaskS3, create_all
from tests.integration.moto_site import (
    HIDDEN_KEYS,
    Site,
    keys_in,
    manifest_of,
    sha1,
)

if TYPE_CHECKING:
    from types_boto3_s3.client import S3Client

A = "static/css/a.css"


def fingerprint_of(key: str, data: bytes) -> str:
    stem, ext = key.rsplit(".", 1)
    return f"{stem}.{sha1(data)[:12]}.{ext}"


def test_rerunning_an_unchanged_upload_keeps_the_previous_deploys_fingerprints(
    s3: S3Client, site: Site
) -> None:
    site.app.config.update(S3_CACHE_BUSTING="filename", S3_PRUNE=True)
    v1 = site.body(A)
    create_all(site.app)  # deploy 1
    site.write(A, b"/* v2 */")
    create_all(site.app)  # deploy 2: v1's copy kept (S3_PRUNE_KEEP=2)
    assert manifest_of(s3)["deploys"] == 2

    rerun = create_all(site.app)  # nothing changed locally

    assert manifest_of(s3)["deploys"] == 2
    assert rerun.deleted == ()
    assert fingerprint_of(A, v1) in keys_in(s3)


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
