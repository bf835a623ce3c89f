"""``url_for`` that sends static endpoints to S3 and everything else to Flask."""

from __future__ import annotations

from typing import Any

import flask

from flask_s3.flask.state import ExtensionState, state_of

_DROPPED = ("_external", "_method")  # every S3 URL is external, and GET


def absolute_endpoint(endpoint: str) -> str:
    """Resolve ``.static`` against the blueprint handling the request, as Flask does."""
    if flask.has_request_context() and flask.request.blueprint is not None:
        return f"{flask.request.blueprint}{endpoint}"
    return endpoint[1:]


def url_for(endpoint: str, **values: Any) -> str:
    """Build a URL like ``flask.url_for``, pointing static endpoints at S3.

    Installed as the templates' ``url_for`` by ``init_app``; app code may call
    it too, and it then obeys ``USE_S3`` the same way. The common call, a
    static endpoint with only a filename, skips the argument handling; both
    ways end in the same cached URL builder.
    """
    app: flask.Flask = flask.current_app._get_current_object()  # type: ignore[attr-defined]
    state = state_of(app)
    if not (
        endpoint == "static" or endpoint.endswith(".static")
    ) or not state.serves_from_s3(app.config):
        return flask.url_for(endpoint, **values)
    if len(values) == 1 and endpoint[0] != ".":
        filename = values.get("filename")
        if type(filename) is str:
            url = state.static_url(app, endpoint, filename)
            if url is not None:
                return url
    return _static_url(app, state, endpoint, values)


def _static_url(
    app: flask.Flask, state: ExtensionState, endpoint: str, values: dict[str, Any]
) -> str:
    if endpoint[0] == ".":
        endpoint = absolute_endpoint(endpoint)
    filename = values.pop("filename", None)
    root = state.root(app, endpoint)
    if root is None or filename is None:
        if filename is not None:
            values["filename"] = filename
        return flask.url_for(endpoint, **values)  # raises Flask's own BuildError
    filename = str(filename)
    for name in _DROPPED:
        values.pop(name, None)
    # Only cache busting needs the local file: a user-supplied name is not
    # looked up, nor kept in the path cache, for nothing.
    target = (
        state.target(app, endpoint, filename)
        if state.settings.cache_busting != "off"
        else None
    )
    return state.urls.url(
        root.url_path,
        filename,
        scheme=values.pop("_scheme", None),
        anchor=values.pop("_anchor", None),
        values=values,
        digest=state.digest(target[1] if target is not None else None),
    )
