"""What the extension keeps per app, in ``app.extensions``.

Everything ``url_for`` needs is resolved once here, so a call does a few dict
look-ups instead of re-reading and re-validating the config; and keeping it
per app means two apps in one process never see each other's bucket.
"""

from __future__ import annotations

from functools import lru_cache

from flask import Flask
from werkzeug.security import safe_join

from flask_s3.adapters.file_hashes import FileHashes
from flask_s3.core.settings import Settings
from flask_s3.core.static_assets import StaticRoot
from flask_s3.core.urls import UrlBuilder
from flask_s3.flask.static_routes import static_route

EXTENSION_NAME = "s3"


class S3State:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.urls = UrlBuilder(settings)
        self.file_hashes = FileHashes()
        self._routes: dict[str, StaticRoot | None] = {}
        self._targets = lru_cache(maxsize=4096)(self._target)

    def target(
        self, app: Flask, endpoint: str, filename: str
    ) -> tuple[str, str | None] | None:
        """The plain URL of a static file and its local path (None when the
        name is unsafe to join), or None when the endpoint has no static rule.
        Cached: filenames repeat on every page, and the cache is bounded
        because they may come from users."""
        return self._targets(app, endpoint, filename)

    def _target(
        self, app: Flask, endpoint: str, filename: str
    ) -> tuple[str, str | None] | None:
        route = self.route(app, endpoint)
        if route is None:
            return None
        url = self.urls.plain_url(route.url_path, filename)
        return url, safe_join(route.folder, filename)

    def route(self, app: Flask, endpoint: str) -> StaticRoot | None:
        """The static route of ``endpoint``; looked up in the URL map once, since
        Flask forbids adding rules once the app has handled a request."""
        try:
            return self._routes[endpoint]
        except KeyError:
            route = static_route(app, endpoint)
            if route is not None:
                self._routes[endpoint] = route
            return route


def state_of(app: Flask) -> S3State:
    try:
        state: S3State = app.extensions[EXTENSION_NAME]
    except KeyError:
        raise RuntimeError(
            f"Flask-S3 is not initialised on app {app.name!r}: "
            "call FlaskS3(app) or FlaskS3().init_app(app) first"
        ) from None
    return state
