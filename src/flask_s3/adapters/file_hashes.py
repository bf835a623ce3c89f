"""Content hashes of local static files, for cache-busting URLs and
Subresource Integrity.

Hashing on every ``url_for`` would read a file per link, and even a ``stat``
per link costs as much as building the rest of the URL. So each file version
is hashed once, and a file is looked at again at most every
``recheck_seconds``; concurrent callers of the same new version wait for the
one hash being computed instead of computing it again.
"""

from __future__ import annotations

import hashlib
import os
import stat
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from typing import overload

import attrs

from flask_s3.adapters.listed_files import (
    ListedFile,
    Stamp,
    open_checked,
    stamp_of,
)
from flask_s3.core.static_assets import Origin
from flask_s3.errors import UnreadableFile

_CHUNK = 1024 * 1024


def digest_of_stream(stream: ListedFile, algorithm: str = "sha1") -> str:
    """The hex digest of an open file's bytes (SHA-1 unless told otherwise),
    read in chunks so big assets are never held whole."""
    digest = hashlib.new(algorithm, usedforsecurity=False)
    while chunk := stream.read(_CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def read_whole(descriptor: int, size: int) -> bytes:
    """A small file's bytes, in one read that ends at its size as opened."""
    return os.pread(descriptor, size, 0)


def _read_once(
    path: str, origin: Origin | None, algorithm: str, max_size: int | None
) -> tuple[str, Stamp, Stamp] | None:
    """One read of the file: its digest, and its stamp when opened and after
    the read; None when it is larger than ``max_size``. A file of at most a
    chunk, as most static files are, is read whole without a file object;
    a larger one is streamed from the same descriptor."""
    descriptor, info = open_checked(path, origin)
    size = info.st_size
    if max_size is not None and size > max_size:
        os.close(descriptor)
        return None
    if size > _CHUNK:
        with ListedFile(descriptor, path, info) as stream:
            digest = digest_of_stream(stream, algorithm)
            return digest, stamp_of(info, origin), stream.current_stamp()
    try:
        # The constructor itself: hashlib.new() looks the name up each call.
        new: Callable[..., hashlib._Hash] = getattr(hashlib, algorithm)
        whole = new(read_whole(descriptor, size), usedforsecurity=False)
        return (
            whole.hexdigest(),
            stamp_of(info, origin),
            stamp_of(os.fstat(descriptor)),
        )
    finally:
        os.close(descriptor)


STABLE_READS = 3
"""How often a file that changes while it is read is read again: a file that
is still being written (a log under static/) must not hold a run forever.
Each read ends at the size the file had when it was opened (`ListedFile`),
so even a writer faster than the reader cannot stretch one."""


@overload
def stable_digest(
    path: str,
    origin: Origin | None = None,
    algorithm: str = "sha1",
    *,
    max_size: None = None,
) -> tuple[str, Stamp]: ...


@overload
def stable_digest(
    path: str, origin: Origin | None, algorithm: str = "sha1", *, max_size: int
) -> tuple[str, Stamp] | None: ...


def stable_digest(
    path: str,
    origin: Origin | None = None,
    algorithm: str = "sha1",
    *,
    max_size: int | None = None,
) -> tuple[str, Stamp] | None:
    """The digest of a file and the stamp it kept while it was read: a file
    rewritten mid-read would give a hash of bytes it never held, and a URL or
    a manifest entry for an object that exists nowhere. Used by ``url_for``
    and by the upload alike; the upload passes the walk's ``origin``, so that
    only the listed file is read (see `open_listed`). None, with nothing
    read, when the file is larger than ``max_size`` as opened: the caller
    hashes such files elsewhere (in a thread)."""
    try:
        for _ in range(STABLE_READS):
            read = _read_once(path, origin, algorithm, max_size)
            if read is None:
                return None
            digest, stamp, after = read
            if after == stamp:
                return digest, stamp
    except OSError as exc:
        raise UnreadableFile(
            f"cannot read static file {path}: {exc.strerror or exc}; "
            "fix its permissions or remove it, then run again"
        ) from None
    raise UnreadableFile(
        f"static file {path} kept changing while it was read; stop whatever "
        "writes to it, or move it out of the static folder, then run again"
    )


@attrs.frozen
class _Entry:
    stamp: Stamp
    fresh_until: float
    digest: str | None
    pending: Future[str | None] | None
    """Set while one thread hashes this version; the others wait on it."""

    def sha1(self) -> str | None:
        return self.digest if self.pending is None else self.pending.result()


class FileHashes:
    """A bounded, thread-safe map of file path to the hex digest of its
    current content: SHA-1 for cache busting, SHA-384 for integrity.

    Past ``max_entries`` the entry re-checked longest ago goes: a file in use
    is re-checked, and so kept, every ``recheck_seconds``. The entries are
    ordered for that, since evicting the oldest key of a plain dict scans the
    holes earlier evictions left (95 us a call at 65,536 entries)."""

    def __init__(
        self,
        *,
        algorithm: str = "sha1",
        max_entries: int = 65536,
        recheck_seconds: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._algorithm = algorithm
        self._max_entries = max_entries
        self._recheck_seconds = recheck_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, _Entry] = OrderedDict()

    def digest(self, path: str) -> str | None:
        """The file's digest, or None when it is missing or not a regular file."""
        entry = self._entries.get(path)
        now = self._clock()
        if entry is not None and entry.pending is None and now < entry.fresh_until:
            return entry.digest
        return self._refresh(path, now)

    def _refresh(self, path: str, now: float) -> str | None:
        try:
            info = os.stat(path)
        except OSError:
            info = None
        if info is None or not stat.S_ISREG(info.st_mode):
            with self._lock:
                self._entries.pop(path, None)
            return None
        stamp: Stamp = (info.st_mtime_ns, info.st_size, info.st_ino)
        fresh_until = now + self._recheck_seconds
        with self._lock:
            entry = self._entries.get(path)
            if entry is not None and entry.stamp == stamp:
                # Not attrs.evolve: this runs once a second for every file in
                # use, and evolve costs twice what the constructor does.
                self._entries[path] = _Entry(
                    stamp, fresh_until, entry.digest, entry.pending
                )
                self._entries.move_to_end(path)
                owned = None
            else:
                owned = _Entry(stamp, fresh_until, None, Future())
                self._entries.pop(path, None)
                self._entries[path] = owned
                while len(self._entries) > self._max_entries:
                    self._entries.popitem(last=False)
        if owned is None:
            assert entry is not None
            return entry.sha1()
        return self._hash(path, owned)

    def _hash(self, path: str, owned: _Entry) -> str | None:
        """None when the file cannot be read or will not hold still."""
        digest: str | None
        try:
            digest, stamp = stable_digest(path, algorithm=self._algorithm)
        except UnreadableFile:
            digest, stamp = None, owned.stamp
        assert owned.pending is not None
        owned.pending.set_result(digest)
        with self._lock:
            current = self._entries.get(path)
            if current is not None and current.stamp == owned.stamp:
                if digest is None or stamp != owned.stamp:
                    del self._entries[path]
                else:
                    self._entries[path] = attrs.evolve(
                        current, digest=digest, pending=None
                    )
        return digest
