"""Where Flask really serves static files: the app's and every blueprint's rule.

URL paths are read from the URL map rather than recomputed from
``url_prefix`` and ``static_url_path``, so nested blueprints, ``name=``
registrations and custom static paths give exactly the path Flask serves,
and so exactly the key an upload writes.
"""

from __future__ import annotations

import re

from flask import Flask
from werkzeug.routing import Rule

from flask_s3.core.static_assets import StaticRoot

_STATIC_RULE = re.compile(r"^(?P<url_path>.*)/<(?:path:)?filename>$")


def is_static_endpoint(endpoint: str) -> bool:
    return endpoint == "static" or endpoint.endswith(".static")


def _root(app: Flask, rule: Rule) -> StaticRoot | None:
    match = _STATIC_RULE.match(rule.rule)
    if match is None:
        return None
    if rule.endpoint == "static":
        folder = app.static_folder
    else:
        blueprint = app.blueprints.get(rule.endpoint.removesuffix(".static"))
        folder = blueprint.static_folder if blueprint is not None else None
    if folder is None:
        return None
    return StaticRoot(folder, match["url_path"], rule.endpoint)


def static_root(app: Flask, endpoint: str) -> StaticRoot | None:
    """The root of one static endpoint, or None when Flask has no such rule."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint == endpoint:
            return _root(app, rule)
    return None


def static_roots(app: Flask) -> tuple[StaticRoot, ...]:
    """Every static root the app serves: its own and each registered blueprint's."""
    roots = (
        _root(app, rule)
        for rule in app.url_map.iter_rules()
        if is_static_endpoint(rule.endpoint)
    )
    return tuple(root for root in roots if root is not None)
