"""--verify: the bucket is listed and what another tool deleted or overwrote
is sent again; without it, the manifest is trusted and nothing is listed.

The damage is done with boto3 directly, behind Flask-S3's back. Checked with
create_all against moto in-process and over HTTP, and with ``python -m
flask_s3`` in-process and as a real subprocess.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

import pytest

from flask_s3 import create_all
from flask_s3.flask.cli import main
from tests.integration.moto_site import (
    BUCKET,
    VISIBLE_KEYS,
    SentRequest,
    Site,
    Store,
    Wire,
    body_of,
    keys_in,
    manifest_of,
    plan_actions,
    plan_of,
)
from tests.integration.test_cli import (
    APP_MODULE,
    ENDPOINT_VARIABLE,
    KEY_OF,
    KEYS,
    SUMMARY,
    Shop,
    _cli_isolation,  # noqa: F401 (autouse: the commands' loggers are put back)
    actions,
    check_plan_json,
    invoke,
)
from tests.integration.test_cli import (
    BUCKET as SHOP_BUCKET,
)
from tests.integration.test_cli_subprocess import flask_s3_cli

if TYPE_CHECKING:
    from types_boto3_s3.client import S3Client

DELETED = "static/js/app.js"
SAME_SIZE = "static/css/a.css"
"""Overwritten with other bytes of the same size: only the ETag tells."""
RESIZED = "static/img/logo.svg"
MISSING = ("upload", "missing in bucket")
CHANGED = ("upload", "changed in bucket")
UNCHANGED = ("skip", "unchanged")


def listings(requests: list[SentRequest]) -> list[SentRequest]:
    """ListObjectsV2 requests (GET with list-type=2)."""
    return [
        request
        for request in requests
        if request.method == "GET"
        and parse_qs(urlsplit(request.url).query).get("list-type") == ["2"]
    ]


def damage(client: S3Client, site: Site) -> None:
    """Another tool deletes one object and overwrites two."""
    client.delete_object(Bucket=BUCKET, Key=DELETED)
    same_size = bytes(reversed(site.body(SAME_SIZE)))
    assert len(same_size) == len(site.body(SAME_SIZE))
    assert same_size != site.body(SAME_SIZE)
    client.put_object(Bucket=BUCKET, Key=SAME_SIZE, Body=same_size)
    client.put_object(Bucket=BUCKET, Key=RESIZED, Body=b"<svg/>")


def test_verify_resends_what_was_deleted_or_overwritten(
    store: Store, site: Site, wire: Wire
) -> None:
    site.app.config["S3_ONLY_MODIFIED"] = True
    store.serve(site.app)
    create_all(site.app)
    damage(store.client, site)
    wire.requests.clear()

    # Without --verify the record is trusted: no listing, no repair.
    assert plan_actions(plan_of(site.app)) == dict.fromkeys(VISIBLE_KEYS, UNCHANGED)
    trusting = create_all(site.app)
    assert trusting.uploaded == ()
    assert listings(wire.requests) == []
    assert DELETED not in keys_in(store.client)
    assert body_of(store.client, RESIZED) == b"<svg/>"

    expected = {
        **dict.fromkeys(VISIBLE_KEYS, UNCHANGED),
        DELETED: MISSING,
        SAME_SIZE: CHANGED,
        RESIZED: CHANGED,
    }
    assert plan_actions(plan_of(site.app, "--verify")) == expected
    wire.requests.clear()

    repaired = create_all(site.app, verify=True)

    assert sorted(repaired.uploaded) == sorted([DELETED, SAME_SIZE, RESIZED])
    assert sorted(repaired.skipped) == sorted(
        set(VISIBLE_KEYS) - set(repaired.uploaded)
    )
    # One listing per key prefix the app owns, each a single page here.
    prefixes = sorted(
        parse_qs(urlsplit(request.url).query)["prefix"][0]
        for request in listings(wire.requests)
    )
    assert prefixes == ["admin/assets/", "admin/child/kid/", "static/"]
    for key in VISIBLE_KEYS:
        assert body_of(store.client, key) == site.body(key), key
    assert plan_actions(plan_of(site.app, "--verify")) == dict.fromkeys(
        VISIBLE_KEYS, UNCHANGED
    )


def test_verify_resends_a_deleted_or_overwritten_hashed_copy(
    s3: S3Client, site: Site
) -> None:
    site.app.config.update(S3_ONLY_MODIFIED=True, S3_CACHE_BUSTING="filename")
    create_all(site.app)
    copies = {
        entry["source"]: key
        for key, entry in manifest_of(s3)["entries"].items()
        if entry["source"] is not None
    }
    deleted, overwritten = copies[SAME_SIZE], copies[DELETED]
    s3.delete_object(Bucket=BUCKET, Key=deleted)
    s3.put_object(Bucket=BUCKET, Key=overwritten, Body=b"// not this\n")

    trusted = plan_actions(plan_of(site.app))
    assert trusted[deleted] == trusted[overwritten] == ("skip", "hashed copy exists")
    assert create_all(site.app).uploaded == ()
    verified = plan_actions(plan_of(site.app, "--verify"))
    assert verified[deleted] == MISSING
    assert verified[overwritten] == CHANGED
    assert {key for key, (action, _) in verified.items() if action == "upload"} == {
        deleted,
        overwritten,
    }

    repaired = create_all(site.app, verify=True)

    assert sorted(repaired.uploaded) == sorted([deleted, overwritten])
    assert body_of(s3, deleted) == site.body(SAME_SIZE)
    assert body_of(s3, overwritten) == site.body(DELETED)


def test_verify_reads_every_page_of_a_big_listing(
    s3: S3Client, site: Site, wire: Wire
) -> None:
    """1,200 other objects under static/ sort before the app's own, which
    are then on the listing's second page."""
    site.app.config.update(S3_ONLY_MODIFIED=True, S3_PREFIX="big")
    create_all(site.app)
    for number in range(1200):
        s3.put_object(Bucket=BUCKET, Key=f"big/static/aaa/{number:04}.txt", Body=b"x")
    wire.requests.clear()

    result = create_all(site.app, verify=True)

    assert result.uploaded == ()
    assert sorted(result.skipped) == [f"big/{key}" for key in VISIBLE_KEYS]
    prefixes = sorted(
        parse_qs(urlsplit(request.url).query)["prefix"][0]
        for request in listings(wire.requests)
    )
    assert prefixes == [
        "big/admin/assets/",
        "big/admin/child/kid/",
        "big/static/",
        "big/static/",
    ]


# From the command line


def damage_shop(client: S3Client, shop: Shop) -> tuple[str, str]:
    deleted, changed = KEY_OF["static/js/app.js"], KEY_OF["catalog_static/catalog.css"]
    client.delete_object(Bucket=SHOP_BUCKET, Key=deleted)
    client.put_object(Bucket=SHOP_BUCKET, Key=changed, Body=b".other {}\n")
    return deleted, changed


def test_plan_and_upload_verify(
    server_s3: S3Client, moto_endpoint: str, shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENDPOINT_VARIABLE, moto_endpoint)
    app = str(shop.app_file)
    assert invoke(main, "upload", "--app", app, "--quiet").exit_code == 0
    deleted, changed = damage_shop(server_s3, shop)

    trusted = invoke(main, "plan", "--app", app, "--check")
    assert trusted.exit_code == 0, trusted.output
    planned = invoke(main, "plan", "--app", app, "--json", "--verify")
    assert planned.exit_code == 0, planned.output
    assert actions(check_plan_json(planned.stdout)) == {
        **dict.fromkeys(KEYS, UNCHANGED),
        deleted: MISSING,
        changed: CHANGED,
    }
    checked = invoke(main, "plan", "--app", app, "--check", "--verify")
    assert checked.exit_code == 1, checked.output

    uploaded = invoke(main, "upload", "--app", app, "--verify")

    assert uploaded.exit_code == 0, uploaded.output
    summary = SUMMARY.fullmatch(uploaded.stdout.strip())
    assert summary is not None, uploaded.stdout
    assert summary.groups()[::2] == ("2", str(len(KEYS) - 2))
    again = invoke(main, "plan", "--app", app, "--check", "--verify")
    assert again.exit_code == 0, again.output


def test_upload_verify_in_a_subprocess(
    server_s3: S3Client, moto_endpoint: str, shop: Shop, clean_env: dict[str, str]
) -> None:
    env = {**clean_env, ENDPOINT_VARIABLE: moto_endpoint}
    app = f"{APP_MODULE}:create_app()"
    first = flask_s3_cli("upload", "--app", app, "--json", env=env, cwd=shop.folder)
    assert first.returncode == 0, first.stderr
    deleted, changed = damage_shop(server_s3, shop)

    trusting = flask_s3_cli("upload", "--app", app, "--json", env=env, cwd=shop.folder)
    assert trusting.returncode == 0, trusting.stderr
    assert json.loads(trusting.stdout)["uploaded"] == []
    verified = flask_s3_cli(
        "upload", "--app", app, "--json", "--verify", env=env, cwd=shop.folder
    )

    assert verified.returncode == 0, verified.stderr
    assert sorted(json.loads(verified.stdout)["uploaded"]) == sorted([deleted, changed])
    for local, key in KEY_OF.items():
        body = server_s3.get_object(Bucket=SHOP_BUCKET, Key=key)["Body"].read()
        assert body == (shop.folder / local).read_bytes(), key
