"""S3_CACHE_BUSTING = "filename" against moto: the URLs url_for renders lead to
fingerprinted copies that exist, hold the local bytes and may be cached forever,
and a changed file changes its own fingerprint only.

URLs are turned back into keys by hand (unquote the path, drop the bucket of a
path-style URL) and fingerprinted names are spelled out here, not computed by
the code under test.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import pytest

import flask_s3
from flask_s3 import FlaskS3, create_all
from flask_s3.adapters.file_hashes import FileHashes
from flask_s3.core import resolve_settings
from flask_s3.core.upload_plan import Action, Reason
from flask_s3.deploy import DeployOptions
from flask_s3.deploy import plan as preview
from flask_s3.flask.state import state_of
from flask_s3.flask.static_roots import static_roots
from tests.integration.moto_site import (
    BUCKET,
    CSS,
    MANIFEST,
    VISIBLE_KEYS,
    Site,
    body_of,
    keys_in,
    manifest_of,
    relative_of,
    sha1,
)

if TYPE_CHECKING:
    from types_boto3_s3.client import S3Client

IMMUTABLE = "public, max-age=31536000, immutable"
SPACED = "static/img/tea pot+1.png"
"""A key that URLs must quote (space, plus)."""
ENDPOINTS = {
    "static": "static",
    "admin/assets": "admin.static",
    "admin/child/kid": "admin.child.static",
}
"""The static endpoint serving each folder of the test site."""


def fingerprint_of(key: str, data: bytes) -> str:
    """``<stem>.<first 12 hex of sha1>.<ext>``, spelled out independently."""
    stem, ext = key.rsplit(".", 1)
    return f"{stem}.{sha1(data)[:12]}.{ext}"


def endpoint_of(key: str) -> tuple[str, str]:
    relative = relative_of(key)
    return ENDPOINTS[key[: -len(relative) - 1]], relative


def key_of_url(url: str) -> str:
    """The object a URL names: its unquoted path, without a path-style bucket."""
    path = unquote(urlsplit(url).path).lstrip("/")
    bucket_part = BUCKET + "/"
    return path[len(bucket_part) :] if path.startswith(bucket_part) else path


def serve_from_s3(site: Site, **config: Any) -> None:
    """Turn on the extension; hashes are re-checked on every call, so a test
    sees a changed file at once rather than up to a second later."""
    site.app.config.update(S3_CACHE_BUSTING="filename", **config)
    FlaskS3(site.app)
    state_of(site.app).file_hashes = FileHashes(recheck_seconds=0)


def rendered(site: Site, keys: list[str]) -> dict[str, str]:
    """The URL flask_s3.url_for renders for each key's file."""
    urls = {}
    with site.app.app_context():
        for key in keys:
            endpoint, filename = endpoint_of(key)
            urls[key] = flask_s3.url_for(endpoint, filename=filename)
    return urls


def cache_control(client: S3Client, key: str) -> str | None:
    return client.head_object(Bucket=BUCKET, Key=key).get("CacheControl")


# Rendered URLs lead to the fingerprinted copies


@pytest.mark.parametrize("url_style", ["host", "path"])
def test_rendered_urls_name_fingerprinted_copies_holding_the_local_bytes(
    s3: S3Client, site: Site, url_style: str
) -> None:
    site.add("static", relative_of(SPACED), b"\x89PNG tea pot")
    serve_from_s3(site, S3_URL_STYLE=url_style)
    keys = sorted([*VISIBLE_KEYS, SPACED])
    prints = {key: fingerprint_of(key, site.body(key)) for key in keys}

    result = create_all(site.app)

    assert sorted(result.uploaded) == sorted([*keys, *prints.values()])
    assert result.skipped == ()
    assert keys_in(s3) == sorted([*keys, *prints.values(), MANIFEST])
    urls = rendered(site, keys)
    root = (
        f"https://{BUCKET}.s3.amazonaws.com/"
        if url_style == "host"
        else f"https://s3.amazonaws.com/{BUCKET}/"
    )
    for key in keys:
        assert urls[key].startswith(root), urls[key]
        assert key_of_url(urls[key]) == prints[key], key
        assert body_of(s3, prints[key]) == site.body(key), key
        assert body_of(s3, key) == site.body(key), key
    # Quoted in the URL, raw in the key.
    assert urls[SPACED] == root + "static/img/tea%20pot%2B1." + (
        sha1(site.body(SPACED))[:12] + ".png"
    )
    # The nested blueprint's URL, literally.
    child = "admin/child/kid/child.css"
    assert urls[child] == (
        f"{root}admin/child/kid/child.{sha1(site.body(child))[:12]}.css"
    )
    entries = manifest_of(s3)["entries"]
    for key in keys:
        assert entries[prints[key]]["source"] == key
        assert (
            entries[prints[key]]["sha1"] == entries[key]["sha1"] == sha1(site.body(key))
        )
        assert entries[key]["source"] is None


def test_relative_blueprint_endpoints_render_the_same_fingerprints(
    s3: S3Client, site: Site
) -> None:
    serve_from_s3(site)
    create_all(site.app)
    keys = ["admin/assets/admin.css", "admin/child/kid/child.css"]
    absolute = rendered(site, keys)
    for key in keys:
        # A request the blueprint handles: ".static" is that blueprint's.
        with site.app.test_request_context("/" + key):
            url = flask_s3.url_for(".static", filename=relative_of(key))
        assert url == absolute[key]
        assert key_of_url(url) == fingerprint_of(key, site.body(key))
        assert body_of(s3, key_of_url(url)) == site.body(key)
    with site.app.app_context():
        anchored = flask_s3.url_for(
            "admin.child.static", filename="child.css", _anchor="x"
        )
    assert anchored == absolute["admin/child/kid/child.css"] + "#x"


# Cache-Control of the two copies


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        pytest.param(
            {},
            {"css": (None, IMMUTABLE), "js": (None, IMMUTABLE)},
            id="default",
        ),
        pytest.param(
            {"S3_HEADERS": {"Cache-Control": "max-age=60"}},
            {"css": ("max-age=60", "max-age=60"), "js": ("max-age=60", "max-age=60")},
            id="S3_HEADERS",
        ),
        pytest.param(
            {"S3_HEADERS": {"cache-control": "max-age=5"}},
            {"css": ("max-age=5", "max-age=5"), "js": ("max-age=5", "max-age=5")},
            id="S3_HEADERS-lowercase",
        ),
        pytest.param(
            {"S3_HEADERS": {"X-Team": "web"}},
            {"css": (None, IMMUTABLE), "js": (None, IMMUTABLE)},
            id="S3_HEADERS-without-cache-control",
        ),
        pytest.param(
            {"S3_FILEPATH_HEADERS": {r"\.css$": {"Cache-Control": "no-cache"}}},
            {"css": ("no-cache", "no-cache"), "js": (None, IMMUTABLE)},
            id="S3_FILEPATH_HEADERS",
        ),
        pytest.param(
            {
                "S3_HEADERS": {"Cache-Control": "max-age=60"},
                "S3_FILEPATH_HEADERS": {r"\.css$": {"Cache-Control": "no-store"}},
            },
            {"css": ("no-store", "no-store"), "js": ("max-age=60", "max-age=60")},
            id="both",
        ),
    ],
)
def test_fingerprinted_copies_are_immutable_unless_a_cache_control_is_set(
    s3: S3Client,
    site: Site,
    config: dict[str, Any],
    expected: dict[str, tuple[str | None, str | None]],
) -> None:
    site.app.config.update(S3_CACHE_BUSTING="filename", **config)
    create_all(site.app)
    for key in VISIBLE_KEYS:
        kind = "css" if key.endswith(".css") else "js"
        if not key.endswith((".css", ".js")):
            continue
        plain, printed = expected[kind]
        assert cache_control(s3, key) == plain, key
        assert cache_control(s3, fingerprint_of(key, site.body(key))) == printed, key


def test_without_fingerprints_nothing_is_immutable(s3: S3Client, site: Site) -> None:
    create_all(site.app)
    assert keys_in(s3) == sorted([*VISIBLE_KEYS, MANIFEST])
    for key in VISIBLE_KEYS:
        assert cache_control(s3, key) is None, key


# One changed file, one changed fingerprint


@pytest.mark.parametrize("only_modified", [False, True])
def test_changing_one_file_changes_exactly_one_fingerprint(
    s3: S3Client, site: Site, only_modified: bool
) -> None:
    serve_from_s3(site, S3_ONLY_MODIFIED=only_modified)
    old = {key: fingerprint_of(key, site.body(key)) for key in VISIBLE_KEYS}
    create_all(site.app)
    before = rendered(site, VISIBLE_KEYS)
    changed = "static/css/a.css"
    site.write(changed, b"/* a.css, version 2 */\n")
    new_print = fingerprint_of(changed, site.body(changed))
    assert new_print != old[changed]

    after = rendered(site, VISIBLE_KEYS)

    assert {key for key in VISIBLE_KEYS if after[key] != before[key]} == {changed}
    assert key_of_url(after[changed]) == new_print
    assert key_of_url(before[changed]) == old[changed]

    plan = preview(
        static_roots(site.app), resolve_settings(site.app.config), DeployOptions()
    ).plan
    reasons = {item.key: (item.action, item.reason) for item in plan.items}
    unchanged = (
        (Action.SKIP, Reason.UNCHANGED)
        if only_modified
        else (Action.UPLOAD, Reason.ONLY_MODIFIED_OFF)
    )
    others = [key for key in VISIBLE_KEYS if key != changed]
    # Skipped for existing even with S3_ONLY_MODIFIED off; the old copy of the
    # changed file is no longer part of the site.
    assert reasons == {
        **dict.fromkeys(others, unchanged),
        **dict.fromkeys(
            (old[key] for key in others), (Action.SKIP, Reason.HASHED_COPY_EXISTS)
        ),
        changed: (Action.UPLOAD, Reason.CONTENT_CHANGED),
        new_print: (Action.UPLOAD, Reason.NEW),
    }

    result = create_all(site.app)

    if only_modified:
        assert sorted(result.uploaded) == sorted([changed, new_print])
        assert sorted(result.skipped) == sorted(
            [*others, *(old[key] for key in others)]
        )
    else:
        assert sorted(result.uploaded) == sorted([*VISIBLE_KEYS, new_print])
        assert sorted(result.skipped) == sorted(old[key] for key in others)
    assert body_of(s3, new_print) == body_of(s3, changed) == site.body(changed)
    # Without pruning the old copy stays, for pages that still name it.
    assert body_of(s3, old[changed]) == CSS
    assert keys_in(s3) == sorted([*VISIBLE_KEYS, *old.values(), new_print, MANIFEST])
    assert body_of(s3, key_of_url(rendered(site, [changed])[changed])) == (
        site.body(changed)
    )


def test_a_recorded_fingerprinted_copy_is_never_sent_again(
    s3: S3Client, site: Site
) -> None:
    """Even when its headers changed: the name proves the content."""
    site.app.config["S3_CACHE_BUSTING"] = "filename"
    create_all(site.app)
    prints = {key: fingerprint_of(key, site.body(key)) for key in VISIBLE_KEYS}
    site.app.config["S3_HEADERS"] = {"X-Team": "web"}

    plan = preview(
        static_roots(site.app), resolve_settings(site.app.config), DeployOptions()
    ).plan
    assert {item.key: item.reason for item in plan.items} == {
        **dict.fromkeys(VISIBLE_KEYS, Reason.SETTINGS_CHANGED),
        **dict.fromkeys(prints.values(), Reason.HASHED_COPY_EXISTS),
    }
    result = create_all(site.app)
    assert sorted(result.uploaded) == VISIBLE_KEYS
    assert sorted(result.skipped) == sorted(prints.values())
