from __future__ import annotations

from urllib.parse import unquote, urlsplit

import pytest

from flask_s3.core import SettingsError, UnsafeFilename, UrlBuilder, resolve_settings
from flask_s3.core.urls import object_key, query_string, site_root
from flask_s3.errors import FlaskS3Error, InvalidUrlArgument

BUCKET_ROOT = "https://assets.s3.amazonaws.com"


def builder(**config: object) -> UrlBuilder:
    return UrlBuilder(resolve_settings({"S3_BUCKET_NAME": "assets", **config}))


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({}, "https://assets.s3.amazonaws.com/static/css/a.css"),
        ({"S3_URL_STYLE": "path"}, "https://s3.amazonaws.com/assets/static/css/a.css"),
        ({"S3_USE_HTTPS": False}, "http://assets.s3.amazonaws.com/static/css/a.css"),
        (
            {"S3_REGION": "eu-west-1"},
            "https://assets.s3.eu-west-1.amazonaws.com/static/css/a.css",
        ),
        (
            {"S3_REGION": "eu-west-1", "S3_BUCKET_DOMAIN": "s3.example.org"},
            "https://assets.s3.example.org/static/css/a.css",
        ),
        (
            {"S3_BUCKET_DOMAIN": "127.0.0.1:9000", "S3_URL_STYLE": "path"},
            "https://127.0.0.1:9000/assets/static/css/a.css",
        ),
        (
            {"S3_CDN_DOMAIN": "cdn.example.com"},
            "https://cdn.example.com/static/css/a.css",
        ),
        (
            {"S3_CDN_DOMAIN": "cdn.example.com", "S3_URL_STYLE": "path"},
            "https://cdn.example.com/static/css/a.css",
        ),
        (
            {"S3_CDN_DOMAIN": "example.com/assets/"},
            "https://example.com/assets/static/css/a.css",
        ),
        (
            {"S3_PREFIX": "/Release-42/"},
            "https://assets.s3.amazonaws.com/Release-42/static/css/a.css",
        ),
        (
            {"S3_PREFIX": "a/B", "S3_CDN_DOMAIN": "cdn.example.com"},
            "https://cdn.example.com/a/B/static/css/a.css",
        ),
    ],
)
def test_url_shapes(config: dict[str, object], expected: str) -> None:
    assert builder(**config).url("/static", "css/a.css") == expected


def test_per_call_scheme_overrides_setting() -> None:
    urls = builder(S3_USE_HTTPS=False)
    assert urls.url("/static", "a.css", scheme="https") == (
        "https://assets.s3.amazonaws.com/static/a.css"
    )
    assert urls.url("/static", "a.css") == "http://assets.s3.amazonaws.com/static/a.css"


def test_static_url_path_at_root_gives_keys_without_a_folder() -> None:
    assert (
        builder().url("", "robots.txt") == "https://assets.s3.amazonaws.com/robots.txt"
    )
    assert object_key(resolve_settings({"S3_PREFIX": "p"}), "/", "x") == "p/x"


@pytest.mark.parametrize(
    "filename",
    [
        "a b.css",
        "a+b.css",
        "a#b.css",
        "a?b.css",
        "100%.css",
        "café/naïve ☕.js",
        "~x.js",
    ],
)
def test_filenames_round_trip_to_their_key(filename: str) -> None:
    url = builder(S3_PREFIX="p").url("/static", filename)
    path = urlsplit(url).path
    assert "+" not in path  # a raw '+' means a space to S3
    assert unquote(path) == f"/p/static/{filename}"


def test_quoting_exact_form() -> None:
    assert builder().url("/static", "a b+c#?%é.css") == (
        "https://assets.s3.amazonaws.com/static/a%20b%2Bc%23%3F%25%C3%A9.css"
    )


@pytest.mark.parametrize(
    "filename", ["../secret.txt", "a/../../b", "..", "/..", "/../a.css", "a//../b"]
)
def test_unsafe_filenames_are_refused(filename: str) -> None:
    with pytest.raises(UnsafeFilename, match="climbs out"):
        builder().url("/static", filename)


@pytest.mark.parametrize(
    ("filename", "key"),
    [
        ("a//b.css", "a/b.css"),
        ("a/./b.css", "a/b.css"),
        ("./x.css", "x.css"),
        ("/css/a.css", "css/a.css"),
        ("css/../css/a.css", "css/a.css"),
        ("//etc/passwd", "etc/passwd"),
    ],
)
def test_empty_and_dot_segments_go_as_flask_serves_them(
    filename: str, key: str
) -> None:
    assert builder().url("/static", filename) == f"{BUCKET_ROOT}/static/{key}"


def test_dots_inside_names_are_fine() -> None:
    assert builder().url("/static", "a..b/..c.css").endswith("/static/a..b/..c.css")


def test_query_values_render_like_flask() -> None:
    url = builder().url(
        "/static", "a.css", values={"q": "x y", "n": [1, 2], "skip": None, "p": "a/b:c"}
    )
    assert url == "https://assets.s3.amazonaws.com/static/a.css?q=x+y&n=1&n=2&p=a/b:c"


def test_anchor_and_content_hash() -> None:
    url = builder(S3_CACHE_BUSTING="query").url(
        "/static",
        "a.css",
        values={"q": 1},
        anchor="top two",
        digest="0123456789abcdef",
    )
    assert (
        url
        == "https://assets.s3.amazonaws.com/static/a.css?q=1&v=0123456789ab#top%20two"
    )


def test_query_string_alone() -> None:
    assert query_string({}) == ""
    assert query_string({}, "f" * 40) == "v=" + "f" * 12


def test_missing_bucket_is_named_when_a_url_is_built() -> None:
    with pytest.raises(SettingsError) as raised:
        UrlBuilder(resolve_settings({})).url("/static", "a.css")
    assert raised.value.key == "S3_BUCKET_NAME"


def test_cdn_needs_no_bucket() -> None:
    settings = resolve_settings({"S3_CDN_DOMAIN": "cdn.example.com"})
    assert site_root(settings, "https") == "https://cdn.example.com"


def test_readme_examples() -> None:
    settings = resolve_settings(
        {"S3_BUCKET_NAME": "shop-assets", "S3_REGION": "eu-west-1"}
    )
    urls = UrlBuilder(settings)
    assert urls.url("/static", "css/shop.css") == (
        "https://shop-assets.s3.eu-west-1.amazonaws.com/static/css/shop.css"
    )
    assert urls.url("/catalog/static", "img/tea pot.png", anchor="top") == (
        "https://shop-assets.s3.eu-west-1.amazonaws.com/catalog/static/img/tea%20pot.png#top"
    )


def test_url_caches_are_bounded_by_the_setting() -> None:
    urls = UrlBuilder(
        resolve_settings({"S3_BUCKET_NAME": "bkt", "S3_URL_CACHE_SIZE": 16})
    )
    for number in range(1000):
        urls.url("/static", f"user-input-{number}.css")
        urls.url("/static", f"user-input-{number}.css", values={"v": number})
    assert urls.plain_url.cache_info().currsize == 16
    assert urls.quoted_key.cache_info().currsize == 16
    assert urls._query.cache_info().currsize == 16


@pytest.mark.parametrize(
    "scheme",
    ["https://evil.example/x.js?", "javascript", "data", "ftp", "HTTPS", "ws", ""],
)
def test_a_scheme_other_than_http_or_https_is_refused_naming_it(scheme: str) -> None:
    """A pasted scheme would choose the URL's host (issue 14), and every
    distinct one would stay in the builder's cache."""
    urls = builder()
    with pytest.raises(InvalidUrlArgument) as raised:
        urls.url("/static", "app.js", scheme=scheme)
    assert repr(scheme) in str(raised.value)
    assert isinstance(raised.value, FlaskS3Error)
    assert set(urls._roots) <= {"http", "https"}


def test_set_values_render_like_flask() -> None:
    assert builder().url("/static", "a.css", values={"x": {"1"}}).endswith("?x=1")


def test_equal_values_of_other_types_are_not_served_from_one_cache_entry() -> None:
    urls = builder()
    assert urls.url("/static", "a.css", values={"x": True}).endswith("?x=True")
    assert urls.url("/static", "a.css", values={"x": 1}).endswith("?x=1")
    assert urls.url("/static", "a.css", values={"x": 1.0}).endswith("?x=1.0")


@pytest.mark.parametrize("filename", ["a\x00.css", "a\ud800.css"])
def test_a_name_no_file_can_have_is_refused_naming_it(filename: str) -> None:
    with pytest.raises(UnsafeFilename) as raised:
        builder().url("/static", filename)
    assert repr(filename) in str(raised.value)


@pytest.mark.parametrize(
    ("values", "anchor", "culprit"),
    [
        ({"q\ud800": "x"}, None, "q\ud800"),
        ({"q": "\udc80"}, None, "q"),
        ({}, "\ud800", "\ud800"),
    ],
)
def test_text_that_is_not_utf8_is_the_packages_error(
    values: dict[str, str], anchor: str | None, culprit: str
) -> None:
    with pytest.raises(InvalidUrlArgument) as raised:
        builder().url("/static", "a.css", values=values, anchor=anchor)
    assert repr(culprit) in str(raised.value)


def test_an_anchor_that_is_not_text_is_its_str() -> None:
    assert builder().url("/static", "a.css", anchor=3).endswith("#3")  # type: ignore[arg-type]
