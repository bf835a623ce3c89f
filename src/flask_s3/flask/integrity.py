"""``integrity()``: the Subresource Integrity value of a static file.

It hashes the local file, the one the upload sends and the one cache busting
hashes for the same URL, so it works with S3 on or off and never asks S3. The
value is cached per file like cache busting's hashes, and recomputed when the
file changes.
"""

from __future__ import annotations

from typing import Any

import flask

from flask_s3.core.integrity import integrity_value
from flask_s3.errors import AssetNotFound
from flask_s3.flask.state import state_of
from flask_s3.flask.url_for import absolute_endpoint


def integrity(endpoint: str, **values: Any) -> str:
    """``sha384-<base64>`` of the file behind ``url_for(endpoint, **values)``,
    for ``<script integrity="..." crossorigin="anonymous">``."""
    app: flask.Flask = flask.current_app._get_current_object()  # type: ignore[attr-defined]
    state = state_of(app)
    if endpoint.startswith("."):
        endpoint = absolute_endpoint(endpoint)
    filename = values.get("filename")
    shown = f"integrity({endpoint!r}, filename={filename!r})"
    if filename is None:
        raise AssetNotFound(f"{shown}: name the static file with filename=")
    target = state.target(app, endpoint, str(filename))
    if target is None:
        raise AssetNotFound(f"{shown}: {endpoint!r} is not a static endpoint")
    root, path = target
    digest = state.integrity_hashes.digest(path) if path is not None else None
    if digest is None:
        raise AssetNotFound(
            f"{shown}: there is no such file in the static folder {root.folder}"
        )
    return integrity_value(digest)
