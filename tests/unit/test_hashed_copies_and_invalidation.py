from __future__ import annotations

import pytest

from flask_s3.core import UrlBuilder, resolve_settings
from flask_s3.core.hashed_copies import IMMUTABLE_CACHE_CONTROL, hashed_name
from flask_s3.core.invalidation import MAX_PATHS, invalidation_paths
from flask_s3.core.manifest import Manifest, ManifestEntry
from flask_s3.core.pruning import DeleteReason
from flask_s3.core.static_assets import Asset, StaticRoot
from flask_s3.core.upload_plan import Action, LocalFile, Reason, plan_uploads
from flask_s3.core.upload_spec import upload_spec
from tests.runs import settled_of

SHA = "0123456789abcdef0123456789abcdef01234567"
ROOT = StaticRoot("/srv/static", "/static")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("static/css/app.css", "static/css/app.0123456789ab.css"),
        ("static/js/app.min.js", "static/js/app.min.0123456789ab.js"),
        ("static/LICENSE", "static/LICENSE.0123456789ab"),
        ("static/v1.2/readme", "static/v1.2/readme.0123456789ab"),
        (
            "https://cdn.example.com/static/a%20b.css",
            "https://cdn.example.com/static/a%20b.0123456789ab.css",
        ),
    ],
)
def test_fingerprinted_names(path: str, expected: str) -> None:
    assert hashed_name(path, SHA) == expected


def local(relative: str, sha1: str = SHA) -> LocalFile:
    return LocalFile(Asset(f"static/{relative}", ROOT, relative), sha1, 10)


def test_filename_mode_plans_a_plain_key_and_an_immutable_copy() -> None:
    settings = resolve_settings({"S3_CACHE_BUSTING": "filename"})
    plan = plan_uploads(settings, [local("a.css")], Manifest(), acl="public-read")
    plain, copy = plan.items
    assert (plain.key, plain.source, plain.spec.cache_control) == (
        "static/a.css",
        None,
        None,
    )
    assert (copy.key, copy.source) == ("static/a.0123456789ab.css", "static/a.css")
    assert copy.spec.cache_control == IMMUTABLE_CACHE_CONTROL
    assert copy.spec.content_type == "text/css"


def test_explicit_cache_control_beats_the_immutable_default() -> None:
    settings = resolve_settings({"S3_HEADERS": {"cache-control": "no-cache"}})
    assert (
        upload_spec(settings, "a.css", acl=None, immutable=True).cache_control
        == "no-cache"
    )
    by_path = resolve_settings(
        {"S3_FILEPATH_HEADERS": {r"\.css$": {"Cache-Control": "max-age=5"}}}
    )
    assert (
        upload_spec(by_path, "a.css", acl=None, immutable=True).cache_control
        == "max-age=5"
    )


def test_an_existing_fingerprinted_copy_is_skipped_even_when_sending_everything() -> (
    None
):
    settings = resolve_settings(
        {"S3_CACHE_BUSTING": "filename", "S3_ONLY_MODIFIED": False}
    )
    copy_key = "static/a.0123456789ab.css"
    remote = Manifest(
        {copy_key: ManifestEntry(SHA, "old-spec", "static/a.css", 3)}, deploys=3
    )
    plan = plan_uploads(settings, [local("a.css")], remote, acl="public-read")
    plain, copy = plan.items
    assert (plain.action, plain.reason) == (Action.UPLOAD, Reason.NEW)
    assert (copy.action, copy.reason) == (Action.SKIP, Reason.HASHED_COPY_EXISTS)
    after = settled_of(plan, [plain.key])
    assert after.entries[copy_key] == ManifestEntry(SHA, "old-spec", "static/a.css", 4)


def test_the_deploy_number_advances_only_when_something_is_uploaded() -> None:
    settings = resolve_settings({"S3_ONLY_MODIFIED": True})
    first = plan_uploads(settings, [local("a.css")], Manifest(), acl=None)
    assert first.deploy == 1
    recorded = settled_of(first, [item.key for item in first.uploads])
    again = plan_uploads(settings, [local("a.css")], recorded, acl=None)
    assert (again.uploads, again.deploy) == ([], 1)
    assert settled_of(again, []) == recorded


def manifest_for_pruning() -> Manifest:
    return Manifest(
        {
            "static/a.css": ManifestEntry("1" * 40, "f", None, 3),
            "static/gone.css": ManifestEntry("2" * 40, "f", None, 2),
            "static/a.111111111111.css": ManifestEntry(
                "1" * 40, "f", "static/a.css", 3
            ),
            "static/a.222222222222.css": ManifestEntry(
                "2" * 40, "f", "static/a.css", 2
            ),
            "static/a.333333333333.css": ManifestEntry(
                "3" * 40, "f", "static/a.css", 1
            ),
            "static/.hidden": ManifestEntry("4" * 40, "f", None, 1),
        },
        deploys=3,
    )


@pytest.mark.parametrize(
    ("keep", "old_copies"),
    [
        (
            1,
            [
                "static/a.111111111111.css",
                "static/a.222222222222.css",
                "static/a.333333333333.css",
            ],
        ),
        (2, ["static/a.222222222222.css", "static/a.333333333333.css"]),
        (3, ["static/a.333333333333.css"]),
        (4, []),
    ],
)
def test_prune_keeps_recent_copies_and_local_files(
    keep: int, old_copies: list[str]
) -> None:
    settings = resolve_settings(
        {
            "S3_CACHE_BUSTING": "filename",
            "S3_PRUNE": True,
            "S3_PRUNE_KEEP": keep,
            "S3_ONLY_MODIFIED": True,
        }
    )
    files = [local("a.css", "5" * 40)]  # a new version: this run is deploy 4
    local_keys = frozenset({"static/a.css", "static/.hidden"})
    plan = plan_uploads(
        settings, files, manifest_for_pruning(), acl=None, local_keys=local_keys
    )
    assert plan.deploy == 4
    deletes = {delete.key: delete.reason for delete in plan.deletes}
    assert deletes == {
        "static/gone.css": DeleteReason.GONE,
        **dict.fromkeys(old_copies, DeleteReason.OLD_HASHED_COPY),
    }


def test_prune_is_off_by_default() -> None:
    settings = resolve_settings({})
    plan = plan_uploads(settings, [local("a.css")], manifest_for_pruning(), acl=None)
    assert plan.deletes == ()


def test_manifest_after_drops_what_is_deleted() -> None:
    settings = resolve_settings({"S3_PRUNE": True, "S3_ONLY_MODIFIED": True})
    plan = plan_uploads(settings, [], manifest_for_pruning(), acl=None)
    doomed = [delete.key for delete in plan.deletes]
    after = settled_of(plan, [], pruning=True)
    assert not set(doomed) & after.entries.keys()
    assert set(after.entries) | set(doomed) == set(manifest_for_pruning().entries)


def changed_plan(count: int, *, fingerprints: bool = False, prune_gone: bool = False):  # type: ignore[no-untyped-def]
    config = {"S3_ONLY_MODIFIED": True, "S3_PRUNE": prune_gone}
    if fingerprints:
        config["S3_CACHE_BUSTING"] = "filename"
    settings = resolve_settings(config)
    names = [f"css/f {number}+x.css" for number in range(count)]
    remote = Manifest(
        {
            f"static/{name}": ManifestEntry("9" * 40, None)
            for name in [*names, "gone.js"]
        }
    )
    return plan_uploads(settings, [local(name) for name in names], remote, acl=None)


def test_invalidation_covers_changed_plain_paths_quoted() -> None:
    plan = changed_plan(2, fingerprints=True)
    assert invalidation_paths(plan) == [
        "/static/css/f%200%2Bx.css",
        "/static/css/f%201%2Bx.css",
    ]
    assert invalidation_paths(plan, arrived=["static/css/f 1+x.css"]) == [
        "/static/css/f%201%2Bx.css"
    ]


def test_new_files_and_fingerprinted_copies_are_never_invalidated() -> None:
    settings = resolve_settings({"S3_CACHE_BUSTING": "filename"})
    plan = plan_uploads(settings, [local("new.css")], Manifest(), acl=None)
    assert invalidation_paths(plan) == []


def test_pruned_plain_keys_are_invalidated() -> None:
    plan = changed_plan(1, prune_gone=True)
    assert invalidation_paths(plan) == ["/static/css/f%200%2Bx.css", "/static/gone.js"]
    assert invalidation_paths(plan, deleted=[]) == ["/static/css/f%200%2Bx.css"]


def test_many_paths_collapse_to_one_wildcard() -> None:
    assert len(invalidation_paths(changed_plan(MAX_PATHS))) == MAX_PATHS
    assert invalidation_paths(changed_plan(MAX_PATHS + 1)) == ["/static/css/*"]


def test_invalidation_paths_are_behind_the_cdn_domains_path() -> None:
    settings = resolve_settings(
        {"S3_CDN_DOMAIN": "cdn.example.com/assets/", "S3_ONLY_MODIFIED": True}
    )
    names = [f"css/f {number}.css" for number in range(MAX_PATHS + 1)]
    remote = Manifest(
        {f"static/{name}": ManifestEntry("9" * 40, None) for name in names}
    )
    plan = plan_uploads(settings, [local(names[0])], remote, acl=None)
    assert invalidation_paths(plan) == ["/assets/static/css/f%200.css"]
    assert (
        UrlBuilder(settings)
        .url("/static", names[0])
        .endswith(invalidation_paths(plan)[0])
    )
    many = plan_uploads(settings, [local(name) for name in names], remote, acl=None)
    assert invalidation_paths(many) == ["/assets/static/css/*"]
