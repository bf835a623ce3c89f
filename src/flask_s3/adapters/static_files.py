"""Reading static folders from disk: the walk and the hashing.

The walk follows symlinks, as Flask's ``send_from_directory`` does, but never
out of the static folder: a link to ``/etc`` or to the project root would
otherwise publish files nobody meant to serve. Loops are cut, and names that
are not valid UTF-8 are skipped, since no S3 key can hold them.
"""

from __future__ import annotations

import logging
import os
import stat
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import attrs

from flask_s3.adapters.file_hashes import stable_digest
from flask_s3.adapters.listed_files import Stamp
from flask_s3.core.frozen import FrozenDict
from flask_s3.core.integrity import ALGORITHM, integrity_value
from flask_s3.core.static_assets import (
    Asset,
    Listing,
    Origin,
    StaticRoot,
    is_hidden,
)
from flask_s3.core.upload_plan import LocalFile
from flask_s3.errors import UnreadableFile

logger = logging.getLogger("flask_s3")


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def list_static_root(
    root: StaticRoot, *, include_hidden: bool = False
) -> Iterator[Listing]:
    """Every regular file under the root's folder, relative and ``/``-separated,
    with the file each one named (`Origin`) when it was listed: in the order
    of their paths, a run of one folder's files at a time, as the walk finds
    them. A big site is never held listed in full.

    Only links are resolved (``realpath`` costs a ``lstat`` per component);
    any other entry's resolved path is its directory's plus its name, and a
    file costs the one ``lstat`` that gives its device and inode."""
    base = os.path.realpath(root.folder)
    if not os.path.isdir(base):
        logger.warning(
            "static folder %s of endpoint %r does not exist; nothing to upload from it",
            root.folder,
            root.endpoint,
        )
        return
    walk = _Walk(base, include_hidden)
    top = _Directory("", root.folder, base, "", frozenset({base}))
    pending = [iter(walk.children(top))]
    while pending:
        found: dict[str, Origin] = {}
        for child in pending[-1]:
            if isinstance(child, _Directory):
                pending.append(iter(walk.children(child)))
                break
            relative, origin = child
            found[relative] = origin
        else:
            pending.pop()
        if found:
            yield Listing(root, tuple(found), FrozenDict(found))


@attrs.frozen
class _Directory:
    relative: str
    """Below the static folder, as listed."""
    path: str
    """Where it is scanned: the folder's path joined with ``relative``."""
    real: str
    """Resolved."""
    target: str
    """``real`` below the folder's resolved path, ``/``-separated."""
    ancestors: frozenset[str]
    """The resolved paths it was reached through, itself included."""

    def child(self, name: str) -> tuple[str, str]:
        """A child's relative path and its target, if it is no link: one
        string for both where no link was crossed, as in most folders."""
        relative = f"{self.relative}/{name}" if self.relative else name
        if self.target == self.relative:
            return relative, relative
        return relative, f"{self.target}/{name}" if self.target else name


_Child = _Directory | tuple[str, Origin]


def _order(child: _Child) -> str:
    """Where a child's paths sort among its siblings': a folder's paths all
    start with its name and a slash, so walking the children in this order
    lists every path of the tree in sorted order."""
    if isinstance(child, _Directory):
        return child.relative + "/"
    return child[0]


class _Walk:
    def __init__(self, base: str, include_hidden: bool) -> None:
        self.base = base
        self.include_hidden = include_hidden
        self.devices: dict[int, int] = {}
        """One int per device number, for every origin on it to share: a
        big site's files are all on one or two."""

    def children(self, directory: _Directory) -> list[_Child]:
        try:
            entries = os.scandir(directory.path)
        except OSError as exc:
            raise UnreadableFile(
                f"cannot list static folder {directory.path}: "
                f"{exc.strerror or exc}; fix its permissions or remove it, then "
                "run again"
            ) from None
        children: list[_Child] = []
        with entries:
            for entry in entries:
                if not self.include_hidden and is_hidden(entry.name):
                    continue
                if not _valid_name(entry):
                    continue
                child = self._child(entry, directory)
                if child is not None:
                    children.append(child)
        children.sort(key=_order)
        return children

    def _child(self, entry: os.DirEntry[str], directory: _Directory) -> _Child | None:
        relative, target = directory.child(entry.name)
        info: os.stat_result | None
        try:
            if entry.is_symlink():
                real = os.path.realpath(entry.path)
                if not _inside(real, self.base):
                    logger.warning(
                        "skipping %s: it is a symlink to %s, outside the static "
                        "folder %s",
                        entry.path,
                        real,
                        self.base,
                    )
                    return None
                target = real[len(self.base) :].lstrip(os.sep).replace(os.sep, "/")
                if not self.include_hidden and is_hidden(target):
                    return None
                info = os.stat(real, follow_symlinks=False)
            elif entry.is_dir(follow_symlinks=False):
                # Not a link: its own name is all the walk has not checked yet.
                real, info = os.path.join(directory.real, entry.name), None
            else:
                # A file is recorded by its origin, not walked into: no path
                # of its own to build (most entries are files).
                real, info = "", entry.stat(follow_symlinks=False)
        except OSError:
            return None  # gone since it was listed
        if info is None or stat.S_ISDIR(info.st_mode):
            if real in directory.ancestors:
                logger.warning("skipping %s: a symlink loop", entry.path)
                return None
            return _Directory(
                relative, entry.path, real, target, directory.ancestors | {real}
            )
        if stat.S_ISREG(info.st_mode):
            device = self.devices.setdefault(info.st_dev, info.st_dev)
            return relative, Origin(self.base, target, device, info.st_ino)
        return None


def _valid_name(entry: os.DirEntry[str]) -> bool:
    """Whether the name can be part of a key (the folder's own path need
    not: keys are made of the names below it)."""
    if entry.name.isascii():
        return True
    try:
        entry.name.encode("utf-8")
    except UnicodeEncodeError:
        logger.warning(
            "skipping %r: its name is not valid UTF-8, so it cannot be an S3 key",
            entry.path,
        )
        return False
    return True


PARALLEL_SIZE = 256 * 1024
"""Files this large or larger are hashed in threads. hashlib releases the
GIL only for updates of 2048 bytes or more, and handing a file to a thread
(a Future, a lock, a queue) costs more than hashing tens of KiB: threads pay
only where the hashing dwarfs the hand-off."""


AHEAD = 64
"""How many files hashing may run ahead of the one the plan waits for (a
large file in a thread): enough to keep the threads busy, few enough that a
site of large files is not held hashed in full before it is planned."""


def hash_assets(assets: Iterable[Asset], *, workers: int = 4) -> Iterator[LocalFile]:
    """SHA-1, size and stamp of each asset, in order, as each is hashed: small
    files in this thread, large ones side by side in ``workers`` threads. An
    asset the walk listed is read only if it is still the file the walk found
    (see `open_listed`). Yielded as they come, so that a plan that takes each
    as it comes keeps nothing of a file it skips."""
    ahead: deque[LocalFile | Future[LocalFile]] = deque()
    with ThreadPoolExecutor(max_workers=workers) as pool:  # no thread until used
        for asset in assets:
            small = stable_digest(
                asset.local_path, asset.origin, max_size=PARALLEL_SIZE - 1
            )
            if small is None:
                ahead.append(pool.submit(_hashed_whole, asset))
            else:
                ahead.append(_local_file(asset, *small))
            while ahead and (_ready(ahead[0]) or len(ahead) > AHEAD):
                yield _taken(ahead.popleft())
        while ahead:
            yield _taken(ahead.popleft())


def _local_file(asset: Asset, sha1: str, stamp: Stamp) -> LocalFile:
    mtime_ns, size, inode = stamp
    return LocalFile(asset, sha1, size, mtime_ns, inode)


def _hashed_whole(asset: Asset) -> LocalFile:
    return _local_file(asset, *stable_digest(asset.local_path, asset.origin))


def _ready(item: LocalFile | Future[LocalFile]) -> bool:
    return not isinstance(item, Future) or item.done()


def _taken(item: LocalFile | Future[LocalFile]) -> LocalFile:
    return item.result() if isinstance(item, Future) else item


def integrity_values(files: Iterable[LocalFile]) -> FrozenDict[str, str]:
    """The SRI value of each file, by its local path. A second read of each
    file, so only ``plan`` pays for it, never an upload."""
    assets = {file.asset.local_path: file.asset for file in files}
    return FrozenDict(
        (path, integrity_value(stable_digest(path, asset.origin, ALGORITHM)[0]))
        for path, asset in assets.items()
    )
