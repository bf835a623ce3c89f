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
    """The root of one static endpoint, or None when Flask has no such rule.
    Werkzeug indexes rules by endpoint (a KeyError for none), so a miss costs
    a look-up, not a scan of every rule."""
    try:
        rules = app.url_map.iter_rules(endpoint)
    except KeyError:
        return None
    rule = next(rules, None)
    return None if rule is None else _root(app, rule)


def static_roots(app: Flask) -> tuple[StaticRoot, ...]:
    """Every static root the app serves: its own and each registered blueprint's."""
    roots = (
        _root(app, rule)
        for rule in app.url_map.iter_rules()
        if is_static_endpoint(rule.endpoint)
    )
    return tuple(root for root in roots if root is not None)
