from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
from typing import Any

import pytest

from flask_s3.adapters import file_hashes
from flask_s3.adapters.file_hashes import FileHashes, digest_of_stream
from flask_s3.adapters.listed_files import open_listed


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def test_sha1_of_file_streams_in_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(file_hashes, "_CHUNK", 7)
    data = os.urandom(100)
    (tmp_path / "f").write_bytes(data)
    with open_listed(str(tmp_path / "f"), None) as stream:
        assert digest_of_stream(stream) == sha1(data)


def test_hash_follows_content_after_recheck(tmp_path: Path) -> None:
    clock = Clock()
    hashes = FileHashes(recheck_seconds=1.0, clock=clock)
    path = tmp_path / "app.css"
    path.write_bytes(b"one")
    assert hashes.digest(str(path)) == sha1(b"one")
    path.write_bytes(b"two, longer")
    assert hashes.digest(str(path)) == sha1(b"one")  # not looked at again yet
    clock.now = 1.5
    assert hashes.digest(str(path)) == sha1(b"two, longer")


def test_unchanged_file_is_hashed_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real = file_hashes.stable_digest
    monkeypatch.setattr(
        file_hashes,
        "stable_digest",
        lambda path, *args, **kwargs: calls.append(path) or real(path, *args, **kwargs),
    )
    clock = Clock()
    hashes = FileHashes(recheck_seconds=0.5, clock=clock)
    path = tmp_path / "a.js"
    path.write_bytes(b"x")
    for step in range(10):
        clock.now = step
        assert hashes.digest(str(path)) == sha1(b"x")
    assert calls == [str(path)]


def test_missing_or_non_regular_files_have_no_hash(tmp_path: Path) -> None:
    hashes = FileHashes(recheck_seconds=0.0)
    assert hashes.digest(str(tmp_path / "nope.css")) is None
    assert hashes.digest(str(tmp_path)) is None
    path = tmp_path / "gone.css"
    path.write_bytes(b"x")
    assert hashes.digest(str(path)) == sha1(b"x")
    path.unlink()
    assert hashes.digest(str(path)) is None


def test_entries_are_bounded(tmp_path: Path) -> None:
    hashes = FileHashes(max_entries=5)
    for number in range(50):
        path = tmp_path / f"{number}.css"
        path.write_bytes(str(number).encode())
        hashes.digest(str(path))
    assert len(hashes._entries) == 5


def test_concurrent_callers_share_one_hash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = threading.Event()
    release = threading.Event()
    calls: list[str] = []
    real = file_hashes.stable_digest

    def slow(path: str, *args: Any, **kwargs: Any) -> Any:
        calls.append(path)
        started.set()
        release.wait(5)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(file_hashes, "stable_digest", slow)
    hashes = FileHashes()
    path = tmp_path / "big.js"
    path.write_bytes(b"content")
    results: list[str | None] = []
    threads = [
        threading.Thread(target=lambda: results.append(hashes.digest(str(path))))
        for _ in range(8)
    ]
    threads[0].start()
    started.wait(5)
    for thread in threads[1:]:
        thread.start()
    release.set()
    for thread in threads:
        thread.join(5)
    assert results == [sha1(b"content")] * 8
    assert calls == [str(path)]


def test_a_file_in_use_outlives_the_ones_not_asked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each re-check moves a file to the back of the eviction order."""
    calls: list[str] = []
    real = file_hashes.stable_digest
    monkeypatch.setattr(
        file_hashes,
        "stable_digest",
        lambda path, *args, **kwargs: calls.append(path) or real(path, *args, **kwargs),
    )
    clock = Clock()
    hashes = FileHashes(max_entries=3, recheck_seconds=1.0, clock=clock)
    paths = []
    for name in ("used", "idle-1", "idle-2", "new"):
        (tmp_path / name).write_bytes(name.encode())
        paths.append(str(tmp_path / name))
    used, idle, _, new = paths
    for path in paths[:3]:
        hashes.digest(path)
    clock.now = 2.0
    hashes.digest(used)
    hashes.digest(new)
    assert used in hashes._entries
    assert idle not in hashes._entries
    hashes.digest(used)
    assert calls.count(used) == 1
