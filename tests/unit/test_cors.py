"""Which rules allow which origins, and the one CORS warning a run may give."""

from __future__ import annotations

import pytest

from flask_s3.core.cors import (
    RULE_ID,
    BucketCors,
    CorsRule,
    cors_change,
    cors_warnings,
)

GET_HEAD = ("GET", "HEAD")


@pytest.mark.parametrize(
    ("patterns", "origin", "allowed"),
    [
        (("https://shop.example",), "https://shop.example", True),
        (("https://shop.example",), "http://shop.example", False),
        (("https://shop.example",), "https://shop.example:8443", False),
        (("*",), "https://anything.example", True),
        (("*",), "*", True),
        (("https://*",), "*", False),
        (("https://*.shop.example",), "https://www.shop.example", True),
        (("https://*.shop.example",), "https://shop.example", False),
        (("https://*.shop.example",), "https://evil.example/.shop.example", True),
        (("http://127.0.0.1:*",), "http://127.0.0.1:5000", True),
        (("https://shop.example.",), "https://shopXexample", False),
    ],
)
def test_an_origin_pattern_is_exact_but_for_its_stars(
    patterns: tuple[str, ...], origin: str, allowed: bool
) -> None:
    assert CorsRule(GET_HEAD, patterns).allows(origin) is allowed


def test_a_rule_must_allow_both_get_and_head() -> None:
    assert not CorsRule(("GET",), ("*",)).allows("https://shop.example")
    assert CorsRule(("PUT", "HEAD", "GET"), ("*",)).allows("https://shop.example")


def test_our_rule_grows_in_place_and_keeps_its_other_fields() -> None:
    ours = CorsRule(("GET",), ("https://a.example",), ("*",), ("ETag",), 60, RULE_ID)
    theirs = CorsRule(("PUT",), ("https://admin.example",), id="theirs")

    change = cors_change(("https://b.example",), BucketCors((ours, theirs)))

    assert change is not None
    assert change.added == ("https://b.example",)
    assert change.rules == (
        CorsRule(
            ("GET", "HEAD"),
            ("https://a.example", "https://b.example"),
            ("*",),
            ("ETag",),
            60,
            RULE_ID,
        ),
        theirs,
    )


def test_fonts_with_no_rule_get_one_warning_naming_the_first() -> None:
    keys = ["static/app.js", "static/fonts/b.woff2", "static/fonts/a.TTF", "m.mjs"]

    [warning] = cors_warnings(None, BucketCors(()), keys)

    assert warning.startswith("browsers will block m.mjs and 2 more")
    assert "S3_CORS_ORIGINS" in warning


@pytest.mark.parametrize(
    "cors",
    [
        BucketCors((CorsRule(("GET",), ("https://shop.example",)),)),
        BucketCors(None, "AccessDenied: no"),
        BucketCors(None, "NotImplemented: no", unsupported=True),
    ],
    ids=["a rule lets pages read", "unknown", "unsupported"],
)
def test_no_warning_without_the_setting_unless_no_rule_is_certain(
    cors: BucketCors,
) -> None:
    assert cors_warnings(None, cors, ["static/f.woff2"]) == []


def test_no_warning_without_fonts_or_module_scripts() -> None:
    assert cors_warnings(None, BucketCors(()), ["static/app.js", "a.css"]) == []


def test_the_setting_on_a_store_without_cors_gets_one_warning() -> None:
    cors = BucketCors(None, "NotImplemented: not here", unsupported=True)

    [warning] = cors_warnings(("https://shop.example",), cors, ["a.woff2"])

    assert "does not implement bucket CORS (NotImplemented: not here)" in warning


def test_the_setting_with_rules_it_cannot_read_says_they_stay_as_they_are() -> None:
    cors = BucketCors(None, "AccessDenied: Access Denied")

    [warning] = cors_warnings(("https://shop.example",), cors, [])

    assert "could not read the bucket's CORS configuration" in warning
    assert "s3:GetBucketCORS" in warning


def test_the_setting_with_readable_rules_has_nothing_to_warn_of() -> None:
    assert cors_warnings(("*",), BucketCors(()), ["a.woff2"]) == []
