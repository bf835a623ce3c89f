"""The static folder every contender uploads: what a real app's looks like."""

from __future__ import annotations

import os
from pathlib import Path

from _common import expect

FILES = 200
FILE_SIZE = 10 * 1024
PREFIX = "static"
"""The key prefix of every asset, which tells asset PUTs from other requests."""


def write_static_tree(static: Path) -> None:
    """200 files of incompressible bytes in the folders a real app has."""
    layout = [
        ("css", ".css", 30),
        ("css/vendor", ".css", 20),
        ("js", ".js", 40),
        ("js/lib", ".js", 30),
        ("img", ".png", 50),
        ("img/icons", ".png", 30),
    ]
    expect(sum(count for *_, count in layout) == FILES, "the layout has 200 files")
    for folder, extension, count in layout:
        (static / folder).mkdir(parents=True)
        for index in range(count):
            name = f"{folder.replace('/', '-')}-{index:03d}{extension}"
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
