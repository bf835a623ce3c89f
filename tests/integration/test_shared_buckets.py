"""A run reads, records and prunes only its own keys: those under its
S3_PREFIX and the URL paths its static folders are served at.

Two apps share one bucket (one prefix and one manifest, or a prefix each),
and a new app moves into a bucket that Flask-S3 0.3.x still manages. Every run
prunes, so a run that took another app's keys for its own would delete them.
Each case runs against moto in-process and over real HTTP.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from flask import Flask

from flask_s3 import create_all
from tests.integration.moto_site import (
    BUCKET,
    MANIFEST,
    VISIBLE_KEYS,
    Site,
    Store,
    body_of,
    build_site,
    keys_in,
    manifest_of,
    plan_actions,
    plan_of,
    sha1,
)

if TYPE_CHECKING:
    from types_boto3_s3.client import S3Client

BLOG_FILES = {
    "css/blog.css": b"article { max-width: 40em; }\n",
    "js/blog.js": b"console.log('blog');\n",
    "img/header.svg": b'<svg xmlns="http://www.w3.org/2000/svg" id="blog"/>\n',
}
BLOG_KEYS = sorted(f"blog-static/{relative}" for relative in BLOG_FILES)
SHOP_GONE = "static/js/app.js"
BLOG_GONE = "blog-static/js/blog.js"


def build_blog(root: Path, **config: Any) -> Site:
    """A second app whose static folder Flask serves at /blog-static."""
    blog = Site(
        Flask("blog", root_path=str(root), static_url_path="/blog-static"), root
    )
    for relative, data in BLOG_FILES.items():
        path = root / "static" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        blog.local_by_key[f"blog-static/{relative}"] = path
    blog.app.config.update({"S3_BUCKET_NAME": BUCKET, **config})
    return blog


def under(prefix: str, keys: list[str]) -> list[str]:
    return [f"{prefix}/{key}" if prefix else key for key in keys]


def objects_of(store: Store, keys: list[str]) -> dict[str, bytes]:
    return {key: body_of(store.client, key) for key in keys}


# Two apps, one bucket


@pytest.mark.parametrize(
    ("shop_prefix", "blog_prefix"),
    [
        pytest.param("", "", id="no-prefix"),
        pytest.param("assets", "assets", id="one-prefix"),
        pytest.param("shop", "blog", id="two-prefixes"),
    ],
)
def test_two_apps_in_one_bucket_prune_only_their_own_files(
    store: Store, tmp_path: Path, shop_prefix: str, blog_prefix: str
) -> None:
    pruning = {"S3_PRUNE": True, "S3_ONLY_MODIFIED": True}
    shop = build_site(tmp_path / "shop", S3_PREFIX=shop_prefix, **pruning)
    blog = build_blog(tmp_path / "blog", S3_PREFIX=blog_prefix, **pruning)
    store.serve(shop.app)
    store.serve(blog.app)
    shop_keys = under(shop_prefix, VISIBLE_KEYS)
    blog_keys = under(blog_prefix, BLOG_KEYS)
    shop_manifest = under(shop_prefix, [MANIFEST])[0]
    blog_manifest = under(blog_prefix, [MANIFEST])[0]
    manifests = sorted({shop_manifest, blog_manifest})

    assert sorted(create_all(shop.app).uploaded) == shop_keys
    # The blog's first run sees the shop's record (in a shared manifest) and
    # neither plans against it nor prunes it.
    assert plan_actions(plan_of(blog.app)) == dict.fromkeys(
        blog_keys, ("upload", "new")
    )
    assert plan_of(blog.app)["deletes"] == []
    first = create_all(blog.app)
    assert sorted(first.uploaded) == blog_keys
    assert first.deleted == ()
    assert keys_in(store.client) == sorted([*shop_keys, *blog_keys, *manifests])
    assert sorted(manifest_of(store.client, shop_manifest)["entries"]) == sorted(
        shop_keys + (blog_keys if shop_manifest == blog_manifest else [])
    )
    shop_objects = objects_of(store, shop_keys)
    shop_entries = manifest_of(store.client, shop_manifest)["entries"]
    shop_record = {key: shop_entries[key] for key in shop_keys}

    # The blog drops a file: only that object goes.
    blog.path(BLOG_GONE).unlink()
    gone = under(blog_prefix, [BLOG_GONE])[0]
    assert plan_of(blog.app)["deletes"] == [
        {"key": gone, "reason": "no longer exists locally"}
    ]
    pruned = create_all(blog.app)
    assert pruned.deleted == (gone,)
    assert pruned.uploaded == ()
    assert keys_in(store.client) == sorted(
        [*shop_keys, *(set(blog_keys) - {gone}), *manifests]
    )
    assert objects_of(store, shop_keys) == shop_objects
    shop_entries = manifest_of(store.client, shop_manifest)["entries"]
    assert {key: shop_entries[key] for key in shop_keys} == shop_record
    assert gone not in manifest_of(store.client, blog_manifest)["entries"]

    # The shop drops a file: the blog's objects and entries stay.
    blog_objects = objects_of(store, sorted(set(blog_keys) - {gone}))
    blog_record = manifest_of(store.client, blog_manifest)["entries"]
    blog_record = {key: blog_record[key] for key in blog_objects}
    shop.path(SHOP_GONE).unlink()
    shop_gone = under(shop_prefix, [SHOP_GONE])[0]
    assert create_all(shop.app).deleted == (shop_gone,)
    assert objects_of(store, list(blog_objects)) == blog_objects
    blog_entries = manifest_of(store.client, blog_manifest)["entries"]
    assert {key: blog_entries[key] for key in blog_objects} == blog_record
    assert shop_gone not in keys_in(store.client)

    # Each app's record is still whole: a rerun of either sends nothing.
    for app, kept in (
        (shop.app, set(shop_keys) - {shop_gone}),
        (blog.app, blog_objects),
    ):
        rerun = create_all(app)
        assert (rerun.uploaded, rerun.deleted) == ((), ())
        assert sorted(rerun.skipped) == sorted(kept)


def test_hashed_copies_of_one_app_outlive_the_other_apps_deploys(
    s3: S3Client, tmp_path: Path
) -> None:
    """S3_PRUNE_KEEP counts an app's own deploys: a blog that deploys twice
    in a shared manifest does not age the shop's hashed copies, so pages the
    shop served one deploy ago keep their CSS."""
    config = {
        "S3_PRUNE": True,
        "S3_ONLY_MODIFIED": True,
        "S3_CACHE_BUSTING": "filename",
        "S3_PRUNE_KEEP": 2,
    }
    shop = build_site(tmp_path / "shop", **config)
    blog = build_blog(tmp_path / "blog", **config)
    css = "static/css/a.css"
    create_all(shop.app)  # shop deploy 1
    previous = next(
        key
        for key, entry in manifest_of(s3)["entries"].items()
        if entry["source"] == css
    )
    shop.write(css, b"/* shop deploy 2 */\n")
    assert create_all(shop.app).deleted == ()  # shop deploy 2 keeps deploy 1's copy
    for version in (b"/* blog 1 */", b"/* blog 2 */"):
        blog.write("blog-static/css/blog.css", version)
        create_all(blog.app)

    idle = create_all(shop.app)  # nothing changed in the shop

    assert idle.uploaded == ()
    assert idle.deleted == ()
    assert previous in keys_in(s3)


# A bucket that Flask-S3 0.3.x still manages


LEGACY_KEYS = ["static/app.js", "static/css/site.css"]


def legacy_bucket(store: Store) -> dict[str, bytes]:
    """What 0.3.x keeps in the bucket: its objects under static/ and its
    .file-hashes at the bucket root."""
    objects = {key: f"/* {key}, by 0.3.x */\n".encode() for key in LEGACY_KEYS}
    store.client.create_bucket(Bucket=BUCKET)
    for key, data in objects.items():
        store.client.put_object(Bucket=BUCKET, Key=key, Body=data)
    hashes = {f"/{key}": sha1(data) for key, data in objects.items()}
    store.client.put_object(
        Bucket=BUCKET, Key=".file-hashes", Body=json.dumps(hashes).encode()
    )
    return objects


def test_a_new_app_under_a_prefix_leaves_a_0_3_bucket_alone(
    store: Store, site: Site
) -> None:
    site.app.config.update(S3_PREFIX="newapp", S3_PRUNE=True, S3_ONLY_MODIFIED=True)
    store.serve(site.app)
    legacy = legacy_bucket(store)
    ours = under("newapp", VISIBLE_KEYS)

    doc = plan_of(site.app)
    assert plan_actions(doc) == dict.fromkeys(ours, ("upload", "new"))
    # The plan names the record it read, .file-hashes, but none of its keys
    # is this app's: nothing is adopted, and nothing of it is pruned.
    assert doc["manifest"] == "flask-s3 0.3.x"
    assert doc["deletes"] == []

    result = create_all(site.app)

    assert sorted(result.uploaded) == sorted(ours)
    assert result.deleted == ()
    assert result.fixed == ()
    assert objects_of(store, LEGACY_KEYS) == legacy
    assert keys_in(store.client) == sorted(
        [*LEGACY_KEYS, ".file-hashes", *ours, f"newapp/{MANIFEST}"]
    )
    assert sorted(manifest_of(store.client, f"newapp/{MANIFEST}")["entries"]) == ours
    assert MANIFEST not in keys_in(store.client)
    again = plan_of(site.app)
    assert doc["manifest"] != again["manifest"] == "flask-s3"
    assert set(plan_actions(again).values()) == {("skip", "unchanged")}
