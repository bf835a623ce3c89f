"""The assets, loaded by a real browser from a bucket on another origin.

Unit and moto tests check what lands in the bucket; only a browser checks
that a page works from there: fonts and module scripts are fetched in CORS
mode, as is a script pinned by its integrity hash, and a browser drops them
unless the bucket's CORS rules allow the page's origin; and only a browser
checks that a pin holds, and that it stops a script the bucket no longer
holds as uploaded. The bucket is on a moto server that answers CORS as S3 does
(tests/integration/browser.py), the page on the test app served over HTTP on
another port, and Chromium loads it and says, from inside the page, what each
asset did. Last, ``python -m flask_s3 demo --serve`` is opened as a newcomer
would open it: its shop loads a web font and an integrity-pinned script from
the demo's S3 server.

Skipped, with the reason, when Chromium is not installed
(.ci/install-test-servers installs it).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from playwright.sync_api import Browser, sync_playwright

from flask_s3 import create_all
from tests.conftest import FAKE_ACCESS_KEY, FAKE_SECRET_KEY
from tests.integration.browser import (
    CHROMIUM_ARGS,
    FONT_FAMILY,
    MISSING_CHROMIUM,
    PageServer,
    Visit,
    chromium_binary,
    site_app,
    strict_moto,
    visit,
)
from tests.support.aws_env import offline_aws_env
from tests.support.ports import free_port

STYLED = "rgb(18, 52, 86)"
"""#styled's color in the stylesheet."""
BADGE = [24, 12]
"""The image's width and height."""
BRANDED = 120
"""The width in pixels of 'SS' at 20px in the test font, whose 'S' is three
ems wide; any fallback font draws it far narrower."""

EVERYTHING = {
    "color": STYLED,
    "classic": True,
    "module": True,
    "pinned": True,
    "image": BADGE,
    "fonts": {FONT_FAMILY: "loaded"},
    "brandedWidth": BRANDED,
}
"""What the probe finds when every asset did its part."""
TAMPERED = b"window.pinnedRan = true; // and whatever else was slipped in\n"
"""What the pinned script's object is overwritten with in the bucket."""


def sha384(data: bytes) -> str:
    """The digest a browser shows when it refuses a resource: base64."""
    return base64.b64encode(hashlib.sha384(data).digest()).decode()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    binary = chromium_binary()
    if binary is None:
        pytest.skip(MISSING_CHROMIUM)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=binary, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def s3_address(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """host:port of one strict moto server for the module; each test has a
    bucket of its own on it."""
    folder = tmp_path_factory.mktemp("strict-moto")
    env = offline_aws_env(folder / "empty-aws-config", FAKE_ACCESS_KEY, FAKE_SECRET_KEY)
    with strict_moto(free_port(), env, folder / "moto.log") as endpoint:
        yield urlsplit(endpoint).netloc


@pytest.fixture(scope="module")
def pages() -> Iterator[PageServer]:
    server = PageServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def uploaded(pages: PageServer, s3_address: str, bucket: str, **config: Any) -> str:
    """Serve the test site with its assets uploaded to ``bucket``; returns
    the assets' base URL."""
    pages.app = site_app(s3_address, bucket, **config)
    create_all(pages.app)
    return f"http://{s3_address}/{bucket}/static"


def assert_everything_works(seen: Visit) -> None:
    assert seen.probe == EVERYTHING
    assert seen.console == []
    assert seen.page_errors == []


def test_without_cors_rules_the_browser_blocks_what_it_fetches_in_cors_mode(
    browser: Browser, s3_address: str, pages: PageServer
) -> None:
    assets = uploaded(pages, s3_address, "browser-no-cors")

    seen = visit(browser, pages.origin + "/")

    # What a no-cors fetch may load still works...
    assert seen.probe["color"] == STYLED
    assert seen.probe["classic"] is True
    assert seen.probe["image"] == BADGE
    # ...and what is fetched in CORS mode (fonts, module scripts, scripts
    # with crossorigin) is blocked, saying why, and for no other reason.
    assert seen.probe["module"] is False
    assert seen.probe["pinned"] is False
    assert seen.probe["fonts"] == {FONT_FAMILY: "error"}
    assert seen.probe["brandedWidth"] < BRANDED / 2
    assert seen.cors_blocked() == {
        ("font", f"{assets}/fonts/flask-s3-demo.woff"),
        ("script", f"{assets}/js/module.mjs"),
        ("script", f"{assets}/js/pinned.js"),
    }
    assert (
        seen.errors_besides_cors()
        == ["error: Failed to load resource: net::ERR_FAILED"] * 3
    )
    assert seen.page_errors == []


def test_with_the_pages_origin_in_s3_cors_origins_everything_loads(
    browser: Browser, s3_address: str, pages: PageServer
) -> None:
    uploaded(pages, s3_address, "browser-cors", S3_CORS_ORIGINS=[pages.origin])

    assert_everything_works(visit(browser, pages.origin + "/"))


def test_a_pinned_script_whose_object_changed_in_the_bucket_is_refused(
    browser: Browser, s3_address: str, pages: PageServer
) -> None:
    bucket = "browser-pinned"
    assets = uploaded(pages, s3_address, bucket, S3_CORS_ORIGINS=[pages.origin])
    assert_everything_works(visit(browser, pages.origin + "/"))

    boto3.client("s3", endpoint_url=f"http://{s3_address}").put_object(
        Bucket=bucket,
        Key="static/js/pinned.js",
        Body=TAMPERED,
        ContentType="text/javascript",
    )
    seen = visit(browser, pages.origin + "/")

    assert seen.probe == {**EVERYTHING, "pinned": False}
    assert seen.errors == [
        "error: Failed to find a valid digest in the 'integrity' attribute for "
        f"resource '{assets}/js/pinned.js' with computed SHA-384 integrity "
        f"'{sha384(TAMPERED)}'. The resource has been blocked."
    ]
    assert seen.page_errors == []


DEMO_PROBE = """async () => {
  await document.fonts.ready;
  return {
    color: getComputedStyle(document.querySelector("h1, ul")).color,
    cart: document.body.dataset.cart ?? null,
    fonts: [...document.fonts].map((face) => face.status),
  };
}"""
"""What the demo shop's pages show: the colour their stylesheets give the
first heading or list, the pinned cart script's mark, and how each web font
fared."""


def test_the_demo_shop_works_in_a_browser(
    browser: Browser, serving_demo: tuple[int, Path]
) -> None:
    port, _ = serving_demo

    home = visit(browser, f"http://127.0.0.1:{port}/", DEMO_PROBE)
    catalog = visit(browser, f"http://127.0.0.1:{port}/catalog/", DEMO_PROBE)

    assert home.probe == {
        "color": "rgb(42, 111, 79)",
        "cart": "ready",
        "fonts": ["loaded"],
    }
    # The catalog's text does not use the font, so it is never fetched.
    assert catalog.probe == {
        "color": "rgb(51, 51, 51)",
        "cart": "ready",
        "fonts": ["unloaded"],
    }
    for seen in (home, catalog):
        assert seen.console == []
        assert seen.page_errors == []
