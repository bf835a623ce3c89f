"""The assets, loaded by a real browser from a bucket on another origin.

Unit and moto tests check what lands in the bucket; only a browser checks
that a page works from there: fonts and module scripts are fetched in CORS
mode, and a browser drops them unless the bucket's CORS rules allow the
page's origin. The bucket is on a moto server that answers CORS as S3 does
(tests/integration/browser.py), the page on the test app served over HTTP on
another port, and Chromium loads it and says, from inside the page, what each
asset did.

Skipped, with the reason, when Chromium is not installed
(.ci/install-test-servers installs it).
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, sync_playwright

from flask_s3 import create_all
from tests.conftest import FAKE_ACCESS_KEY, FAKE_SECRET_KEY
from tests.integration.browser import (
    CHROMIUM_ARGS,
    FONT_FAMILY,
    MISSING_CHROMIUM,
    chromium_binary,
    serving,
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


def test_without_cors_rules_the_browser_blocks_fonts_and_module_scripts(
    browser: Browser, s3_address: str
) -> None:
    app = site_app(s3_address, "browser-no-cors")
    create_all(app)
    assets = f"http://{s3_address}/browser-no-cors/static"

    with serving(app) as origin:
        seen = visit(browser, origin + "/")

    # What a no-cors fetch may load still works...
    assert seen.probe["color"] == STYLED
    assert seen.probe["classic"] is True
    assert seen.probe["image"] == BADGE
    # ...and what is fetched in CORS mode is blocked, saying why.
    assert seen.probe["module"] is False
    assert seen.probe["fonts"] == {FONT_FAMILY: "error"}
    assert seen.probe["brandedWidth"] < BRANDED / 2
    assert seen.cors_blocked() == {
        ("font", f"{assets}/fonts/flask-s3-demo.woff"),
        ("script", f"{assets}/js/module.mjs"),
    }
    assert seen.page_errors == []
