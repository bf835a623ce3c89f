"""Opening a listed static file again, without trusting its path.

The walk checks each path once (inside the static folder, not hidden, a
regular file) and records the file it found, its `Origin`. Hashing and the
upload come later and open the path again, by which time it may have been
swapped for a link out of the folder, or for a FIFO whose ``open`` would wait
for a writer for ever. So every open here

- follows no link in the last component (``O_NOFOLLOW``; `Origin.path` has
  every link resolved already), and reads nothing but the file the walk
  listed: the same device and inode, checked on the open descriptor;
- does not wait (``O_NONBLOCK``), and reads only a regular file;
- reads no further than the size the file had when it was opened, so a
  writer that keeps appending cannot keep a read going.

Each read (the hash's, the upload's) reads only from the descriptor it
opened and checked. Holding one descriptor per file from the hash to the upload
would take 50,000 of them for a big site, more than a process may hold;
checking the identity at each open is as safe, since no byte is read from
a file that is not the listed one.
"""

from __future__ import annotations

import errno
import io
import os
import stat
from typing import TYPE_CHECKING

from flask_s3.core.static_assets import Origin
from flask_s3.errors import FileChanged, UnreadableFile

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

Stamp = tuple[int, int, int]
"""(mtime in ns, size, inode): what changes when a file is rewritten or
replaced."""


def stamp_of(info: os.stat_result, origin: Origin | None = None) -> Stamp:
    """With the ``origin`` the file was checked to be (`open_checked`), the
    inode is the origin's own int, the same number: a big site keeps a stamp
    per file for the whole run, and one int fewer each."""
    return (
        info.st_mtime_ns,
        info.st_size,
        (info.st_ino if origin is None else origin.inode),
    )


class SizedReader(io.RawIOBase):
    """A raw reader of a fixed number of bytes with a position of its own:
    seekable, so botocore can size a body and rewind it for a retry.
    Subclasses say how the bytes at the position are read."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self._size = size
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        start = {os.SEEK_SET: 0, os.SEEK_CUR: self._position, os.SEEK_END: self._size}
        self._position = max(0, start[whence] + offset)
        return self._position


class ListedFile(SizedReader):
    """A regular file, open, read as the bytes it held when it was opened:
    reads end at that size, however much is appended meanwhile."""

    def __init__(self, descriptor: int, path: str, info: os.stat_result) -> None:
        super().__init__(info.st_size)
        self._descriptor = descriptor
        self.path = path
        self.stamp = stamp_of(info)
        """As it was opened."""

    def current_stamp(self) -> Stamp:
        return stamp_of(os.fstat(self._descriptor))

    def readinto(self, buffer: WriteableBuffer) -> int:
        wanted = min(memoryview(buffer).nbytes, self._size - self._position)
        if wanted <= 0:
            return 0
        data = os.pread(self._descriptor, wanted, self._position)
        memoryview(buffer).cast("B")[: len(data)] = data
        self._position += len(data)
        return len(data)

    def close(self) -> None:
        if not self.closed:
            os.close(self._descriptor)
        super().close()


def open_listed(path: str, origin: Origin | None) -> ListedFile:
    """``path`` open for reading, if it is a regular file; with the walk's
    ``origin``, only if it is still that file, reached through no link.
    ``path`` names the file in errors; without an origin (``url_for``
    hashing what Flask would serve) links are followed, as Flask does."""
    descriptor, info = open_checked(path, origin)
    return ListedFile(descriptor, path, info)


def open_checked(path: str, origin: Origin | None) -> tuple[int, os.stat_result]:
    """`open_listed` as a bare descriptor, and what it was when opened: for
    reading a small file whole, where a file object costs more than the
    read. The caller closes the descriptor."""
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC
    if origin is not None:
        flags |= os.O_NOFOLLOW
    try:
        descriptor = os.open(path if origin is None else origin.path, flags)
    except OSError as exc:
        if origin is not None and exc.errno == errno.ELOOP:
            raise FileChanged(
                f"static file {path} was replaced by a link since it was "
                "listed; run again"
            ) from None
        raise
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise UnreadableFile(
                f"static file {path} is not a regular file any more (a FIFO, "
                "socket or device); remove it from the static folder, then "
                "run again"
            )
        if origin is not None and (info.st_dev, info.st_ino) != (
            origin.device,
            origin.inode,
        ):
            raise FileChanged(
                f"static file {path} was replaced since it was listed; run again"
            )
    except BaseException:
        os.close(descriptor)
        raise
    return descriptor, info
