"""What the extension keeps per app, in ``app.extensions``.

Everything ``url_for`` needs is resolved once here, so a call does a few dict
look-ups instead of re-reading and re-validating the config; and keeping it
per app means two apps in one process never see each other's bucket.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import attrs
from flask import Flask
from werkzeug.security import safe_join

from flask_s3.adapters.file_hashes import FileHashes
from flask_s3.core.activation import LEGACY_ACTIVE, USE_S3, serves_from_s3
from flask_s3.core.integrity import ALGORITHM
from flask_s3.core.settings import Settings, config_keys
from flask_s3.core.settings_resolution import resolve_settings
from flask_s3.core.static_assets import StaticRoot
from flask_s3.core.urls import UrlBuilder, served_name
from flask_s3.errors import NotInitialised, SettingsError
from flask_s3.flask.static_roots import static_root

EXTENSION_NAME = "s3"
_UNSET: Any = object()
_UNSEEN: Any = object()


class ExtensionState:
    def __init__(
        self, settings: Settings, switch: Mapping[str, bool] | None = None
    ) -> None:
        self.settings = settings
        self.switch = switch or {}
        """What init_app wrote of the USE_S3 switch, to tell a later change."""
        self.urls = UrlBuilder(settings)
        size = settings.url_cache_size
        self.file_hashes = FileHashes(max_entries=size)
        self.integrity_hashes = FileHashes(algorithm=ALGORITHM, max_entries=size)
        self._busting = settings.cache_busting != "off"
        self._roots: dict[str, StaticRoot | None] = {}
        self._max_roots = size
        self._local_paths = lru_cache(maxsize=size)(_local_path)
        self._switch_seen: tuple[Any, Any, Any, bool] = (_UNSEEN,) * 3 + (False,)

    def serves_from_s3(self, config: Mapping[str, Any]) -> bool:
        """`activation.serves_from_s3` for this app, decided again only when
        a config value it reads is another object than last time: it runs on
        every call, and tests and app code flip those values at any moment.
        Identity, not equality, since ``USE_S3 = 1`` equals True but is an
        error."""
        use = config.get(USE_S3, _UNSET)
        legacy = config.get(LEGACY_ACTIVE, _UNSET)
        testing = config.get("TESTING", _UNSET)
        seen = self._switch_seen
        if use is seen[0] and legacy is seen[1] and testing is seen[2]:
            return seen[3]
        answer = serves_from_s3(config, self.settings, written=self.switch)
        self._switch_seen = (use, legacy, testing, answer)
        return answer

    def static_url(self, app: Flask, endpoint: str, filename: str) -> str | None:
        """The S3 URL of a file under a static endpoint with no extra values,
        or None when the endpoint has no static rule: the call every asset
        link of every page makes, so it is a few cache hits. Without cache
        busting it never looks for the file."""
        root = self.root(app, endpoint)
        if root is None:
            return None
        if not self._busting:
            return self.urls.plain_url(root.url_path, filename, None)
        path = self._local_paths(root.folder, filename)
        digest = None if path is None else self.file_hashes.digest(path)
        return self.urls.plain_url(root.url_path, filename, digest)

    def target(
        self, app: Flask, endpoint: str, filename: str
    ) -> tuple[StaticRoot, str | None] | None:
        """The static root of an endpoint and the local path of a file in it
        (None when the name is unsafe to join), or None when the endpoint has
        no static rule."""
        root = self.root(app, endpoint)
        if root is None:
            return None
        return root, self._local_paths(root.folder, filename)

    def digest(self, path: str | None) -> str | None:
        """The content hash cache busting needs, or None when it is off or
        there is no file to hash."""
        if not self._busting or path is None:
            return None
        return self.file_hashes.digest(path)

    def root(self, app: Flask, endpoint: str) -> StaticRoot | None:
        """The static root of ``endpoint``, from the URL map once. A miss is
        kept only once the app has handled a request: until then a blueprint
        may still be registered, and from then on Flask forbids it. Misses
        are bounded, since an endpoint name may come from a user."""
        try:
            return self._roots[endpoint]
        except KeyError:
            pass
        root = static_root(app, endpoint)
        if root is not None or (
            app._got_first_request and len(self._roots) < self._max_roots
        ):
            self._roots[endpoint] = root
        return root


def _local_path(folder: str, filename: str) -> str | None:
    """The file the URL names, not the raw name: the digest must be that of
    the file the key is uploaded from, and a name no file can have (NUL) is
    refused here rather than by os.stat. Cached per state: filenames repeat
    on every page."""
    return safe_join(folder, served_name(filename))


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
