"""S3_CORS_ORIGINS: the bucket's CORS rule that lets pages on other origins
read fonts, module scripts and integrity-pinned assets.

The rule is checked in the bucket's configuration here (moto in-process and
over HTTP); tests/integration/test_browser.py checks what a browser makes of
it, and test_s3rver.py what another store answers to an ``Origin``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError

from flask_s3 import create_all
from flask_s3.core.cors import RULE_ID
from tests.integration.moto_site import BUCKET, Store, Wire, build_site, plan_of

if TYPE_CHECKING:
    from types_boto3_s3.client import S3Client

PAGES = "https://shop.example"
THEIRS = {
    "ID": "uploads-from-the-admin",
    "AllowedMethods": ["PUT", "POST"],
    "AllowedOrigins": ["https://admin.example"],
    "AllowedHeaders": ["*"],
    "ExposeHeaders": ["ETag"],
    "MaxAgeSeconds": 600,
}


def rules_of(client: S3Client) -> list[Any]:
    return list(client.get_bucket_cors(Bucket=BUCKET)["CORSRules"])


def ours(origins: list[str]) -> dict[str, Any]:
    return {"ID": RULE_ID, "AllowedMethods": ["GET", "HEAD"], "AllowedOrigins": origins}


def cors_puts(wire: Wire) -> list[str]:
    return [r.url for r in wire.requests if r.method == "PUT" and "?cors" in r.url]


def test_an_upload_lets_the_origins_get_and_head(store: Store, tmp_path: Path) -> None:
    site = build_site(tmp_path, S3_CORS_ORIGINS=[PAGES, "http://127.0.0.1:5000"])

    create_all(store.serve(site.app))

    assert rules_of(store.client) == [ours([PAGES, "http://127.0.0.1:5000"])]


def test_rules_someone_else_wrote_are_kept_as_they_were(
    s3: S3Client, tmp_path: Path
) -> None:
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_cors(Bucket=BUCKET, CORSConfiguration={"CORSRules": [THEIRS]})
    site = build_site(tmp_path, S3_CORS_ORIGINS="*")

    create_all(site.app)

    assert rules_of(s3) == [THEIRS, ours(["*"])]


def test_nothing_is_written_when_the_rules_already_allow_the_origins(
    s3: S3Client, tmp_path: Path, wire: Wire
) -> None:
    s3.create_bucket(Bucket=BUCKET)
    wildcard = {"AllowedMethods": ["GET", "HEAD"], "AllowedOrigins": ["https://*"]}
    s3.put_bucket_cors(Bucket=BUCKET, CORSConfiguration={"CORSRules": [wildcard]})
    site = build_site(tmp_path, S3_CORS_ORIGINS=[PAGES])

    create_all(site.app)
    create_all(site.app)

    assert cors_puts(wire) == []
    assert rules_of(s3) == [wildcard]


def test_a_second_run_with_the_same_origins_writes_nothing(
    s3: S3Client, tmp_path: Path, wire: Wire
) -> None:
    site = build_site(tmp_path, S3_CORS_ORIGINS=[PAGES])

    create_all(site.app)
    create_all(site.app)

    assert len(cors_puts(wire)) == 1


def test_a_new_origin_joins_our_rule_and_none_is_removed(
    s3: S3Client, tmp_path: Path
) -> None:
    """A bucket shared by two apps gets both apps' origins: a run never
    takes away an origin another app may need."""
    create_all(build_site(tmp_path / "a", S3_CORS_ORIGINS=[PAGES]).app)
    create_all(build_site(tmp_path / "b", S3_CORS_ORIGINS=["https://blog.example"]).app)

    assert rules_of(s3) == [ours([PAGES, "https://blog.example"])]


def test_a_rule_for_other_methods_does_not_count(s3: S3Client, tmp_path: Path) -> None:
    s3.create_bucket(Bucket=BUCKET)
    only_put = {"AllowedMethods": ["PUT"], "AllowedOrigins": [PAGES]}
    s3.put_bucket_cors(Bucket=BUCKET, CORSConfiguration={"CORSRules": [only_put]})

    create_all(build_site(tmp_path, S3_CORS_ORIGINS=[PAGES]).app)

    assert rules_of(s3) == [only_put, ours([PAGES])]


def test_plan_shows_the_change_and_changes_nothing(
    s3: S3Client, tmp_path: Path
) -> None:
    s3.create_bucket(Bucket=BUCKET)
    site = build_site(tmp_path, S3_CORS_ORIGINS=[PAGES])

    planned = plan_of(site.app)
    text = site.app.test_cli_runner().invoke(args=["s3", "plan"]).output

    assert planned["cors_origins_added"] == [PAGES]
    assert f"CORS: the bucket's rule 'flask-s3' will let {PAGES} GET and HEAD" in text
    with pytest.raises(ClientError, match="NoSuchCORSConfiguration"):
        s3.get_bucket_cors(Bucket=BUCKET)
    create_all(site.app)
    assert plan_of(site.app)["cors_origins_added"] == []


def test_without_the_setting_plan_warns_of_fonts_no_rule_covers(
    s3: S3Client, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    s3.create_bucket(Bucket=BUCKET)
    site = build_site(tmp_path)  # its static folder holds fonts/f.woff2

    warned = [w for w in plan_of(site.app)["warnings"] if "CORS" in w]
    with caplog.at_level(logging.WARNING, logger="flask_s3"):
        create_all(site.app)

    assert len(warned) == 1
    assert "static/fonts/f.woff2" in warned[0]
    assert "S3_CORS_ORIGINS" in warned[0]
    assert [
        r.getMessage() for r in caplog.records if "CORS" in r.getMessage()
    ] == warned
    assert "cors_origins_added" in plan_of(site.app)


def test_without_the_setting_a_rule_that_lets_pages_read_silences_the_warning(
    s3: S3Client, tmp_path: Path
) -> None:
    s3.create_bucket(Bucket=BUCKET)
    rule = {"AllowedMethods": ["GET"], "AllowedOrigins": [PAGES]}
    s3.put_bucket_cors(Bucket=BUCKET, CORSConfiguration={"CORSRules": [rule]})

    warnings = plan_of(build_site(tmp_path).app)["warnings"]

    assert [w for w in warnings if "CORS" in w] == []


def test_without_fonts_or_module_scripts_there_is_nothing_to_warn_of(
    s3: S3Client, tmp_path: Path
) -> None:
    s3.create_bucket(Bucket=BUCKET)
    site = build_site(tmp_path)
    site.path("static/fonts/f.woff2").unlink()

    assert [w for w in plan_of(site.app)["warnings"] if "CORS" in w] == []
