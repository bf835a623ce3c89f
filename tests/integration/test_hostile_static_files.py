"""Static folders that try to publish what they should not, or to hang the
run: links to hidden files, files swapped for links out of the folder between
the walk, the hash and the upload, FIFOs, and files that never stop growing.

Every case runs against moto in-process and asserts what reached the bucket
and the manifest, not only what the run said.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from flask_s3 import create_all
from flask_s3.core import resolve_settings
from flask_s3.core.plan_report import report_text
from flask_s3.deploy import DeployOptions, plan
from flask_s3.flask.static_roots import static_roots
from tests.integration.moto_site import (
    HIDDEN_KEYS,
    MANIFEST,
    VISIBLE_KEYS,
    Site,
    body_of,
    keys_in,
    manifest_of,
)

if TYPE_CHECKING:
    from types_boto3_s3.client import S3Client

SECRET = b"TOP SECRET: the database password\n"


def assert_no_secret_in(s3: S3Client) -> None:
    import gzip

    for key in keys_in(s3):
        body = body_of(s3, key)
        if body[:2] == b"\x1f\x8b":
            body = gzip.decompress(body)
        assert SECRET not in body, key


# Links to hidden files


def link_hidden_files(site: Site) -> list[str]:
    """Plain-named links to a hidden folder and a hidden file in the static
    folder; returns the keys they would publish."""
    static = site.root / "static"
    (static / ".git").mkdir()
    (static / ".git" / "config").write_bytes(SECRET)
    (static / ".env").write_bytes(SECRET)
    (static / "vendor").symlink_to(".git")
    (static / "js" / "robots.txt").symlink_to(Path("..") / ".env")
    (static / "css" / "x.css").symlink_to(Path(".secret") / "x.css")
    return ["static/vendor/config", "static/js/robots.txt", "static/css/x.css"]


@pytest.mark.parametrize("prune", [False, True], ids=["plain", "prune"])
def test_links_to_hidden_files_are_neither_planned_nor_uploaded(
    s3: S3Client, site: Site, prune: bool
) -> None:
    linked = link_hidden_files(site)
    site.app.config["S3_PRUNE"] = prune
    planned = plan(
        static_roots(site.app),
        resolve_settings(site.app.config),
        DeployOptions(),
        offline=True,
    ).report()
    assert sorted(line.key for line in planned.assets) == VISIBLE_KEYS
    text = report_text(planned)
    for key in linked:
        assert key not in text

    result = create_all(site.app)
    assert sorted(result.uploaded) == VISIBLE_KEYS
    assert keys_in(s3) == sorted([*VISIBLE_KEYS, MANIFEST])
    assert sorted(manifest_of(s3)["entries"]) == VISIBLE_KEYS
    assert_no_secret_in(s3)


def test_include_hidden_publishes_links_to_hidden_files_too(
    s3: S3Client, site: Site
) -> None:
    linked = link_hidden_files(site)
    result = create_all(site.app, include_hidden=True)
    assert set(result.uploaded) >= {*linked, *HIDDEN_KEYS}
    assert body_of(s3, "static/vendor/config") == SECRET
