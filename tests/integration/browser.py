"""A real browser against a bucket on another origin, for the browser tests.

moto's server adds ``Access-Control-Allow-Origin: *`` to every answer, so a
page whose fonts and module scripts a browser would block loads fine against
it; with MOTO_DISABLE_GLOBAL_CORS=1 (read when moto is imported, hence a
server of its own in a subprocess) it answers CORS as S3 does: only as the
bucket's CORS configuration says. The page comes from the test app served
over real HTTP on another port of 127.0.0.1, a different origin, and
Debian's Chromium, driven by playwright, loads it.

Chromium is installed by .ci/install-test-servers; without it the tests that
need it are skipped, saying so.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask, render_template
from playwright.sync_api import Browser, ConsoleMessage, Error
from werkzeug.serving import make_server

from flask_s3 import FlaskS3
from tests.support.ports import wait_until_listening

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

CHROMIUM = Path("/usr/bin/chromium")
MISSING_CHROMIUM = (
    f"Chromium is not installed at {CHROMIUM}: run .ci/install-test-servers"
)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Chromium's own connections (updates, sync, field trials) would be
    # refused on a closed network, and some of them stall the page.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SITE = Path(__file__).resolve().parent / "browser_site"
"""The test site's templates and static files. The font is our own, also in
the example shop: made with fontTools' FontBuilder (TrueType outlines for
.notdef, space and 'S', a rectangle three ems wide, so text in it is easy to
tell apart) and saved as WOFF."""
FONT_FAMILY = "Flask S3 Demo"
CORS_BLOCKED = re.compile(
    r"Access to (\w+) at '([^']+)' from origin '[^']+' has been blocked by CORS policy"
)


def chromium_binary() -> str | None:
    """Debian's Chromium, the only one this closed network can have."""
    if CHROMIUM.exists() and os.access(CHROMIUM, os.X_OK):
        return str(CHROMIUM)
    return None


@contextlib.contextmanager
def strict_moto(port: int, env: dict[str, str], log: Path) -> Iterator[str]:
    """A moto server on 127.0.0.1:``port`` that adds CORS headers only as a
    bucket's CORS configuration says, as S3 does; stopped however the block
    ends."""
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            env={**env, "MOTO_DISABLE_GLOBAL_CORS": "true"},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until_listening("moto", port, process, 30)
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)


def site_app(s3_address: str, bucket: str, **config: Any) -> Flask:
    """The test site, its assets in ``bucket`` on the S3 server at
    ``s3_address``, in path style over http, as the demo configures it."""
    app = Flask("browser_site", root_path=str(SITE))
    app.config.update(
        S3_BUCKET_NAME=bucket,
        S3_ENDPOINT_URL=f"http://{s3_address}",
        S3_BUCKET_DOMAIN=s3_address,
        S3_URL_STYLE="path",
        S3_USE_HTTPS=False,
        S3_REGION="us-east-1",
        **config,
    )

    @app.route("/")
    def index() -> str:
        return render_template("index.html")

    FlaskS3(app)
    return app


class PageServer:
    """Pages over real HTTP on a port of 127.0.0.1 of their own: an origin
    other than the bucket's. It listens before any app exists, since an app's
    S3_CORS_ORIGINS must name the origin; each test then serves its own app."""

    def __init__(self) -> None:
        self.app: Flask | None = None
        self._server = make_server("127.0.0.1", 0, self._dispatch, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def _dispatch(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        assert self.app is not None, "no app is being served"
        return self.app(environ, start_response)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(5)
        self._server.server_close()


PROBE = """async () => {
  await document.fonts.ready;
  const byId = (id) => document.getElementById(id);
  return {
    color: getComputedStyle(byId("styled")).color,
    classic: window.classicRan === true,
    module: window.moduleRan === true,
    pinned: window.pinnedRan === true,
    image: [byId("badge").naturalWidth, byId("badge").naturalHeight],
    fonts: Object.fromEntries(
      [...document.fonts].map((face) => [face.family.replaceAll('"', ""), face.status])
    ),
    brandedWidth: byId("branded").getBoundingClientRect().width,
  };
}"""
"""What the test site's page shows of each asset, once every web font has
settled."""


@dataclass
class Visit:
    """One page load in a fresh browser context (so nothing comes from a
    cache): what the probe found, and what the console said."""

    probe: dict[str, Any]
    console: list[str] = field(default_factory=list)
    """Each message as ``type: text``."""
    page_errors: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        return [line for line in self.console if line.startswith("error: ")]

    def errors_besides_cors(self) -> list[str]:
        return [line for line in self.errors if not CORS_BLOCKED.search(line)]

    def cors_blocked(self) -> set[tuple[str, str]]:
        """(kind, URL) of every fetch the browser blocked for want of CORS."""
        return {
            (found.group(1), found.group(2))
            for line in self.console
            if (found := CORS_BLOCKED.search(line))
        }


def visit(browser: Browser, url: str, probe: str = PROBE) -> Visit:
    context = browser.new_context()
    # A page without an icon link makes Chromium ask the page's server for
    # /favicon.ico, and its 404 would be a console error about nothing here.
    context.route("**/favicon.ico", lambda route: route.fulfill(status=204))
    try:
        page = context.new_page()
        console: list[str] = []
        page_errors: list[str] = []

        def record(message: ConsoleMessage) -> None:
            console.append(f"{message.type}: {message.text}")

        def record_error(error: Error) -> None:
            page_errors.append(str(error))

        page.on("console", record)
        page.on("pageerror", record_error)
        page.goto(url, wait_until="load")
        return Visit(page.evaluate(probe), console, page_errors)
    finally:
        context.close()
