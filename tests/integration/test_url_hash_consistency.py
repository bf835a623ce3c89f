"""url_for under files rewritten in place while they are hashed.

A read that spans a rewrite (truncate, then write, as ``Path.write_bytes``,
``cp`` and many editors do) would hash a mix of two versions, and with
S3_CACHE_BUSTING='filename' pages would link a key that exists nowhere.
FileHashes re-stats after hashing and hashes again when the file moved; a file
that will not hold still gets its plain URL, which names a real object.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest

import flask_s3
import flask_s3.adapters.file_hashes as file_hashes
from flask_s3 import FlaskS3
from flask_s3.adapters.file_hashes import FileHashes
from flask_s3.flask.state import state_of
from tests.integration.moto_site import Site, sha1
from tests.integration.test_concurrency import (
    CALLS,
    HOST,
    THREADS,
    A,
    B,
    classify,
    hammer,
)


def plain(key: str, url: str) -> bool:
    """The unversioned URL, given while the file would not hold still."""
    return url.split("#")[0] == f"{HOST}/{key}"


def rewrite_in_place(path: Path, data: bytes) -> None:
    """Truncate, then write: readers may see the file empty or half written."""
    path.write_bytes(data)


def states_the_file_passed_through() -> list[bytes]:
    """Rewritten in place, the file holds A or B, or a prefix of the one being
    written (empty just after the truncation): a URL for any of those is of a
    real state. A mix of A and B is not."""
    return [version[:size] for version in (A, B) for size in range(len(version) + 1)]


@pytest.mark.parametrize("mode", ["query", "filename"])
def test_url_for_under_in_place_rewrites_gives_only_states_the_file_held(
    site: Site, mode: str
) -> None:
    """Natural race: fails in some runs, more often with more rewrites."""
    site.app.config["S3_CACHE_BUSTING"] = mode
    FlaskS3(site.app)
    state_of(site.app).file_hashes = FileHashes(recheck_seconds=0.0)
    for _ in range(5):
        seen, errors, _, _ = hammer(site, rewrite_in_place, seconds=0.25)
        assert errors == []
        assert sum(seen.values()) >= THREADS * CALLS
        versioned = Counter(
            {
                (key, url): count
                for (key, url), count in seen.items()
                if not plain(key, url)
            }
        )
        classify(mode, versioned, states_the_file_passed_through())


def test_a_hash_whose_read_spanned_a_rewrite_is_not_served(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deterministic: the file is rewritten in place half-way through the
    first read, as a concurrent writer does."""
    path = site.path("static/js/app.js")
    path.write_bytes(A)
    torn = []

    def read_across_a_rewrite(descriptor: int, size: int) -> bytes:
        # read_whole in two reads, each ending at the size as opened.
        head = os.pread(descriptor, min(size, 1000), 0)
        if not torn:
            path.write_bytes(B)  # the writer, between two reads
        rest = os.pread(descriptor, size - len(head), len(head))
        torn.append(head + rest)
        return head + rest

    monkeypatch.setattr(file_hashes, "read_whole", read_across_a_rewrite)
    site.app.config["S3_CACHE_BUSTING"] = "query"
    FlaskS3(site.app)
    with site.app.test_request_context():
        url = flask_s3.url_for("static", filename="js/app.js")
    # What was read: neither A nor B, and no further than A's size when opened.
    assert torn[0] == A[:1000] + B[1000 : len(A)]
    assert url in {
        f"{HOST}/static/js/app.js?v={sha1(A)[:12]}",
        f"{HOST}/static/js/app.js?v={sha1(B)[:12]}",
    }
