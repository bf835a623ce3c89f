"""Static folders that try to publish what they should not, or to hang the
run: links to hidden files, files swapped for links out of the folder between
the walk, the hash and the upload, FIFOs, and files that never stop growing.

Every case runs against moto in-process and asserts what reached the bucket
and the manifest, not only what the run said.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

import flask_s3.adapters.file_hashes as file_hashes
import flask_s3.deploy.preparation as preparation
from flask_s3 import UnreadableFile, UploadFailed, create_all
from flask_s3.adapters.listed_files import ListedFile
from flask_s3.core import resolve_settings
from flask_s3.core.plan_report import report_text
from flask_s3.core.static_assets import Asset
from flask_s3.core.upload_plan import LocalFile
from flask_s3.deploy import DeployOptions, plan, prepare, publish
from flask_s3.errors import FileChanged
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


# Files swapped for links out of the folder


def outside_secret(site: Site, size: int = len(SECRET)) -> Path:
    secret = site.root / "outside" / "secret.txt"
    secret.parent.mkdir(exist_ok=True)
    secret.write_bytes((SECRET * (size // len(SECRET) + 1))[:size])
    return secret


def swap_for_link(path: Path, target: Path) -> None:
    """What an attacker with write access to the static folder does."""
    path.unlink()
    path.symlink_to(target)


def changed_once_listed(
    assets: Iterable[Asset], path: Path, change: Callable[..., None], *args: Any
) -> Iterator[Asset]:
    """The assets as discovery hands them over, with ``path`` changed once
    the walk has listed it, before it is hashed."""
    for asset in assets:
        if asset.origin is not None and os.path.samefile(asset.local_path, path):
            change(path, *args)
        yield asset


def test_a_file_swapped_for_a_link_before_it_is_hashed_is_never_read(
    s3: S3Client, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = outside_secret(site)
    path = site.path("static/css/a.css")
    real_hash = preparation.hash_assets

    def swap_then_hash(assets: Iterable[Asset], **options: Any) -> Iterator[LocalFile]:
        return real_hash(changed_once_listed(assets, path, swap_for_link, secret))

    monkeypatch.setattr(preparation, "hash_assets", swap_then_hash)
    with pytest.raises(FileChanged) as failure:
        create_all(site.app)
    assert str(failure.value) == (
        f"static file {path} was replaced by a link since it was listed; run again"
    )
    assert s3.list_buckets()["Buckets"] == []  # failed before any write


@pytest.mark.parametrize(
    ("gzipped", "size"),
    [(True, len(SECRET)), (False, 2 * 1024 * 1024)],
    ids=["gzip", "streamed"],
)
def test_a_file_swapped_for_a_link_after_it_is_hashed_is_never_sent(
    s3: S3Client, site: Site, gzipped: bool, size: int
) -> None:
    """Both bodies that are not checked against the hash before they go: the
    gzip spool, and a body too big to read whole."""
    site.app.config.update(S3_GZIP=gzipped, S3_ONLY_MODIFIED=True)
    create_all(site.app)
    secret = outside_secret(site, size)
    path = site.path("static/css/a.css")
    site.write("static/css/a.css", b"/* changed, so planned */\n")
    prepared = prepare(
        static_roots(site.app), resolve_settings(site.app.config), DeployOptions()
    )
    assert [item.key for item in prepared.plan.uploads] == ["static/css/a.css"]

    swap_for_link(path, secret)
    with pytest.raises(UploadFailed) as failure:
        publish(prepared, started=time.monotonic())
    [failed] = failure.value.result.failed
    assert failed.key == "static/css/a.css"
    assert failed.reason == (
        f"FileChanged: static file {path} was replaced by a link since it was "
        "listed; run again"
    )
    assert_no_secret_in(s3)
    assert "static/css/a.css" not in manifest_of(s3)["entries"]


def test_a_file_replaced_through_a_linked_folder_is_never_sent(
    s3: S3Client, site: Site
) -> None:
    """A folder on the way swapped for a link: the last component is a
    plain file, so only the device and inode tell it is another file."""
    site.app.config["S3_ONLY_MODIFIED"] = True
    create_all(site.app)
    site.write("static/css/a.css", b"/* changed, so planned */\n")
    secret_dir = site.root / "outside" / "css"
    secret_dir.mkdir(parents=True)
    (secret_dir / "a.css").write_bytes(SECRET)
    prepared = prepare(
        static_roots(site.app), resolve_settings(site.app.config), DeployOptions()
    )
    css = site.root / "static" / "css"
    css.rename(site.root / "css-moved")
    css.symlink_to(secret_dir)
    with pytest.raises(UploadFailed) as failure:
        publish(prepared, started=time.monotonic())
    failed = {f.key: f.reason for f in failure.value.result.failed}
    assert failed["static/css/a.css"] == (
        f"FileChanged: static file {css / 'a.css'} was replaced since it was "
        "listed; run again"
    )
    assert_no_secret_in(s3)
    assert "static/css/a.css" not in manifest_of(s3)["entries"]


# Files that never settle


class Writer(threading.Thread):
    """Appends to a file each time it is asked, more than a read takes: a
    log under static/ whose writer outpaces the reader."""

    def __init__(self, path: Path, amount: int) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.amount = amount
        self.asked = threading.Semaphore(0)
        self.written = threading.Semaphore(0)
        self.stopping = False

    def run(self) -> None:
        while True:
            self.asked.acquire()
            if self.stopping:
                return
            with self.path.open("ab") as log:
                log.write(b"x" * self.amount)
            self.written.release()

    def append(self) -> None:
        self.asked.release()
        self.written.acquire()

    def stop(self) -> None:
        self.stopping = True
        self.asked.release()
        self.join()


@pytest.fixture
def writer(site: Site, monkeypatch: pytest.MonkeyPatch) -> Iterator[Writer]:
    """Every read of ``static/app.log`` while it is hashed makes the writer
    append twice what was read; a read that never ends fails the test
    instead of hanging it."""
    monkeypatch.setattr(file_hashes, "_CHUNK", 64)
    log = site.root / "static" / "app.log"
    log.write_bytes(b"started\n" * 100)
    writer = Writer(log, 2 * 64)
    writer.start()
    real = file_hashes.digest_of_stream

    class Outpaced:
        def __init__(self, stream: ListedFile) -> None:
            self.stream = stream
            self.stamp = stream.stamp
            self.reads = 0

        def read(self, size: int = -1) -> Any:
            self.reads += 1
            if self.reads > 1000:
                raise AssertionError("the read never reached the end of the file")
            writer.append()
            return self.stream.read(size)

    def hashing(stream: ListedFile, algorithm: str = "sha1") -> str:
        if stream.path != str(log):
            return real(stream, algorithm)
        return real(Outpaced(stream))  # type: ignore[arg-type]

    monkeypatch.setattr(file_hashes, "digest_of_stream", hashing)
    yield writer
    writer.stop()


def test_a_file_that_grows_faster_than_it_is_read_ends_the_run_naming_it(
    s3: S3Client, site: Site, writer: Writer
) -> None:
    with pytest.raises(UnreadableFile) as failure:
        create_all(site.app)
    assert str(failure.value) == (
        f"static file {writer.path} kept changing while it was read; stop "
        "whatever writes to it, or move it out of the static folder, then run again"
    )
    assert s3.list_buckets()["Buckets"] == []


@pytest.fixture
def fifo_opener() -> Iterator[list[str]]:
    """Opens for writing, and closes at once, any FIFO listed here that a
    reader waits on: a run that blocks in ``open`` then ends (with what it
    read, nothing) and fails the test instead of hanging it."""
    fifos: list[str] = []
    done = threading.Event()

    def unblock() -> None:
        while not done.wait(0.01):
            for fifo in fifos:
                with contextlib.suppress(OSError):  # ENXIO: nobody reads yet
                    os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))

    thread = threading.Thread(target=unblock, daemon=True)
    thread.start()
    yield fifos
    done.set()
    thread.join()


def test_a_file_replaced_by_a_fifo_ends_the_run_naming_it(
    s3: S3Client,
    site: Site,
    monkeypatch: pytest.MonkeyPatch,
    fifo_opener: list[str],
) -> None:
    path = site.path("static/js/app.js")
    real_hash = preparation.hash_assets

    def make_fifo(path: Path) -> None:
        path.unlink()
        os.mkfifo(path)
        fifo_opener.append(str(path))

    def swap_then_hash(assets: Iterable[Asset], **options: Any) -> Iterator[LocalFile]:
        return real_hash(changed_once_listed(assets, path, make_fifo))

    monkeypatch.setattr(preparation, "hash_assets", swap_then_hash)
    with pytest.raises(UnreadableFile) as failure:
        create_all(site.app)
    assert str(failure.value) == (
        f"static file {path} is not a regular file any more (a FIFO, socket or "
        "device); remove it from the static folder, then run again"
    )
    assert s3.list_buckets()["Buckets"] == []
