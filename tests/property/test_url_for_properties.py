"""``flask_s3.url_for`` against hostile arguments, across app shapes (issue 14).

For any filename and any ``url_for`` arguments, a URL either is not built
(only the package's own error, or Flask's BuildError for an endpoint with no
static rule) or it:

- stays on the bucket's or the CDN's host, with an http or https scheme;
- has no '.' or '..' segment a browser would resolve away;
- names the key the upload writes for the file Flask serves at the URL
  ``flask.url_for`` builds, once a browser has resolved that URL and Flask's
  router has matched it (the oracle: Flask itself, and discovery's key);
- carries the query and fragment ``flask.url_for`` renders (plus ``v=``).
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import re
from functools import cache
from importlib.metadata import version
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import flask
import pytest
from flask import Blueprint, Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.exceptions import HTTPException
from werkzeug.routing import BuildError, RequestRedirect

import flask_s3
from flask_s3 import FlaskS3
from flask_s3.core.hashed_copies import hashed_name
from flask_s3.core.static_assets import Listing, discover_assets
from flask_s3.core.urls import object_key
from flask_s3.errors import FlaskS3Error, InvalidUrlArgument, UnsafeFilename
from flask_s3.flask.state import state_of
from flask_s3.flask.static_roots import static_roots

FILES = ("app.css", "css/a b.css", "js/x;y+z.js", "100%.txt", "caf\u00e9/\u2615.svg")

# config -> (netloc, path of the site root) every asset URL must start with
CONFIGS: dict[str, tuple[dict[str, Any], str, str]] = {
    "aws": ({"S3_BUCKET_NAME": "assets"}, "assets.s3.amazonaws.com", ""),
    "path": (
        {
            "S3_BUCKET_NAME": "assets",
            "S3_URL_STYLE": "path",
            "S3_PREFIX": "rel/v2",
            "S3_USE_HTTPS": False,
        },
        "s3.amazonaws.com",
        "/assets",
    ),
    "cdn": (
        {
            "S3_BUCKET_NAME": "assets",
            "S3_CDN_DOMAIN": "cdn.example.com/assets",
            "S3_CACHE_BUSTING": "query",
        },
        "cdn.example.com",
        "/assets",
    ),
    "endpoint": (
        {
            "S3_BUCKET_NAME": "assets",
            "S3_ENDPOINT_URL": "http://[::1]:9000",
            "S3_CACHE_BUSTING": "filename",
        },
        "[::1]:9000",
        "/assets",
    ),
    "domain": (
        {
            "S3_BUCKET_NAME": "assets",
            "S3_BUCKET_DOMAIN": "127.0.0.1:9000/s3",
            "S3_URL_STYLE": "path",
            "S3_PREFIX": "a b",
            "S3_CACHE_BUSTING": "filename",
        },
        "127.0.0.1:9000",
        "/s3/assets",
    ),
}
SHAPES = ("default", "empty", "slash", "hosts", "subdomain")

WERKZEUG_3 = int(version("werkzeug").split(".")[0]) >= 3
"""Werkzeug 3 renders a set as one pair per item and quotes '+' in a query;
2.3 pasted the set's repr and left '+' bare. url_for renders as 3 does."""


def _folder(base: Path, name: str) -> str:
    for relative in FILES:
        path = base / name / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"/* {name} {relative} */")
    return str(base / name)


def build_app(base: Path, shape: str, config: str) -> Flask:
    base = base / shape / config
    options: dict[str, Any] = {
        "default": {},
        "empty": {"static_url_path": ""},
        "slash": {"static_url_path": "/"},
        "hosts": {"host_matching": True, "static_host": "static.example.com"},
        "subdomain": {},
    }[shape]
    app = Flask("shop", static_folder=_folder(base, "static"), **options)
    app.config.update(CONFIGS[config][0], SERVER_NAME="example.com")
    if shape != "hosts":
        admin = Blueprint("admin", "shop", static_folder=_folder(base, "admin"))
        child = Blueprint(
            "child",
            "shop",
            static_folder=_folder(base, "child"),
            static_url_path="/kid",
        )
        admin.add_url_rule("/page", "page", lambda: "")
        admin.register_blueprint(child, url_prefix="/child")
        app.register_blueprint(admin, url_prefix="/admin")
    if shape == "subdomain":
        sub = Blueprint("sub", "shop", static_folder=_folder(base, "sub"))
        app.register_blueprint(sub, subdomain="media", url_prefix="/m")
    FlaskS3(app)
    return app


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory) -> Any:
    base = tmp_path_factory.mktemp("url-for-apps")

    @cache
    def app_for(shape: str, config: str) -> Flask:
        return build_app(base, shape, config)

    return app_for


SPECIAL = ["..", ".", "", "%", "%2e", "+", "#", "?", ";", "\\", "\x00", "\x01", "\n"]
SPECIAL += [" ", "\u00e9", "\u2615", "\ud800", "a", ".hidden", "..a"]
segments = st.one_of(
    st.sampled_from(SPECIAL),
    st.text(max_size=6),
    st.sampled_from(["x", "\u00e9"]).map(lambda char: char * 300),
)
invented = st.tuples(
    st.sampled_from(["", "/", "//", "./", "x/../"]),
    st.lists(segments, min_size=1, max_size=4).map("/".join),
).map("".join)
real = st.tuples(
    st.sampled_from(["", "/", "//", "./", "x/../", "css/../"]), st.sampled_from(FILES)
).map("".join)
filenames = st.one_of(real, invented)

scalars = st.one_of(
    st.none(),
    st.text(max_size=5),
    st.integers(),
    st.floats(),
    st.booleans(),
    st.binary(max_size=4),
)
extra_values = st.one_of(
    scalars,
    st.lists(scalars, max_size=3),
    st.tuples(scalars, scalars),
    st.sets(st.text(max_size=3), max_size=3),
    st.frozensets(st.integers(0, 3), max_size=2),
)
extras = st.dictionaries(
    st.sampled_from(["q", "lang", "v", "\u00e9", "_x", "filename2"]),
    extra_values,
    max_size=3,
)
schemes = st.sampled_from(
    ["http", "https", "javascript", "data", "https://evil.example/x.js?", "HTTPS", ""]
)
anchors = st.one_of(st.text(max_size=6), st.integers(), st.sampled_from(["\ud800"]))


def optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.just(None), strategy)


ENDPOINTS = {
    "default": [
        "static",
        "admin.static",
        "admin.child.static",
        ".static",
        "ghost.static",
    ],
    "empty": ["static", "admin.static", "admin.child.static", ".static"],
    "slash": ["static", "admin.child.static", ".static"],
    "hosts": ["static"],
    "subdomain": ["static", "sub.static", "admin.static"],
}


def _encodable(*texts: str) -> bool:
    try:
        for text in texts:
            text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def resolved(path: str) -> str:
    """A URL path as a browser resolves it: RFC 3986's remove_dot_segments,
    in which an empty segment is one. (urljoin would drop a trailing ';'.)"""
    kept: list[str] = []
    segments = path.split("/")[1:]
    for number, segment in enumerate(segments, 1):
        if segment == "..":
            if kept:
                kept.pop()
        elif segment != ".":
            kept.append(segment)
        if segment in (".", "..") and number == len(segments):
            kept.append("")
    return "/" + "/".join(kept)


def browser_name(filename: str) -> str | None:
    """The file a browser then Flask's router make of ``filename`` behind a
    folder: dot segments resolved, then slashes merged; None when it climbs
    out of the folder."""
    path = resolved(f"/r/{quote(filename, safe='/')}")
    if not path.startswith("/r/"):
        return None
    return "/".join(part for part in unquote(path[3:]).split("/") if part)


def router_name(filename: str) -> str | None:
    """The file Flask's router makes of ``filename`` sent as it is, without a
    browser: slashes merged, then dot segments resolved by ``safe_join``."""
    kept: list[str] = []
    for part in filter(None, filename.split("/")):
        if part == "..":
            if not kept:
                return None
            kept.pop()
        elif part != ".":
            kept.append(part)
    return "/".join(kept)


def served_by_flask(app: Flask, local: str) -> tuple[str, str] | None:
    """(endpoint, filename) of the static file Flask serves for a URL once a
    browser resolved its dot segments, following the router's redirect that
    merges slashes; None when the URL is no static file's."""
    local_parts = urlsplit(local)
    url = f"{local_parts.scheme}://{local_parts.netloc}{resolved(local_parts.path)}"
    for _ in range(3):
        parts = urlsplit(url)
        # A test request cannot carry a path that starts with '//' (it would
        # read as a host); a server gets it, and the router merges the
        # slashes with a redirect, as it does anywhere else in the path.
        path = re.sub("^/{2,}", "/", parts.path)
        with app.test_request_context(
            path, base_url=f"{parts.scheme}://{parts.netloc}"
        ) as context:
            adapter = context.url_adapter
            assert adapter is not None
            try:
                endpoint, args = adapter.match()
            except RequestRedirect as redirect:
                url = redirect.new_url
                continue
            except HTTPException:
                return None
        if not endpoint.endswith("static"):
            return None
        return endpoint, args["filename"]
    raise AssertionError(f"redirect loop for {local}")


def local_url(endpoint: str, filename: str, anchor: Any, values: dict[str, Any]) -> str:
    """What ``flask.url_for`` builds; without the anchor where Flask cannot
    quote it (a number), since the S3 URL takes its ``str``."""
    if not WERKZEUG_3:
        values = {k: list(v) if type(v) is set else v for k, v in values.items()}
    try:
        return flask.url_for(
            endpoint, filename=filename, _external=True, _anchor=anchor, **values
        )
    except TypeError:
        return flask.url_for(endpoint, filename=filename, _external=True, **values)


def check(
    app: Flask,
    config: str,
    endpoint: str,
    filename: str,
    options: dict[str, Any],
    values: dict[str, Any],
) -> None:
    _, netloc, site_path = CONFIGS[config]
    absolute = "admin.static" if endpoint == ".static" else endpoint
    with app.test_request_context("/admin/page"):
        try:
            url = flask_s3.url_for(endpoint, filename=filename, **options, **values)
        except FlaskS3Error as error:
            explain_refusal(error, filename, options, values)
            return
        except (BuildError, ValueError):
            # no static rule: Flask's own url_for answers, with its errors
            assert endpoint == "ghost.static"
            return
        local = local_url(endpoint, filename, options.get("_anchor"), values)
    parts = urlsplit(url)
    assert parts.scheme in ("http", "https")
    assert parts.scheme == options.get("_scheme", parts.scheme)
    assert parts.netloc == netloc, url
    assert parts.path.startswith(f"{site_path}/"), url
    assert all(unquote(part) not in (".", "..") for part in parts.path.split("/"))
    key = unquote(parts.path.removeprefix(f"{site_path}/"))

    settings = state_of(app).settings
    roots = {root.endpoint: root for root in static_roots(app)}
    requested = roots[absolute]
    name = browser_name(filename)
    if not name:
        # The folder itself, no file: the static base URL that pages use in JS.
        assert key == object_key(settings, requested.url_path, "")
        return
    served = served_by_flask(app, local)
    if served is not None:
        root, relative = roots[served[0]], posixpath.normpath(served[1])
    else:
        # Another route answers there (static_url_path ''): the key is still
        # the one the upload writes for the file.
        root, relative = requested, name
    (asset,) = discover_assets(
        settings, [Listing(root, (relative,))], include_hidden=True
    )
    path = os.path.join(requested.folder, name)
    digest = (
        hashlib.sha1(Path(path).read_bytes()).hexdigest()
        if settings.cache_busting != "off" and os.path.isfile(path)
        else None
    )
    if digest is not None and settings.cache_busting == "filename":
        assert key == hashed_name(asset.key, digest)
    else:
        assert key == asset.key

    local_parts = urlsplit(local)
    query = local_parts.query
    if digest is not None and settings.cache_busting == "query":
        query = "&".join(part for part in (query, f"v={digest[:12]}") if part)
    if WERKZEUG_3:
        assert parts.query == query
    else:  # Werkzeug 2.3 leaves '+' bare in a query, where 3.0 quotes it
        assert unquote(parts.query) == unquote(query)
    if "#" in local:
        assert parts.fragment == local_parts.fragment


def explain_refusal(
    error: FlaskS3Error, filename: str, options: dict[str, Any], values: dict[str, Any]
) -> None:
    """A refusal is for a reason the caller can see in the arguments."""
    if isinstance(error, InvalidUrlArgument):
        texts = [*values, *map(str, values.values()), str(options.get("_anchor"))]
        scheme = options.get("_scheme", "http")
        assert scheme not in ("http", "https") or not _encodable(*texts), error
        return
    assert isinstance(error, UnsafeFilename), error
    if "\x00" in filename or not _encodable(filename):
        return
    name = browser_name(filename)
    assert name is None or name != router_name(filename), error


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    shape=st.sampled_from(SHAPES),
    config=st.sampled_from(sorted(CONFIGS)),
    data=st.data(),
    filename=filenames,
    external=optional(st.booleans()),
    scheme=optional(schemes),
    anchor=optional(anchors),
    values=extras,
)
def test_every_url_stays_on_the_asset_host_and_names_the_uploaded_key(
    apps: Any,
    shape: str,
    config: str,
    data: st.DataObject,
    filename: str,
    external: bool | None,
    scheme: str | None,
    anchor: Any,
    values: dict[str, Any],
) -> None:
    endpoint = data.draw(st.sampled_from(ENDPOINTS[shape]), label="endpoint")
    given_options = {"_external": external, "_scheme": scheme, "_anchor": anchor}
    options = {
        name: value for name, value in given_options.items() if value is not None
    }
    check(apps(shape, config), config, endpoint, filename, options, values)
