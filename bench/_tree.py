"""The static folder every contender uploads: what a real app's looks like."""

from __future__ import annotations

import os
from pathlib import Path

from _common import expect

FILES = 2000
FILE_SIZE = 10 * 1024
PREFIX = "static"
"""The key prefix of every asset, which tells asset PUTs from other requests."""
LAYOUT = (
    ("css", ".css", 15),
    ("css/vendor", ".css", 10),
    ("js", ".js", 20),
    ("js/lib", ".js", 15),
    ("img", ".png", 25),
    ("img/icons", ".png", 15),
)
"""The folders a real app has, with each one's share of the files in percent."""


def write_static_tree(static: Path, files: int = FILES) -> None:
    """``files`` files of incompressible bytes, spread over the folders in
    LAYOUT's proportions."""
    expect(files >= len(LAYOUT), f"at least {len(LAYOUT)} files, not {files}")
    counts = [files * share // 100 for *_, share in LAYOUT]
    counts[0] += files - sum(counts)
    for (folder, extension, _), count in zip(LAYOUT, counts, strict=True):
        (static / folder).mkdir(parents=True)
        for index in range(count):
            name = f"{folder.replace('/', '-')}-{index:04d}{extension}"
            (static / folder / name).write_bytes(os.urandom(FILE_SIZE))


SMALL_SIZES = (512, 1024, 2048, 4096)
"""Bytes of the files of a big static folder, in turn: icons, scripts and
stylesheets of a catalogue site are mostly this small."""
SMALL_EXTENSIONS = (".css", ".js", ".png", ".svg")
PER_FOLDER = 100


def write_small_files(static: Path, count: int) -> None:
    """``count`` small files of random bytes, 100 to a folder, ten folders to
    a parent: a static folder of a site with many assets."""
    for index in range(count):
        folder = static / f"p{index // 1000:03d}" / f"f{index // PER_FOLDER % 10}"
        if index % PER_FOLDER == 0:
            folder.mkdir(parents=True)
        extension = SMALL_EXTENSIONS[index % len(SMALL_EXTENSIONS)]
        size = SMALL_SIZES[index % len(SMALL_SIZES)]
        (folder / f"asset-{index:05d}{extension}").write_bytes(os.urandom(size))
