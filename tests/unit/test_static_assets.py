from __future__ import annotations

import pytest

from flask_s3.core import resolve_settings
from flask_s3.core.static_assets import (
    DuplicateKey,
    Listing,
    StaticRoot,
    discover_assets,
    is_hidden,
)

APP = StaticRoot("/srv/app/static", "/static")
ADMIN = StaticRoot("/srv/app/admin/static", "/admin/static", "admin.static")


def keys(listings: list[Listing], **options: object) -> list[str]:
    settings = resolve_settings({"S3_PREFIX": options.pop("prefix", "")})
    return [asset.key for asset in discover_assets(settings, listings, **options)]  # type: ignore[arg-type]


def test_keys_follow_the_url_path_and_prefix() -> None:
    listings = [Listing(APP, ("css/a.css", "b.js")), Listing(ADMIN, ("x.png",))]
    assert keys(listings) == ["static/css/a.css", "static/b.js", "admin/static/x.png"]
    assert keys(listings, prefix="/Rel/1/") == [
        "Rel/1/static/css/a.css",
        "Rel/1/static/b.js",
        "Rel/1/admin/static/x.png",
    ]


def test_local_path_joins_folder_and_relative_path() -> None:
    settings = resolve_settings({})
    [asset] = discover_assets(settings, [Listing(APP, ("css/a.css",))])
    assert asset.local_path == "/srv/app/static/css/a.css"


@pytest.mark.parametrize(
    ("path", "hidden"),
    [
        (".env", True),
        (".git/config", True),
        ("css/.cache/x.css", True),
        ("a/b/.DS_Store", True),
        ("css/app.css", False),
        ("a.b/c.d", False),
    ],
)
def test_hidden_paths(path: str, hidden: bool) -> None:
    assert is_hidden(path) is hidden


def test_hidden_files_are_skipped_unless_asked_for() -> None:
    listing = [Listing(APP, (".env", ".git/HEAD", "css/.x/a.css", "css/a.css"))]
    assert keys(listing) == ["static/css/a.css"]
    assert keys(listing, include_hidden=True) == [
        "static/.env",
        "static/.git/HEAD",
        "static/css/.x/a.css",
        "static/css/a.css",
    ]


def test_filter_regex_searches_the_relative_path() -> None:
    listing = [Listing(APP, ("css/a.css", "js/css.js", "img/a.png"))]
    assert keys(listing, filepath_filter_regex=r"^css") == ["static/css/a.css"]
    assert keys(listing, filepath_filter_regex=r"css") == [
        "static/css/a.css",
        "static/js/css.js",
    ]
    assert keys(listing, filepath_filter_regex=r"^static") == []


def test_bad_filter_regex_is_named() -> None:
    with pytest.raises(ValueError, match=r"filepath_filter_regex '\(' is not"):
        keys([Listing(APP, ("a.css",))], filepath_filter_regex="(")


def test_two_roots_writing_one_key_is_an_error_naming_both_files() -> None:
    other = StaticRoot("/srv/other/static", "/static", "other.static")
    with pytest.raises(DuplicateKey) as raised:
        keys([Listing(APP, ("a.css",)), Listing(other, ("a.css",))])
    message = str(raised.value)
    assert "/srv/app/static/a.css" in message
    assert "/srv/other/static/a.css" in message
    assert "'static/a.css'" in message
