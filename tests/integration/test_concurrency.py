"""Concurrency: url_for under many threads while the files change, and two
uploads to one bucket at once.

``url_for`` caches file hashes per app and is called from every request
thread; a deploy may rewrite static files while the app serves. Two
``create_all`` runs may share a bucket (two services, or a deploy started
twice). mock_aws is process-wide, so runs in two threads talk to one moto
backend, as two machines talk to one bucket.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import moto.s3.models
import moto.s3.responses
import pytest
from flask import Flask

import flask_s3
from flask_s3 import FlaskS3, UploadResult, create_all
from flask_s3.adapters.file_hashes import FileHashes
from flask_s3.flask.state import state_of
from tests.integration.moto_site import (
    BUCKET,
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
THREADS = 16
CALLS = 400  # per thread: 6400 url_for calls in all, at least
REWRITES = 4  # of every file, while the calls go on
HANG_SECONDS = 60.0
"""A hammering that has not made its calls and rewrites by then is taken to
hang: its threads stop, and the test fails."""

A = b"/* version A */ body { color: red; }\n" * 40
B = b"/* version B */ body { color: blue; } /* a longer line */\n" * 39
# (endpoint, filename, key) of the files rewritten while url_for runs.
TARGETS = [
    ("static", "css/a.css", "static/css/a.css"),
    ("static", "js/app.js", "static/js/app.js"),
    ("admin.static", "js/admin.js", "admin/assets/js/admin.js"),
]


def fingerprinted_key(key: str, content: bytes) -> str:
    stem, extension = key.rsplit(".", 1)
    return f"{stem}.{sha1(content)[:12]}.{extension}"


def url_of(mode: str, key: str, content: bytes, *, anchor: bool) -> str:
    """The URL the S3_CACHE_BUSTING mode gives ``key`` holding ``content``."""
    if mode == "query":
        url = f"{HOST}/{key}?v={sha1(content)[:12]}"
    else:
        url = f"{HOST}/{fingerprinted_key(key, content)}"
    return f"{url}#top" if anchor else url


def replace_atomically(path: Path, data: bytes) -> None:
    """How deploy tools and most editors save: a new file renamed over the old."""
    spare = path.with_name(path.name + ".new~")
    spare.write_bytes(data)
    os.replace(spare, path)


def hammer(
    site: Site, writer: Callable[[Path, bytes], None], *, seconds: float
) -> tuple[Counter[tuple[str, str]], list[BaseException], int, bool]:
    """url_for from THREADS threads, each in its own request context, while
    one more thread rewrites every target, alternating B and A. Each thread
    makes at least CALLS calls and goes on for at least ``seconds`` and
    REWRITES rewrites, or stops after HANG_SECONDS. Returns each (key, url)
    seen with its count, the errors, the rewrites and whether every thread
    finished."""
    paths = [site.path(key) for _, _, key in TARGETS]
    for path in paths:
        path.write_bytes(A)
    seen: Counter[tuple[str, str]] = Counter()
    errors: list[BaseException] = []
    lock = threading.Lock()
    done = threading.Event()
    rewrites = 0
    start = threading.Barrier(THREADS + 1)

    def rewrite() -> None:
        nonlocal rewrites
        start.wait()
        while not done.is_set():
            data = B if rewrites % 2 == 0 else A
            for path in paths:
                writer(path, data)
            rewrites += 1
            time.sleep(0.0002)

    def call() -> None:
        mine: Counter[tuple[str, str]] = Counter()
        try:
            with site.app.test_request_context():
                start.wait()
                now = time.monotonic()
                until, deadline = now + seconds, now + HANG_SECONDS
                number = 0
                while now < deadline and (
                    number < CALLS or now < until or rewrites < REWRITES
                ):
                    number += 1
                    now = time.monotonic()
                    endpoint, filename, key = TARGETS[number % len(TARGETS)]
                    if number % 5 == 4:  # the general path, not the cached one
                        url = flask_s3.url_for(
                            endpoint, filename=filename, _anchor="top"
                        )
                    else:
                        url = flask_s3.url_for(endpoint, filename=filename)
                    mine[key, url] += 1
        except BaseException as exc:
            with lock:
                errors.append(exc)
        with lock:
            seen.update(mine)

    writer_thread = threading.Thread(target=rewrite)
    callers = [threading.Thread(target=call) for _ in range(THREADS)]
    writer_thread.start()
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join(timeout=HANG_SECONDS * 2)
    done.set()
    writer_thread.join(timeout=HANG_SECONDS)
    finished = not any(thread.is_alive() for thread in [writer_thread, *callers])
    return seen, errors, rewrites, finished


def classify(
    mode: str, seen: Counter[tuple[str, str]], contents: list[bytes]
) -> dict[str, set[bytes]]:
    """The content each URL stands for, per key; fails on any URL that is
    not the URL of one of ``contents``."""
    valid = {
        url_of(mode, key, content, anchor=anchor): (key, content)
        for _, _, key in TARGETS
        for content in contents
        for anchor in (False, True)
    }
    held: dict[str, set[bytes]] = {key: set() for _, _, key in TARGETS}
    for key, url in seen:
        assert url in valid, f"{url} is the URL of no content {key} ever held"
        owner, content = valid[url]
        assert owner == key, url
        held[key].add(content)
    return held


@pytest.mark.parametrize("mode", ["query", "filename"])
@pytest.mark.parametrize(
    ("recheck", "seconds"),
    [(None, 1.3), (0.0, 0.25)],
    ids=["default-recheck", "every-call"],
)
def test_url_for_from_many_threads_while_files_change_gives_only_real_versions(
    site: Site, mode: str, recheck: float | None, seconds: float
) -> None:
    """The default looks at a file again once a second, so that run lasts
    past one recheck; with no caching every call races the writer."""
    site.app.config["S3_CACHE_BUSTING"] = mode
    FlaskS3(site.app)
    if recheck is not None:
        state_of(site.app).file_hashes = FileHashes(recheck_seconds=recheck)

    seen, errors, rewrites, finished = hammer(site, replace_atomically, seconds=seconds)

    assert errors == []
    assert finished
    assert sum(seen.values()) >= THREADS * CALLS
    assert rewrites >= REWRITES
    contents = classify(mode, seen, [A, B])
    for key, held in contents.items():
        assert held, key
        if recheck == 0.0:
            assert held == {A, B}, key  # it did see the files change


def test_fingerprinted_urls_seen_under_rewrites_name_objects_the_upload_wrote(
    s3: S3Client, site: Site
) -> None:
    site.app.config["S3_CACHE_BUSTING"] = "filename"
    FlaskS3(site.app)
    state_of(site.app).file_hashes = FileHashes(recheck_seconds=0.0)
    seen, errors, _, _ = hammer(site, replace_atomically, seconds=0.25)
    assert errors == []

    for content in (A, B):  # deploy both versions, as two releases would
        for _, _, key in TARGETS:
            replace_atomically(site.path(key), content)
        create_all(site.app)
    stored = set(keys_in(s3))
    for key, url in seen:
        path = url.removeprefix(f"{HOST}/").removesuffix("#top")
        assert path in stored, url
        assert body_of(s3, path) in (A, B), url
        if path != key:  # the plain URL is given while a file will not hold still
            assert path == fingerprinted_key(key, body_of(s3, path)), url


@pytest.fixture
def moto_answers_races_as_s3_does(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto in-process differs from S3 where requests race, in two ways that
    change nothing in what Flask-S3 sends:

    - it closes an object's buffer as soon as a PUT replaces it, so a request
      of another thread still answering with that object fails with 'I/O
      operation on closed file' (a PUT that races another PUT of the manifest
      does, computing its ETag). S3 never does that: a replaced object is
      simply the old version. Buffers are kept open.
    - it checks a PUT's If-Match, then writes, with no lock between: two PUTs
      made on one ETag can both land, and under load one app's manifest
      entries were lost so. S3 decides a conditional write atomically; PUTs
      are taken one at a time."""

    def keep_open(self: moto.s3.models.FakeKey, garbage: bool = False) -> None:
        self.disposed = True

    monkeypatch.setattr(moto.s3.models.FakeKey, "dispose", keep_open)
    lock = threading.Lock()
    put_object = moto.s3.responses.S3Response.put_object

    def one_at_a_time(self: moto.s3.responses.S3Response) -> Any:
        with lock:
            return put_object(self)

    monkeypatch.setattr(moto.s3.responses.S3Response, "put_object", one_at_a_time)


def run_at_once(*apps: Flask) -> list[UploadResult]:
    """create_all on each app, each in its own thread, all released together."""
    start = threading.Barrier(len(apps))
    results: list[Any] = [None] * len(apps)

    def run(index: int) -> None:
        start.wait()
        try:
            results[index] = create_all(apps[index])
        except BaseException as exc:
            results[index] = exc

    threads = [
        threading.Thread(target=run, args=(index,)) for index in range(len(apps))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for result in results:
        assert isinstance(result, UploadResult), result
    return results


@pytest.mark.usefixtures("moto_answers_races_as_s3_does")
def test_the_same_upload_twice_at_once_finishes_twice_with_a_full_record(
    s3: S3Client, site: Site
) -> None:
    s3.create_bucket(Bucket=BUCKET)
    site.app.config["S3_ONLY_MODIFIED"] = True
    for result in run_at_once(site.app, site.app):
        assert result.failed == ()
        assert sorted([*result.uploaded, *result.skipped]) == VISIBLE_KEYS
    assert keys_in(s3) == sorted([*VISIBLE_KEYS, MANIFEST])
    for key in VISIBLE_KEYS:
        assert body_of(s3, key) == site.body(key), key
    entries = manifest_of(s3)["entries"]
    assert {key: entry["sha1"] for key, entry in entries.items()} == {
        key: sha1(site.body(key)) for key in VISIBLE_KEYS
    }
    assert create_all(site.app).uploaded == ()


def app_with_files(root: Path, name: str, count: int) -> tuple[Flask, dict[str, bytes]]:
    """An app whose static folder, served at /<name>, holds ``count`` files."""
    files = {
        f"{name}/file-{number}.css": f"/* {name} {number} */\n".encode()
        for number in range(count)
    }
    for key, data in files.items():
        path = root / name / "static" / key.split("/", 1)[1]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    app = Flask(name, root_path=str(root / name), static_url_path=f"/{name}")
    app.config.update(S3_BUCKET_NAME=BUCKET, S3_ONLY_MODIFIED=True)
    return app, files


@pytest.mark.usefixtures("moto_answers_races_as_s3_does")
def test_two_apps_uploading_to_one_bucket_at_once_both_land_every_object(
    s3: S3Client, tmp_path: Path
) -> None:
    s3.create_bucket(Bucket=BUCKET)
    one, one_files = app_with_files(tmp_path, "one", 20)
    two, two_files = app_with_files(tmp_path, "two", 20)

    first, second = run_at_once(one, two)

    assert (first.failed, second.failed) == ((), ())
    assert sorted(first.uploaded) == sorted(one_files)
    assert sorted(second.uploaded) == sorted(two_files)
    files = {**one_files, **two_files}
    assert keys_in(s3) == sorted([*files, MANIFEST])
    for key, data in files.items():
        assert body_of(s3, key) == data, key
