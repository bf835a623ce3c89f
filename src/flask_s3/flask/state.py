"""What the extension keeps per app, in ``app.extensions``.

Everything ``url_for`` needs is resolved once here, so a call does a few dict
look-ups instead of re-reading and re-validating the config; and keeping it
per app means two apps in one process never see each other's bucket.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

import attrs
from flask import Flask
from werkzeug.security import safe_join

from flask_s3.adapters.file_hashes import FileHashes
from flask_s3.core.integrity import ALGORITHM
from flask_s3.core.settings import Settings, config_keys
from flask_s3.core.settings_resolution import resolve_settings
from flask_s3.core.static_assets import StaticRoot
from flask_s3.core.urls import UrlBuilder
from flask_s3.errors import NotInitialised, SettingsError
from flask_s3.flask.static_roots import static_root

EXTENSION_NAME = "s3"


class ExtensionState:
    def __init__(
        self, settings: Settings, switch: Mapping[str, bool] | None = None
    ) -> None:
        self.settings = settings
        self.switch = switch or {}
        """What init_app wrote of the USE_S3 switch, to tell a later change."""
        self.urls = UrlBuilder(settings)
        self.file_hashes = FileHashes()
        self.integrity_hashes = FileHashes(algorithm=ALGORITHM)
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
        return self.file_hashes.digest(path)

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


_URL_FIELDS = (
    "bucket_name",
    "bucket_domain",
    "cdn_domain",
    "use_https",
    "prefix",
    "url_style",
    "endpoint_url",
    "region",
    "cache_busting",
)


def deploy_settings(app: Flask) -> Settings:
    """The settings an upload of ``app`` uses. URLs are built from what
    ``init_app`` read; a setting that shapes them and was changed since would
    upload keys the pages never name, so that is an error naming each one."""
    settings = resolve_settings(app.config)
    state: ExtensionState | None = app.extensions.get(EXTENSION_NAME)
    if state is None:
        return settings
    changed = [
        config_keys(attrs.fields_dict(Settings)[name])[0]
        for name in _URL_FIELDS
        if getattr(settings, name) != getattr(state.settings, name)
    ]
    if changed:
        raise SettingsError(
            changed[0],
            f"{', '.join(changed)} changed after FlaskS3(app) read the settings, "
            "so the uploaded keys would not be the ones the pages' URLs name: "
            "set them before init_app",
        )
    return settings
