"""The bad-input corpus: what a user gets for names, files, folders, links,
settings and url_for filenames that are odd, broken or hostile.

Each case states the behaviour a user would expect and asserts it exactly:
uploads against moto in-process (``mock_aws``), fetches against a moto server
on 127.0.0.1, and never any other host.
"""

from __future__ import annotations

import gzip
import logging
import os
import posixpath
import shutil
import socket
import time
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import flask
import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.exceptions import EndpointConnectionError

import flask_s3
import flask_s3.adapters.file_hashes as file_hashes
import flask_s3.adapters.objects as objects
import flask_s3.adapters.static_files as static_files
import flask_s3.deploy.preparation as preparation
from flask_s3 import FlaskS3, S3Error, UploadFailed, create_all
from flask_s3.adapters.listed_files import ListedFile
from flask_s3.core import SettingsError, UnsafeFilename, resolve_settings
from flask_s3.core.static_assets import Origin
from flask_s3.core.upload_result import FailedUpload
from flask_s3.deploy import DeployOptions, prepare, publish
from flask_s3.flask.static_roots import static_roots
from tests.integration.moto_site import (
    BUCKET,
    CSS,
    HIDDEN_KEYS,
    MANIFEST,
    VISIBLE_KEYS,
    Site,
    body_of,
    keys_in,
    manifest_of,
    sha1,
)

if TYPE_CHECKING:
    from types_boto3_s3.client import S3Client

HOST = f"https://{BUCKET}.s3.amazonaws.com"
EMPTY_SHA1 = sha1(b"")


def warnings_in(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "flask_s3" and record.levelno == logging.WARNING
    ]


def bucket_exists(client: S3Client) -> bool:
    return any(bucket["Name"] == BUCKET for bucket in client.list_buckets()["Buckets"])


def key_of_url(url: str) -> str:
    """The object key a host-style or path-style S3 URL points at."""
    path = unquote(urlsplit(url).path).lstrip("/")
    return path.removeprefix(f"{BUCKET}/")


# File names


ODD_NAMES = [
    "café/naïve ☕.css",
    "sale 50 off.css",
    "a+b.css",
    "100%.css",
    "a%20b.css",  # a literal percent sign: a different object from "a b.css"
    "a b.css",
    "x#y.css",
    "what?.css",
    "semi;colon=1&x.css",
    "l" * 246 + ".css",  # 250 characters, within the filesystem's 255
]


def add_odd_names(site: Site) -> dict[str, str]:
    """Each odd name as a file of the app static folder; returns name -> key."""
    return {
        name: site.add("static", name, f"/* {name} */\n".encode()) for name in ODD_NAMES
    }


def test_odd_names_upload_under_their_exact_key_and_url_for_names_that_key(
    s3: S3Client, site: Site
) -> None:
    keys = add_odd_names(site)
    FlaskS3(site.app)
    result = create_all(site.app)

    assert result.failed == ()
    assert sorted(result.uploaded) == sorted([*VISIBLE_KEYS, *keys.values()])
    assert keys_in(s3) == sorted([*VISIBLE_KEYS, *keys.values(), MANIFEST])
    assert sorted(manifest_of(s3)["entries"]) == sorted([*VISIBLE_KEYS, *keys.values()])
    with site.app.test_request_context():
        urls = {name: flask_s3.url_for("static", filename=name) for name in ODD_NAMES}
    for name, key in keys.items():
        assert key == f"static/{name}"
        response = s3.get_object(Bucket=BUCKET, Key=key)
        assert response["Body"].read() == site.body(key), name
        assert response["ContentType"] == "text/css", name
        parts = urlsplit(urls[name])
        # '#', '?', '%', '+' and spaces are quoted: nothing leaks into the
        # query or the fragment, and the unquoted path is the key itself.
        assert (parts.scheme, parts.netloc) == ("https", f"{BUCKET}.s3.amazonaws.com")
        assert (parts.query, parts.fragment) == ("", ""), name
        assert unquote(parts.path) == f"/{key}", name
    assert urls["a+b.css"] == f"{HOST}/static/a%2Bb.css"
    assert urls["100%.css"] == f"{HOST}/static/100%25.css"
    assert urls["a%20b.css"] == f"{HOST}/static/a%2520b.css"
    assert urls["a b.css"] == f"{HOST}/static/a%20b.css"
    assert urls["x#y.css"] == f"{HOST}/static/x%23y.css"
    assert urls["what?.css"] == f"{HOST}/static/what%3F.css"
    assert urls["café/naïve ☕.css"] == (
        f"{HOST}/static/caf%C3%A9/na%C3%AFve%20%E2%98%95.css"
    )


def test_odd_names_get_fingerprinted_urls_of_keys_that_were_uploaded(
    s3: S3Client, site: Site
) -> None:
    keys = add_odd_names(site)
    site.app.config["S3_CACHE_BUSTING"] = "filename"
    FlaskS3(site.app)
    create_all(site.app)
    stored = set(keys_in(s3))
    with site.app.test_request_context():
        for name, key in keys.items():
            url = flask_s3.url_for("static", filename=name)
            fingerprinted = key_of_url(url)
            stem, extension = key.rsplit(".", 1)
            assert fingerprinted == f"{stem}.{sha1(site.body(key))[:12]}.{extension}"
            assert fingerprinted in stored, name
            assert body_of(s3, fingerprinted) == site.body(key), name


def test_odd_names_fetch_over_http_at_the_url_url_for_renders(
    server_s3: S3Client, moto_endpoint: str, site: Site
) -> None:
    keys = add_odd_names(site)
    host = moto_endpoint.removeprefix("http://")
    site.app.config.update(
        S3_ENDPOINT_URL=moto_endpoint,
        S3_URL_STYLE="path",
        S3_USE_HTTPS=False,
        S3_BUCKET_DOMAIN=host,
    )
    FlaskS3(site.app)
    create_all(site.app)
    assert set(keys.values()) <= set(keys_in(server_s3))
    with site.app.test_request_context():
        urls = {key: flask_s3.url_for("static", filename=n) for n, key in keys.items()}
    for key, url in urls.items():
        assert url.startswith(f"http://{host}/{BUCKET}/static/"), url
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.status == 200, url
            assert response.read() == site.body(key), url


def test_undecodable_names_are_skipped_with_a_warning_naming_them(
    s3: S3Client, site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    static = os.fsencode(site.root / "static")
    bad_file = os.path.join(static, b"bad-\xff.css")
    bad_dir = os.path.join(static, b"dir-\xfe")
    with open(bad_file, "wb") as stream:
        stream.write(b"/* bad name */")
    os.mkdir(bad_dir)
    with open(os.path.join(bad_dir, b"inside.css"), "wb") as stream:
        stream.write(b"/* under a bad name */")

    with caplog.at_level(logging.WARNING, logger="flask_s3"):
        result = create_all(site.app)

    assert sorted(result.uploaded) == VISIBLE_KEYS
    assert keys_in(s3) == sorted([*VISIBLE_KEYS, MANIFEST])
    messages = warnings_in(caplog)
    for path in (bad_file, bad_dir):
        shown = repr(os.fsdecode(path))
        assert (
            f"skipping {shown}: its name is not valid UTF-8, so it cannot be an S3 key"
            in messages
        )


class KeyLimit:
    """What S3 answers a PutObject whose key is over 1024 bytes of UTF-8:
    400 KeyTooLongError. moto stores keys of any length, so create_all's
    client is taught that one answer; every other request goes to moto."""

    LIMIT = 1024

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.refused: list[str] = []
        original = preparation.make_s3_client

        def limited(*args: Any, **kwargs: Any) -> Any:
            client = original(*args, **kwargs)
            client.meta.events.register(
                "before-parameter-build.s3.PutObject", self._remember
            )
            client.meta.events.register("before-call.s3.PutObject", self._refuse)
            return client

        monkeypatch.setattr(preparation, "make_s3_client", limited)

    def _remember(self, params: dict[str, Any], context: Any, **_: Any) -> None:
        context["object_key"] = params["Key"]

    def _refuse(self, context: Any, **_: Any) -> Any:
        key: str = context["object_key"]
        if len(key.encode()) <= self.LIMIT:
            return None
        self.refused.append(key)
        error = {"Code": "KeyTooLongError", "Message": "Your key is too long"}
        parsed = {"Error": error, "ResponseMetadata": {"HTTPStatusCode": 400}}
        response = AWSResponse("https://s3.amazonaws.com/", 400, HTTPHeaders(), None)
        return response, parsed


def test_a_key_over_1024_bytes_fails_alone_with_s3s_reason(
    s3: S3Client, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    limit = KeyLimit(monkeypatch)
    dirs = "/".join(["d" * 200] * 5)
    at_limit = site.add("static", f"{dirs}/{'x' * 8}.css", b"/* 1024 */")
    over = site.add("static", f"{dirs}/{'d' * 200}/deep.css", b"/* 1221 */")
    assert len(at_limit.encode()) == 1024
    assert len(over.encode()) == 1221

    with pytest.raises(UploadFailed) as failure:
        create_all(site.app)

    result = failure.value.result
    assert limit.refused == [over]
    assert result.failed == (
        FailedUpload(over, "KeyTooLongError: Your key is too long"),
    )
    assert sorted(result.uploaded) == sorted([*VISIBLE_KEYS, at_limit])
    assert keys_in(s3) == sorted([*VISIBLE_KEYS, at_limit, MANIFEST])
    assert sorted(manifest_of(s3)["entries"]) == sorted([*VISIBLE_KEYS, at_limit])
    assert str(failure.value).splitlines() == [
        "1 of 10 uploads failed; run the upload again to retry them",
        f"  {over}: KeyTooLongError: Your key is too long",
    ]


# Empty and missing


def test_empty_files_upload_as_empty_objects_with_their_content_type(
    s3: S3Client, site: Site
) -> None:
    css = site.add("static", "empty.css", b"")
    js = site.add("static", "js/empty.js", b"")
    svg = site.add("static", "img/empty.svg", b"")
    site.app.config.update(S3_GZIP=True, S3_GZIP_ONLY_EXTS=[".js"])
    result = create_all(site.app)

    assert {css, js, svg} <= set(result.uploaded)
    assert result.failed == ()
    for key, content_type in ((css, "text/css"), (svg, "image/svg+xml")):
        response = s3.get_object(Bucket=BUCKET, Key=key)
        assert response["ContentLength"] == 0, key
        assert response["ContentType"] == content_type, key
        assert "ContentEncoding" not in response, key
        assert response["Body"].read() == b"", key
    gzipped = s3.get_object(Bucket=BUCKET, Key=js)
    assert gzipped["ContentType"] == "text/javascript"
    assert gzipped["ContentEncoding"] == "gzip"
    body = gzipped["Body"].read()
    assert gzip.decompress(body) == b""
    # Deterministic gzip of nothing: header, empty deflate block, trailer.
    assert body == bytes.fromhex("1f8b08000000000002ff03000000000000000000")
    entries = manifest_of(s3)["entries"]
    assert {entries[key]["sha1"] for key in (css, js, svg)} == {EMPTY_SHA1}


def test_query_cache_busting_of_an_empty_file_is_the_hash_of_nothing(
    site: Site,
) -> None:
    site.add("static", "empty.css", b"")
    site.app.config["S3_CACHE_BUSTING"] = "query"
    FlaskS3(site.app)
    with site.app.test_request_context():
        url = flask_s3.url_for("static", filename="empty.css")
    assert url == f"{HOST}/static/empty.css?v={EMPTY_SHA1[:12]}"


def test_empty_static_folders_upload_nothing_without_error(
    s3: S3Client, site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    for folder in ("static", "admin_static", "child_static"):
        shutil.rmtree(site.root / folder)
        (site.root / folder).mkdir()
    (site.root / "static" / "empty-subfolder").mkdir()

    with caplog.at_level(logging.WARNING, logger="flask_s3"):
        result = create_all(site.app)

    assert (result.uploaded, result.skipped, result.failed) == ((), (), ())
    assert result.bytes_uploaded == 0
    assert bucket_exists(s3)
    assert keys_in(s3) == []
    assert not any("static folder" in message for message in warnings_in(caplog))


@pytest.mark.parametrize(
    ("folder", "endpoint"),
    [("static", "static"), ("child_static", "admin.child.static")],
)
def test_a_missing_static_folder_is_a_warning_and_the_others_upload(
    s3: S3Client,
    site: Site,
    caplog: pytest.LogCaptureFixture,
    folder: str,
    endpoint: str,
) -> None:
    shutil.rmtree(site.root / folder)
    prefix = {"static": "static/", "child_static": "admin/child/kid/"}[folder]
    others = [key for key in VISIBLE_KEYS if not key.startswith(prefix)]

    with caplog.at_level(logging.WARNING, logger="flask_s3"):
        result = create_all(site.app)

    assert sorted(result.uploaded) == others
    assert result.failed == ()
    assert keys_in(s3) == sorted([*others, MANIFEST])
    assert (
        f"static folder {site.root / folder} of endpoint {endpoint!r} does not "
        "exist; nothing to upload from it"
    ) in warnings_in(caplog)


# Files that change under the upload


@pytest.mark.parametrize("gzipped", [False, True], ids=["plain", "gzip"])
def test_files_that_change_or_vanish_after_planning_fail_alone_then_converge(
    s3: S3Client,
    site: Site,
    monkeypatch: pytest.MonkeyPatch,
    gzipped: bool,
) -> None:
    site.app.config.update(S3_ONLY_MODIFIED=True, S3_GZIP=gzipped)
    create_all(site.app)
    first_css = body_of(s3, "static/css/a.css")
    first_js = body_of(s3, "static/js/app.js")

    site.write("static/css/a.css", b"/* planned */\n")
    site.write("static/js/app.js", b"// planned, then deleted\n")
    site.write("static/img/logo.svg", b"<svg/>\n")
    new = site.add("static", "new.css", b"/* new, then deleted */\n")
    locked = site.add("static", "locked.css", b"/* new, then unreadable */\n")
    prepared = prepare(
        static_roots(site.app), resolve_settings(site.app.config), DeployOptions()
    )
    assert sorted(item.key for item in prepared.plan.uploads) == sorted(
        [
            "static/css/a.css",
            "static/js/app.js",
            "static/img/logo.svg",
            new,
            locked,
        ]
    )

    site.write("static/css/a.css", b"/* changed after planning: longer */\n")
    site.path("static/js/app.js").unlink()
    site.path(new).unlink()
    locked_path = str(site.path(locked))
    real_open = objects.open_listed

    def unreadable(path: str, origin: Origin | None) -> ListedFile:
        if path == locked_path:
            raise PermissionError(13, "Permission denied", locked_path)
        return real_open(path, origin)

    monkeypatch.setattr(objects, "open_listed", unreadable)
    with pytest.raises(UploadFailed) as failure:
        publish(prepared, started=time.monotonic())
    monkeypatch.setattr(objects, "open_listed", real_open)

    result = failure.value.result
    changed = (
        f"FileChanged: static file {site.path('static/css/a.css')} changed "
        "after it was planned; run again"
    )
    assert result.failed == (
        FailedUpload("static/css/a.css", changed),
        FailedUpload(
            "static/js/app.js",
            f"No such file or directory: {site.path('static/js/app.js')}",
        ),
        FailedUpload(locked, f"Permission denied: {locked_path}"),
        FailedUpload(new, f"No such file or directory: {site.path(new)}"),
    )
    assert result.uploaded == ("static/img/logo.svg",)
    entries = manifest_of(s3)["entries"]
    # Neither the failed keys nor the replaced ones stay in the record.
    assert sorted(entries) == sorted(
        set(VISIBLE_KEYS) - {"static/css/a.css", "static/js/app.js"}
    )
    assert entries["static/img/logo.svg"]["sha1"] == sha1(b"<svg/>\n")
    assert new not in keys_in(s3)
    assert body_of(s3, "static/js/app.js") == first_js  # the earlier object stays
    # Checked before sending: the old object is untouched.
    assert body_of(s3, "static/css/a.css") == first_css

    rerun = create_all(site.app)
    assert sorted(rerun.uploaded) == sorted(["static/css/a.css", locked])
    assert rerun.failed == ()
    entries = manifest_of(s3)["entries"]
    assert entries["static/css/a.css"]["sha1"] == sha1(
        b"/* changed after planning: longer */\n"
    )
    assert "static/js/app.js" not in entries
    assert new not in entries
    css = body_of(s3, "static/css/a.css")
    if gzipped:
        css = gzip.decompress(css)
    assert css == b"/* changed after planning: longer */\n"
    assert keys_in(s3) == sorted([*VISIBLE_KEYS, locked, MANIFEST])
    assert create_all(site.app).uploaded == ()


def test_an_unreadable_file_is_a_clear_error_naming_it_before_any_request(
    s3: S3Client, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As root, chmod 000 does not stop reads, so the open refuses instead."""
    path = str(site.path("static/js/app.js"))
    real_open = file_hashes.open_checked

    def unreadable(file: str, origin: Origin | None) -> tuple[int, os.stat_result]:
        if file == path:
            raise PermissionError(13, "Permission denied", path)
        return real_open(file, origin)

    monkeypatch.setattr(file_hashes, "open_checked", unreadable)
    with pytest.raises(static_files.UnreadableFile) as failure:
        create_all(site.app)
    assert str(failure.value) == (
        f"cannot read static file {path}: Permission denied; fix its "
        "permissions or remove it, then run again"
    )
    assert not isinstance(failure.value, OSError)
    assert not bucket_exists(s3)

    # Pages keep rendering: the URL just has no version to add.
    site.app.config["S3_CACHE_BUSTING"] = "query"
    FlaskS3(site.app)
    with site.app.test_request_context():
        assert flask_s3.url_for("static", filename="js/app.js") == (
            f"{HOST}/static/js/app.js"
        )
        assert flask_s3.url_for("static", filename="css/a.css") == (
            f"{HOST}/static/css/a.css?v={sha1(CSS)[:12]}"
        )


def test_an_unlistable_folder_is_a_clear_error(
    s3: S3Client, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A static sub-folder that cannot be listed stops the run with a clear
    error naming it, before anything is sent, as an unreadable file does. As
    root, chmod 000 would not stop os.scandir, so os.scandir refuses instead."""
    folder = str(site.root / "static" / "img")
    real_scandir = os.scandir

    def scandir(path: Any) -> Any:
        if os.fspath(path) == folder:
            raise PermissionError(13, "Permission denied", folder)
        return real_scandir(path)

    monkeypatch.setattr(static_files.os, "scandir", scandir)
    with pytest.raises(static_files.UnreadableFile) as raised:
        create_all(site.app)
    assert str(raised.value).startswith(f"cannot list static folder {folder}: ")
    assert s3.list_buckets()["Buckets"] == []


# Links and hidden directories


def test_symlinks_out_of_the_folder_and_loops_are_never_followed(
    s3: S3Client, site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    secret = site.root / "outside" / "secret.txt"
    secret.parent.mkdir()
    secret.write_bytes(b"TOP SECRET: the database password")
    static = site.root / "static"
    (static / "leak.txt").symlink_to(secret)
    (static / "leak-relative.txt").symlink_to(Path("..") / "outside" / "secret.txt")
    (static / "leakdir").symlink_to(secret.parent)
    (static / "chain.txt").symlink_to(static / "leak.txt")
    (static / "css" / "loop").symlink_to(static)
    (static / "img" / "self").symlink_to(".")
    (static / "alias.css").symlink_to(static / "css" / "a.css")  # inside: served

    with caplog.at_level(logging.WARNING, logger="flask_s3"):
        result = create_all(site.app, include_hidden=False)

    keys = sorted([*VISIBLE_KEYS, "static/alias.css"])
    assert sorted(result.uploaded) == keys
    assert keys_in(s3) == sorted([*keys, MANIFEST])
    assert body_of(s3, "static/alias.css") == CSS
    for key in keys_in(s3):
        assert b"TOP SECRET" not in body_of(s3, key), key
    messages = warnings_in(caplog)
    base = os.path.realpath(static)
    for name, target in (
        ("leak.txt", secret),
        ("leak-relative.txt", secret),
        ("leakdir", secret.parent),
        ("chain.txt", secret),
    ):
        assert (
            f"skipping {static / name}: it is a symlink to {target}, outside the "
            f"static folder {base}"
        ) in messages
    assert f"skipping {static / 'css' / 'loop'}: a symlink loop" in messages
    assert f"skipping {static / 'img' / 'self'}: a symlink loop" in messages


def test_hidden_directories_at_any_depth_are_never_uploaded_by_default(
    s3: S3Client, site: Site
) -> None:
    hidden = [
        site.add("static", ".git/config", b"[core]\n"),
        site.add("static", ".git/objects/ab/cdef", b"blob"),
        site.add("static", "a/b/.cache/x.css", b"/* cache */"),
        site.add("admin_static", "js/.venv/lib/site.js", b"// venv"),
        site.add("static", "a/b/.env", b"SECRET=1"),
    ]
    visible = site.add("static", "a/b/ok.css", b"/* ok */")
    result = create_all(site.app)
    assert sorted(result.uploaded) == sorted([*VISIBLE_KEYS, visible])
    assert keys_in(s3) == sorted([*VISIBLE_KEYS, visible, MANIFEST])
    for key in [*hidden, *HIDDEN_KEYS]:
        assert key not in keys_in(s3)


# Settings


@pytest.mark.parametrize("name", ["My_Bucket", "ab", "bucket..name", "192.168.0.1"])
def test_a_bucket_name_s3_would_refuse_fails_at_init_and_create_all(
    s3: S3Client, site: Site, name: str
) -> None:
    site.app.config["S3_BUCKET_NAME"] = name
    message = (
        f"S3_BUCKET_NAME = {name!r} is invalid: expected an S3 bucket name "
        f"(3-63 lowercase letters, digits, dots, hyphens) ({name!r} breaks S3's "
        "naming rules)"
    )
    with pytest.raises(SettingsError) as at_init:
        FlaskS3(site.app)
    assert (at_init.value.key, str(at_init.value)) == ("S3_BUCKET_NAME", message)
    with pytest.raises(SettingsError) as at_upload:
        create_all(site.app)
    assert (at_upload.value.key, str(at_upload.value)) == ("S3_BUCKET_NAME", message)
    assert s3.list_buckets()["Buckets"] == []


@pytest.mark.parametrize(
    "region", ["EU-WEST-1", "us east 1", "eu-west-1 ", "eu_west_1", "https://x"]
)
def test_a_malformed_region_is_a_settings_error_naming_it(
    s3: S3Client, site: Site, region: str
) -> None:
    message = (
        f"S3_REGION = {region!r} is invalid: expected a region such as "
        "'eu-west-1' (any lowercase token, such as 'auto', with S3_ENDPOINT_URL) "
        f"({region!r} is not a region name)"
    )
    site.app.config["S3_REGION"] = region
    with pytest.raises(SettingsError) as at_init:
        FlaskS3(site.app)
    assert (at_init.value.key, str(at_init.value)) == ("S3_REGION", message)
    with pytest.raises(SettingsError) as at_upload:
        create_all(site.app)
    assert (at_upload.value.key, str(at_upload.value)) == ("S3_REGION", message)

    del site.app.config["S3_REGION"]
    with pytest.raises(SettingsError) as as_argument:
        create_all(site.app, location=region)
    assert as_argument.value.key == "location"
    assert str(as_argument.value) == message.replace("S3_REGION", "location", 1)
    assert s3.list_buckets()["Buckets"] == []


def test_an_unknown_but_well_formed_region_fails_when_used_naming_its_endpoint(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """moto accepts any region, so this runs without it: no host resolves, as
    s3.eu-nowhere-1.amazonaws.com does not, and nothing can leave the machine."""
    site.app.config.update(S3_REGION="eu-nowhere-1", S3_MAX_ATTEMPTS=1)
    FlaskS3(site.app)  # well-formed: no way to know offline that it is unknown
    with site.app.test_request_context():
        assert flask_s3.url_for("static", filename="css/a.css") == (
            f"https://{BUCKET}.s3.eu-nowhere-1.amazonaws.com/static/css/a.css"
        )
    looked_up: list[str] = []

    def no_such_host(host: Any, *_: Any, **__: Any) -> Any:
        looked_up.append(host)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    for proxy in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(proxy, raising=False)  # straight to the endpoint
    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)
    with pytest.raises(S3Error) as failure:
        create_all(site.app)
    endpoint = f"{BUCKET}.s3.eu-nowhere-1.amazonaws.com"
    assert str(failure.value) == (
        f"S3 is not reachable as configured (HeadBucket of bucket {BUCKET!r}): "
        f'EndpointConnectionError: Could not connect to the endpoint URL: "https://{endpoint}/"'
    )
    assert isinstance(failure.value.__cause__, EndpointConnectionError)
    assert set(looked_up) == {endpoint}


@pytest.mark.parametrize("url", ["localhost:9000", "ftp://x", "http://", "//host"])
def test_a_malformed_endpoint_url_is_a_settings_error_naming_it(
    s3: S3Client, site: Site, url: str
) -> None:
    site.app.config["S3_ENDPOINT_URL"] = url
    message = (
        f"S3_ENDPOINT_URL = {url!r} is invalid: expected an http:// or https:// "
        "URL (it is not an http:// or https:// URL with a host)"
    )
    with pytest.raises(SettingsError) as at_init:
        FlaskS3(site.app)
    assert (at_init.value.key, str(at_init.value)) == ("S3_ENDPOINT_URL", message)
    with pytest.raises(SettingsError) as at_upload:
        create_all(site.app)
    assert (at_upload.value.key, str(at_upload.value)) == ("S3_ENDPOINT_URL", message)
    assert s3.list_buckets()["Buckets"] == []


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("S3_USE_HTTPS", "false"),
        ("FLASKS3_ACTIVE", "false"),
        ("S3_UPLOAD_CONCURRENCY", "4"),
        ("S3_GZIP_ONLY_EXTS", ".css"),
        ("S3_HEADERS", [("Cache-Control", "max-age=60")]),
        ("S3_REGION", 42),
        ("S3_PREFIX", None),
        ("S3_CACHE_BUSTING", "fingerprint"),
        ("S3_CONNECT_TIMEOUT", "10"),
    ],
)
def test_a_setting_of_the_wrong_type_fails_at_init_and_create_all(
    s3: S3Client, site: Site, key: str, value: Any
) -> None:
    site.app.config[key] = value
    with pytest.raises(SettingsError) as at_init:
        FlaskS3(site.app)
    with pytest.raises(SettingsError) as at_upload:
        create_all(site.app)
    for error in (at_init.value, at_upload.value):
        assert error.key == key
        assert str(error).startswith(f"{key} = {value!r} is invalid: expected ")
    assert s3.list_buckets()["Buckets"] == []


# url_for with unsafe or unusual filenames


@pytest.mark.parametrize(
    "filename", ["../secret.txt", "a/../../b", "..", "css/../../x", "/../secret.txt"]
)
def test_url_for_refuses_names_outside_the_folder_that_flask_does_not_serve(
    site: Site, filename: str
) -> None:
    (site.root / "secret.txt").write_bytes(b"secret")
    (site.root / "b").write_bytes(b"b")
    FlaskS3(site.app)
    client = site.app.test_client()
    with site.app.test_request_context():
        with pytest.raises(UnsafeFilename, match="climbs out of the static folder"):
            flask_s3.url_for("static", filename=filename)
        local = flask.url_for("static", filename=filename)
    served = client.get(local, follow_redirects=True)
    assert served.status_code == 404, local
    served.close()


@pytest.mark.parametrize(
    ("filename", "served"),
    [
        ("/css/a.css", "static/css/a.css"),
        ("css/../css/a.css", "static/css/a.css"),
        ("css/../js/app.js", "static/js/app.js"),
        ("//js/./app.js", "static/js/app.js"),
    ],
)
def test_url_for_names_the_file_flask_serves_for_odd_but_valid_names(
    s3: S3Client, site: Site, filename: str, served: str
) -> None:
    """A leading slash or a '..' that stays inside the folder is no error:
    Flask (its router merging slashes, the browser resolving dot segments)
    serves a file of the folder, and the URL names that file's object."""
    create_all(site.app)
    FlaskS3(site.app)
    client = site.app.test_client()
    with site.app.test_request_context():
        url = flask_s3.url_for("static", filename=filename)
        local = flask.url_for("static", filename=filename)
    assert url == f"https://{BUCKET}.s3.amazonaws.com/{served}"
    assert body_of(s3, served) == site.body(served)
    answer = client.get(posixpath.normpath(local), follow_redirects=True)
    assert answer.status_code == 200, local
    assert answer.data == site.body(served)
    answer.close()


@pytest.mark.parametrize("busting", ["off", "query", "filename"])
@pytest.mark.parametrize(
    "filename",
    ["css/./a.css", "css//a.css", "./css/a.css", "css/a.css/", "css/a.css/."],
)
def test_url_for_of_dot_and_empty_segments_names_the_object_flask_serves(
    s3: S3Client, site: Site, busting: str, filename: str
) -> None:
    site.app.config["S3_CACHE_BUSTING"] = busting
    FlaskS3(site.app)
    create_all(site.app)
    with site.app.test_request_context():
        ours = flask_s3.url_for("static", filename=filename)
        plain = flask_s3.url_for("static", filename="css/a.css")
        local = flask.url_for("static", filename=filename)
    assert ours == plain
    served = site.app.test_client().get(local)
    assert served.status_code == 200
    assert body_of(s3, key_of_url(ours)) == served.data == CSS
    served.close()
