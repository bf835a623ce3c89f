"""A catalogue site for bench/url_for.py: more static files than any cache of
Flask-S3 before issue 15 held, each linked once per pass.

A page of a shop links a few dozen of its images, but over many pages every
image is linked, so the figure that matters is the cost of a call when the
names keep changing; a loop over all of them shows it, and shows a cache too
small for the site as re-hashing from disk.

Each timed run follows an untimed pass, as on a site that links every file at
least once a second: cache busting looks at a file again at most once a
second, and the timing harness leaves more than that between two runs of a
case, so without it every run would begin with a ``stat`` of every file. A
file linked less often pays that ``stat`` on each call; the README says so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

FILES = 10_000
MODES = ("off", "query", "filename")
"""Every S3_CACHE_BUSTING mode: each takes another path through url_for."""


def catalogue_names() -> list[str]:
    return [
        f"img/{number % 100:02d}/product-{number:05d}.png" for number in range(FILES)
    ]


def write_catalogue(static: Path) -> None:
    """Small distinct files, so that a hash from disk costs what it costs for
    an icon, not for a photo: the cheapest case for a cache that misses."""
    for name in catalogue_names():
        path = static / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(name.encode())


def link_every_file(func: Callable[..., str], names: list[str]) -> str:
    """One pass over the catalogue; the last URL, for the checks."""
    url = ""
    for name in names:
        url = func("static", filename=name)
    return url


@contextmanager
def after_a_pass(
    context: Callable[[], AbstractContextManager[object]], link: Callable[[], str]
) -> Iterator[None]:
    """``context`` entered, and every file linked once, before a timed run."""
    with context():
        link()
        yield
