"""``url_for`` that sends static endpoints to S3 and everything else to Flask."""

from __future__ import annotations

from typing import Any

import flask
from werkzeug.security import safe_join

from flask_s3.core.activation import serves_from_s3
from flask_s3.flask.state import state_of
from flask_s3.flask.static_routes import is_static_endpoint

_DROPPED = ("_external", "_method")  # every S3 URL is external, and GET


def _absolute(endpoint: str) -> str:
    """Resolve ``.static`` against the blueprint handling the request, as Flask does."""
    if flask.has_request_context() and flask.request.blueprint is not None:
        return f"{flask.request.blueprint}{endpoint}"
    return endpoint[1:]


def url_for(endpoint: str, **values: Any) -> str:
    """Build a URL like ``flask.url_for``, pointing static endpoints at S3.

    Installed as the templates' ``url_for`` by ``init_app``; app code may call
    it too, and it then obeys ``USE_S3`` the same way.
    """
    app: flask.Flask = flask.current_app._get_current_object()  # type: ignore[attr-defined]
    state = state_of(app)
    if not is_static_endpoint(endpoint) or not serves_from_s3(
        app.config, state.settings
    ):
        return flask.url_for(endpoint, **values)
    if endpoint[0] == ".":
        endpoint = _absolute(endpoint)
    route = state.route(app, endpoint)
    filename = values.get("filename")
    if route is None or filename is None:
        return flask.url_for(endpoint, **values)  # raises Flask's own BuildError
    filename = str(filename)
    if len(values) == 1 and not state.settings.cache_busting:
        return state.urls.plain_url(route.url_path, filename)
    del values["filename"]
    for name in _DROPPED:
        values.pop(name, None)
    content_hash = None
    if state.settings.cache_busting:
        path = safe_join(route.folder, filename)
        content_hash = state.file_hashes.sha1(path) if path is not None else None
    return state.urls.url(
        route.url_path,
        filename,
        scheme=values.pop("_scheme", None),
        anchor=values.pop("_anchor", None),
        values=values,
        content_hash=content_hash,
    )
