"""The first run on a bucket Flask-S3 0.3.3 managed repairs headers in place.

0.3.3 stored most objects as ``binary/octet-stream`` and recorded only their
SHA-1 in ``.file-hashes``. With S3_ONLY_MODIFIED, an object whose bytes are
still right is copied onto itself with the right headers (a CopyObject), and
its body never travels again; one that 0.3.x stored gzipped has to be sent
again. Checked on the requests sent, against moto in-process and over HTTP.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable
from urllib.parse import unquote

from flask_s3 import create_all
from tests.integration.moto_site import (
    BUCKET,
    CONTENT_TYPES,
    PUBLIC_READ,
    VISIBLE_KEYS,
    SentRequest,
    Site,
    Store,
    Wire,
    body_of,
    grants,
    manifest_of,
    plan_actions,
    plan_of,
    sha1,
    stored,
)

UNKNOWN = ("fix headers", "headers unknown (uploaded by Flask-S3 0.3.x)")
CACHE_CONTROL = "public, max-age=600"
GZIPPED = "static/css/a.css"


def uploaded_by_0_3(store: Store, site: Site, *, gzipped: Iterable[str] = ()) -> None:
    """The bucket as 0.3.3 left it: each visible file under its key, typed
    ``binary/octet-stream`` (some gzipped, with ``Content-Encoding: gzip``),
    and ``.file-hashes`` with the SHA-1 of each local file."""
    store.client.create_bucket(Bucket=BUCKET)
    for key in VISIBLE_KEYS:
        body, encoding = site.body(key), {}
        if key in gzipped:
            body, encoding = gzip.compress(body), {"ContentEncoding": "gzip"}
        store.client.put_object(
            Bucket=BUCKET,
            Key=key,
            Body=body,
            ContentType="binary/octet-stream",
            **encoding,  # type: ignore[arg-type]
        )
    hashes = {f"/{key}": sha1(site.body(key)) for key in VISIBLE_KEYS}
    store.client.put_object(
        Bucket=BUCKET, Key=".file-hashes", Body=json.dumps(hashes).encode()
    )


def migrating(store: Store, site: Site) -> Site:
    site.app.config.update(
        S3_ONLY_MODIFIED=True, S3_HEADERS={"Cache-Control": CACHE_CONTROL}
    )
    store.serve(site.app)
    return site


def copies(requests: list[SentRequest]) -> list[SentRequest]:
    return [request for request in requests if "x-amz-copy-source" in request.headers]


def test_0_3_objects_get_their_headers_by_a_copy_not_a_new_body(
    store: Store, site: Site, wire: Wire
) -> None:
    migrating(store, site)
    uploaded_by_0_3(store, site)

    doc = plan_of(site.app)
    assert doc["manifest"] == "flask-s3 0.3.x"
    assert plan_actions(doc) == dict.fromkeys(VISIBLE_KEYS, UNKNOWN)
    assert doc["totals"]["fix headers"]["count"] == len(VISIBLE_KEYS)
    for asset in doc["assets"]:
        assert asset["content_type"] == CONTENT_TYPES[asset["key"]]
    wire.requests.clear()

    result = create_all(site.app)

    assert sorted(result.fixed) == VISIBLE_KEYS
    assert (result.uploaded, result.skipped, result.failed) == ((), (), ())
    assert result.bytes_uploaded == 0
    for key in VISIBLE_KEYS:
        [put] = wire.to(key)  # one PUT per object: the copy, and no PutObject
        assert put.headers["x-amz-metadata-directive"] == "REPLACE", key
        assert unquote(put.headers["x-amz-copy-source"]).lstrip("/") == (
            f"{BUCKET}/{key}"
        )
        assert put.body_size == 0, key
        head = store.client.head_object(Bucket=BUCKET, Key=key)
        assert head["ContentType"] == CONTENT_TYPES[key], key
        assert head["CacheControl"] == CACHE_CONTROL, key
        assert "ContentEncoding" not in head, key
        assert body_of(store.client, key) == site.body(key), key
        acl = store.client.get_object_acl(Bucket=BUCKET, Key=key)
        assert grants(acl) == PUBLIC_READ, key
    entries = manifest_of(store.client)["entries"]
    assert sorted(entries) == VISIBLE_KEYS
    for key, entry in entries.items():
        assert entry["spec_digest"] is not None, key
        assert entry["sha1"] == sha1(site.body(key)), key
        assert {"size": entry["size"], "etag": entry["etag"]} == stored(
            store.client, key
        ), key

    again = plan_of(site.app)
    assert again["manifest"] == "flask-s3"
    assert plan_actions(again) == dict.fromkeys(VISIBLE_KEYS, ("skip", "unchanged"))
    wire.requests.clear()
    rerun = create_all(site.app)
    assert sorted(rerun.skipped) == VISIBLE_KEYS
    assert rerun.fixed == rerun.uploaded == ()
    assert [r for r in wire.requests if r.method == "PUT"] == []


def test_an_object_0_3_stored_gzipped_is_sent_again(
    store: Store, site: Site, wire: Wire
) -> None:
    """A copy cannot change a body: with S3_GZIP off, the gzipped object is
    replaced by the plain bytes, and only it is."""
    migrating(store, site)
    uploaded_by_0_3(store, site, gzipped=[GZIPPED])
    assert plan_actions(plan_of(site.app))[GZIPPED] == UNKNOWN
    wire.requests.clear()

    result = create_all(site.app)

    [put] = wire.to(GZIPPED)
    assert "x-amz-copy-source" not in put.headers
    assert put.body_size == len(site.body(GZIPPED))
    head = store.client.head_object(Bucket=BUCKET, Key=GZIPPED)
    assert "ContentEncoding" not in head
    assert head["ContentType"] == "text/css"
    assert body_of(store.client, GZIPPED) == site.body(GZIPPED)
    assert sorted(request.url for request in copies(wire.requests)) == sorted(
        request.url
        for key in VISIBLE_KEYS
        if key != GZIPPED
        for request in wire.to(key)
    )
    # The report says the body travelled.
    assert GZIPPED in result.uploaded
    assert GZIPPED not in result.fixed
    assert result.bytes_uploaded == len(site.body(GZIPPED))
    entry = manifest_of(store.client)["entries"][GZIPPED]
    assert {"size": entry["size"], "etag": entry["etag"]} == stored(
        store.client, GZIPPED
    )
    assert plan_actions(plan_of(site.app))[GZIPPED] == ("skip", "unchanged")


def test_an_object_0_3_recorded_but_that_is_gone_is_uploaded(
    store: Store, site: Site, wire: Wire
) -> None:
    """.file-hashes may name an object deleted since: there is nothing to
    copy, so the local file is sent; --verify already plans it so."""
    migrating(store, site)
    uploaded_by_0_3(store, site)
    store.client.delete_object(Bucket=BUCKET, Key=GZIPPED)
    assert plan_actions(plan_of(site.app))[GZIPPED] == UNKNOWN
    assert plan_actions(plan_of(site.app, "--verify"))[GZIPPED] == (
        "upload",
        "missing in bucket",
    )
    wire.requests.clear()

    result = create_all(site.app)

    assert result.uploaded == (GZIPPED,)
    assert sorted(result.fixed) == [key for key in VISIBLE_KEYS if key != GZIPPED]
    assert result.bytes_uploaded == len(site.body(GZIPPED))
    [put] = wire.to(GZIPPED)
    assert "x-amz-copy-source" not in put.headers
    assert body_of(store.client, GZIPPED) == site.body(GZIPPED)
    head = store.client.head_object(Bucket=BUCKET, Key=GZIPPED)
    assert head["ContentType"] == "text/css"
    assert plan_actions(plan_of(site.app, "--verify")) == dict.fromkeys(
        VISIBLE_KEYS, ("skip", "unchanged")
    )
