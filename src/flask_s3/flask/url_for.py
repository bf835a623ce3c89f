"""``url_for`` that sends static endpoints to S3 and everything else to Flask."""

from __future__ import annotations

from typing import Any

import flask

from flask_s3.core.activation import serves_from_s3
from flask_s3.core.fingerprints import fingerprinted
from flask_s3.core.urls import versioned
from flask_s3.flask.state import S3State, state_of

_DROPPED = ("_external", "_method")  # every S3 URL is external, and GET


def _absolute(endpoint: str) -> str:
    """Resolve ``.static`` against the blueprint handling the request, as Flask does."""
    if flask.has_request_context() and flask.request.blueprint is not None:
        return f"{flask.request.blueprint}{endpoint}"
    return endpoint[1:]


def url_for(endpoint: str, **values: Any) -> str:
    """Build a URL like ``flask.url_for``, pointing static endpoints at S3.

    Installed as the templates' ``url_for`` by ``init_app``; app code may call
    it too, and it then obeys ``USE_S3`` the same way. The common call, a
    static endpoint with only a filename, is answered from a cache.
    """
    app: flask.Flask = flask.current_app._get_current_object()  # type: ignore[attr-defined]
    state = state_of(app)
    if not (endpoint == "static" or endpoint.endswith(".static")) or not serves_from_s3(
        app.config, state.settings
    ):
        return flask.url_for(endpoint, **values)
    if len(values) == 1 and endpoint[0] != ".":
        filename = values.get("filename")
        if type(filename) is str:
            target = state.target(app, endpoint, filename)
            if target is not None:
                url, path = target
                mode = state.settings.cache_busting
                if mode == "off" or path is None:
                    return url
                digest = state.file_hashes.sha1(path)
                if mode == "query" or digest is None:
                    return versioned(url, digest)
                return fingerprinted(url, digest)
    return _static_url(app, state, endpoint, values)


def _static_url(
    app: flask.Flask, state: S3State, endpoint: str, values: dict[str, Any]
) -> str:
    if endpoint[0] == ".":
        endpoint = _absolute(endpoint)
    filename = values.pop("filename", None)
    route = state.route(app, endpoint)
    if route is None or filename is None:
        if filename is not None:
            values["filename"] = filename
        return flask.url_for(endpoint, **values)  # raises Flask's own BuildError
    filename = str(filename)
    for name in _DROPPED:
        values.pop(name, None)
    content_hash = None
    if state.settings.cache_busting != "off":
        target = state.target(app, endpoint, filename)
        path = target[1] if target is not None else None
        content_hash = state.file_hashes.sha1(path) if path is not None else None
    fingerprint = None
    if state.settings.cache_busting == "filename":
        fingerprint, content_hash = content_hash, None
    return state.urls.url(
        route.url_path,
        filename,
        scheme=values.pop("_scheme", None),
        anchor=values.pop("_anchor", None),
        values=values,
        content_hash=content_hash,
        fingerprint=fingerprint,
    )
