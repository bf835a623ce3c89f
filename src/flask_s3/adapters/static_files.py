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
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

from flask_s3.adapters.file_hashes import stable_digest
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


def list_static_root(root: StaticRoot, *, include_hidden: bool = False) -> Listing:
    """Every regular file under the root's folder, relative and ``/``-separated,
    with the file each one named (`Origin`) when it was listed."""
    base = os.path.realpath(root.folder)
    if not os.path.isdir(base):
        logger.warning(
            "static folder %s of endpoint %r does not exist; nothing to upload from it",
            root.folder,
            root.endpoint,
        )
        return Listing(root, ())
    found: dict[str, Origin] = {}
    pending: list[tuple[str, str, frozenset[str]]] = [
        ("", root.folder, frozenset({base}))
    ]
    while pending:
        relative_dir, directory, ancestors = pending.pop()
        try:
            entries = os.scandir(directory)
        except OSError as exc:
            raise UnreadableFile(
                f"cannot list static folder {directory}: {exc.strerror or exc}; "
                "fix its permissions or remove it, then run again"
            ) from None
        with entries:
            for entry in entries:
                relative = (
                    f"{relative_dir}/{entry.name}" if relative_dir else entry.name
                )
                if not include_hidden and is_hidden(entry.name):
                    continue
                if not _valid_name(entry.path):
                    continue
                real = os.path.realpath(entry.path)
                if entry.is_symlink() and not _inside(real, base):
                    logger.warning(
                        "skipping %s: it is a symlink to %s, outside the static "
                        "folder %s",
                        entry.path,
                        real,
                        base,
                    )
                    continue
                target = real[len(base) :].lstrip(os.sep).replace(os.sep, "/")
                if not include_hidden and is_hidden(target):
                    continue
                if entry.is_dir():
                    if real in ancestors:
                        logger.warning("skipping %s: a symlink loop", entry.path)
                        continue
                    pending.append((relative, entry.path, ancestors | {real}))
                elif entry.is_file():
                    origin = _origin(real, target)
                    if origin is not None:
                        found[relative] = origin
    return Listing(root, tuple(sorted(found)), FrozenDict(sorted(found.items())))


def _origin(real: str, target: str) -> Origin | None:
    """The regular file at ``real`` as it is now; None if it is gone or was
    replaced by something else (a link, a FIFO) since the walk looked."""
    try:
        info = os.stat(real, follow_symlinks=False)
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode):
        return None
    return Origin(real, target, info.st_dev, info.st_ino)


def _valid_name(path: str) -> bool:
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        logger.warning(
            "skipping %r: its name is not valid UTF-8, so it cannot be an S3 key",
            path,
        )
        return False
    return True


def hash_assets(assets: Iterable[Asset], *, workers: int = 4) -> list[LocalFile]:
    """SHA-1, size and stamp of each asset; hashlib releases the GIL, so big
    trees hash in parallel. An asset the walk listed is read only if it is
    still the file the walk found (see `open_listed`)."""

    def local_file(asset: Asset) -> LocalFile:
        sha1, stamp = stable_digest(asset.local_path, asset.origin)
        return LocalFile(asset, sha1, stamp[1], stamp)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(local_file, assets))


def integrity_values(files: Iterable[LocalFile]) -> FrozenDict[str, str]:
    """The SRI value of each file, by its local path. A second read of each
    file, so only ``plan`` pays for it, never an upload."""
    assets = {file.asset.local_path: file.asset for file in files}
    return FrozenDict(
        (path, integrity_value(stable_digest(path, asset.origin, ALGORITHM)[0]))
        for path, asset in assets.items()
    )
