"""Each manifest entry records the object as the bucket stored it: its
ContentLength and unquoted ETag, as HEAD answers them. That is what --verify
compares a listing with, so a gzipped object records its gzipped size and a
multipart one its multipart ETag. Against moto in-process and over HTTP.
"""

from __future__ import annotations

import gzip
import random

import pytest

import flask_s3.adapters.objects as objects_adapter
from flask_s3 import create_all
from tests.integration.moto_site import (
    VISIBLE_KEYS,
    Site,
    Store,
    body_of,
    manifest_of,
    plan_actions,
    plan_of,
    stored,
)

PART = 5 * 1024 * 1024
BIG = random.Random(0).randbytes(11 * 1024 * 1024)
"""Incompressible: gzipped, it is still three parts."""


def recorded(store: Store, key: str) -> dict[str, object]:
    entry = manifest_of(store.client)["entries"][key]
    return {"size": entry["size"], "etag": entry["etag"]}


def test_every_entry_records_size_and_etag_as_stored(store: Store, site: Site) -> None:
    site.app.config.update(S3_GZIP=True, S3_GZIP_ONLY_EXTS=[".css"])
    store.serve(site.app)
    create_all(site.app)

    for key in VISIBLE_KEYS:
        assert recorded(store, key) == stored(store.client, key), key
    css = "static/css/a.css"
    gzipped = body_of(store.client, css)
    assert gzip.decompress(gzipped) == site.body(css)
    assert recorded(store, css)["size"] == len(gzipped) != len(site.body(css))
    site.app.config["S3_ONLY_MODIFIED"] = True
    assert set(plan_actions(plan_of(site.app, "--verify")).values()) == {
        ("skip", "unchanged")
    }


@pytest.mark.parametrize("gzipped", [False, True], ids=["plain", "gzip"])
def test_a_multipart_object_records_its_multipart_etag(
    store: Store, site: Site, monkeypatch: pytest.MonkeyPatch, gzipped: bool
) -> None:
    monkeypatch.setattr(objects_adapter, "MULTIPART_THRESHOLD", PART)
    site.app.config.update(S3_GZIP=gzipped, S3_ONLY_MODIFIED=True)
    store.serve(site.app)
    key = site.add("static", "video/big.bin", BIG)

    create_all(site.app, filepath_filter_regex=r"^video/")

    answer = stored(store.client, key)
    assert str(answer["etag"]).endswith("-3")
    assert recorded(store, key) == answer
    body = body_of(store.client, key)
    assert answer["size"] == len(body)
    assert (gzip.decompress(body) if gzipped else body) == BIG
    doc = plan_of(site.app, "--verify", "--filter", r"^video/")
    assert plan_actions(doc) == {key: ("skip", "unchanged")}
