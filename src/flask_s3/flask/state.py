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
from flask_s3.errors import NotInitialised
from flask_s3.flask.static_roots import static_root

EXTENSION_NAME = "s3"


class ExtensionState:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.urls = UrlBuilder(settings)
        self.file_hashes = FileHashes()
        self._roots: dict[str, StaticRoot | None] = {}
        self._targets = lru_cache(maxsize=4096)(self._target)

    def target(
        self, app: Flask, endpoint: str, filename: str
    ) -> tuple[StaticRoot, str | None] | None:
        """The static root of an endpoint and the local path of a file in it
        (None when the name is unsafe to join), or None when the endpoint has
        no static rule. Cached: filenames repeat on every page, and the cache
        is bounded because they may come from users."""
        return self._targets(app, endpoint, filename)

    def _target(
        self, app: Flask, endpoint: str, filename: str
    ) -> tuple[StaticRoot, str | None] | None:
        root = self.root(app, endpoint)
        if root is None:
            return None
        return root, safe_join(root.folder, filename)

    def digest(self, path: str | None) -> str | None:
        """The content hash cache busting needs, or None when it is off or
        there is no file to hash."""
        if self.settings.cache_busting == "off" or path is None:
            return None
        return self.file_hashes.sha1(path)

    def root(self, app: Flask, endpoint: str) -> StaticRoot | None:
        """The static root of ``endpoint``; looked up in the URL map once, since
        Flask forbids adding rules once the app has handled a request."""
        try:
            return self._roots[endpoint]
        except KeyError:
            root = static_root(app, endpoint)
            if root is not None:
                self._roots[endpoint] = root
            return root


def state_of(app: Flask) -> ExtensionState:
    try:
        state: ExtensionState = app.extensions[EXTENSION_NAME]
    except KeyError:
        raise NotInitialised(
            f"Flask-S3 is not initialised on app {app.name!r}: "
            "call FlaskS3(app) or FlaskS3().init_app(app) first"
        ) from None
    return state
