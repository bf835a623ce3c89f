"""Real apps, real templates: the URLs Flask-S3 renders for apps and blueprints."""

from __future__ import annotations

import hashlib
import socket
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import flask
import pytest
from flask import Blueprint, Flask, render_template_string
from werkzeug.routing import BuildError

import flask_s3
from flask_s3 import FlaskS3
from flask_s3.adapters.file_hashes import FileHashes
from flask_s3.core import SettingsError, UnsafeFilename
from flask_s3.flask.state import state_of

BUCKET_ROOT = "https://assets.s3.amazonaws.com"


def make_app(tmp_path: Path, **config: Any) -> Flask:
    """An app with its own static folder and blueprints: one under a url_prefix,
    one nested, and one registered twice under another name."""
    for folder in ("static", "admin_static", "child_static"):
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
        (tmp_path / folder / "app.css").write_text(f"/* {folder} */")
    app = Flask("shop", root_path=str(tmp_path))
    app.config.update({"S3_BUCKET_NAME": "assets", **config})
    admin = Blueprint(
        "admin", "shop", root_path=str(tmp_path), static_folder="admin_static"
    )
    child = Blueprint(
        "child",
        "shop",
        root_path=str(tmp_path),
        static_folder="child_static",
        static_url_path="/kid",
    )

    @admin.route("/page")
    def page() -> str:
        return render_template_string(
            "{{ url_for('.static', filename='app.css') }} "
            "{{ url_for('static', filename='app.css') }}"
        )

    @child.route("/page")
    def child_page() -> str:
        return render_template_string("{{ url_for('.static', filename='app.css') }}")

    admin.register_blueprint(child, url_prefix="/child")
    app.register_blueprint(admin, url_prefix="/admin")
    app.register_blueprint(admin, url_prefix="/backoffice", name="office")

    @app.route("/")
    def index() -> str:
        return render_template_string(
            "{{ url_for('static', filename='css/a b.css') }}"
            "|{{ url_for('index', q=1) }}|{{ url_for('.static', filename='x.js') }}"
        )

    return app


def local_and_s3(app: Flask, endpoint: str, filename: str) -> tuple[str, str]:
    with app.test_request_context():
        return flask.url_for(endpoint, filename=filename), flask_s3.url_for(
            endpoint, filename=filename
        )


def test_app_page_renders_s3_and_flask_urls(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    FlaskS3(app)
    body = app.test_client().get("/").get_data(as_text=True)
    assert body == f"{BUCKET_ROOT}/static/css/a%20b.css|/?q=1|{BUCKET_ROOT}/static/x.js"


def test_blueprint_pages_use_their_own_static_rules(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    FlaskS3(app)
    client = app.test_client()
    assert client.get("/admin/page").get_data(as_text=True) == (
        f"{BUCKET_ROOT}/admin/admin_static/app.css {BUCKET_ROOT}/static/app.css"
    )
    assert client.get("/backoffice/page").get_data(as_text=True) == (
        f"{BUCKET_ROOT}/backoffice/admin_static/app.css {BUCKET_ROOT}/static/app.css"
    )
    assert client.get("/admin/child/page").get_data(as_text=True) == (
        f"{BUCKET_ROOT}/admin/child/kid/app.css"
    )
    assert client.get("/backoffice/child/page").get_data(as_text=True) == (
        f"{BUCKET_ROOT}/backoffice/child/kid/app.css"
    )


@pytest.mark.parametrize(
    "endpoint",
    [
        "static",
        "admin.static",
        "office.static",
        "admin.child.static",
        "office.child.static",
    ],
)
def test_every_static_url_path_is_the_path_flask_serves(
    tmp_path: Path, endpoint: str
) -> None:
    app = make_app(tmp_path, S3_PREFIX="Deploy")
    FlaskS3(app)
    local, remote = local_and_s3(app, endpoint, "app.css")
    assert unquote(urlsplit(remote).path) == "/Deploy" + local
    app.config["USE_S3"] = False
    assert app.test_client().get(local).status_code == 200


def test_jinja_global_is_installed_and_reads_the_switch(tmp_path: Path) -> None:
    """Installed active or not, so that switching on later reaches templates;
    inactive, it renders exactly what plain Flask renders."""
    active = make_app(tmp_path)
    FlaskS3(active)
    assert active.jinja_env.globals["url_for"] is flask_s3.url_for
    inactive = make_app(tmp_path, USE_S3=False)
    FlaskS3().init_app(inactive)
    assert inactive.jinja_env.globals["url_for"] is flask_s3.url_for
    assert inactive.test_client().get("/").get_data(as_text=True) == (
        "/static/css/a%20b.css|/?q=1|/static/x.js"
    )


@pytest.mark.parametrize(
    ("config", "expect_s3"),
    [
        ({}, False),
        ({"USE_S3_DEBUG": True}, True),
        ({"FLASKS3_DEBUG": True}, True),
        ({"FLASKS3_ACTIVE": True}, False),
        ({"USE_S3": False, "USE_S3_DEBUG": True}, False),
    ],
)
def test_debug_mode_rule(
    tmp_path: Path, config: dict[str, Any], expect_s3: bool
) -> None:
    app = make_app(tmp_path, DEBUG=True, **config)
    FlaskS3(app)
    assert app.config["USE_S3"] is expect_s3
    if "FLASKS3_ACTIVE" in config:
        assert app.config["FLASKS3_ACTIVE"] is expect_s3
    _, url = local_and_s3(app, "static", "a.css")
    assert url.startswith(BUCKET_ROOT) is expect_s3


@pytest.mark.parametrize(
    ("config", "expect_s3"),
    [
        ({}, True),
        ({"S3_OVERRIDE_TESTING": False}, False),
        ({"FLASKS3_OVERRIDE_TESTING": False}, False),
        ({"S3_OVERRIDE_TESTING": True}, True),
    ],
)
def test_testing_rule(tmp_path: Path, config: dict[str, Any], expect_s3: bool) -> None:
    app = make_app(tmp_path, TESTING=True, **config)
    FlaskS3(app)
    _, url = local_and_s3(app, "static", "a.css")
    assert url.startswith(BUCKET_ROOT) is expect_s3


def test_testing_locally_needs_no_bucket(tmp_path: Path) -> None:
    app = Flask("t", root_path=str(tmp_path))
    app.config.update(TESTING=True, S3_OVERRIDE_TESTING=False)
    FlaskS3(app)
    with app.test_request_context():
        assert flask_s3.url_for("static", filename="a.css") == "/static/a.css"


def test_url_for_from_app_code_follows_the_live_switch(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    FlaskS3(app)
    assert local_and_s3(app, "static", "a.css")[1] == f"{BUCKET_ROOT}/static/a.css"
    app.config["USE_S3"] = False
    assert local_and_s3(app, "static", "a.css")[1] == "/static/a.css"
    app.config["USE_S3"] = "no"
    with pytest.raises(SettingsError, match="USE_S3 = 'no'"):
        local_and_s3(app, "static", "a.css")


def test_other_endpoints_and_special_values_go_to_flask(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    FlaskS3(app)
    with app.test_request_context():
        assert (
            flask_s3.url_for("index", _external=True, _anchor="x")
            == "http://localhost/#x"
        )
        assert flask_s3.url_for(
            "static", filename="a.css", _external=True, _method="GET", _scheme="http"
        ) == ("http://assets.s3.amazonaws.com/static/a.css")
        with pytest.raises(BuildError):
            flask_s3.url_for("nope.static", filename="a.css")
        with pytest.raises(BuildError):
            flask_s3.url_for("static")


def test_relative_static_outside_a_blueprint_is_the_apps(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    FlaskS3(app)
    with app.app_context():
        assert (
            flask_s3.url_for(".static", filename="a.css")
            == f"{BUCKET_ROOT}/static/a.css"
        )


def test_two_apps_keep_their_own_settings(tmp_path: Path) -> None:
    first = make_app(tmp_path / "one", S3_CDN_DOMAIN="cdn.one.example")
    second = make_app(tmp_path / "two", S3_BUCKET_NAME="other", S3_USE_HTTPS=False)
    extension = FlaskS3()
    extension.init_app(first)
    extension.init_app(second)
    assert (
        local_and_s3(first, "static", "a.css")[1]
        == "https://cdn.one.example/static/a.css"
    )
    assert local_and_s3(second, "static", "a.css")[1] == (
        "http://other.s3.amazonaws.com/static/a.css"
    )
    assert state_of(first) is not state_of(second)


def test_missing_bucket_fails_at_init_naming_the_key(tmp_path: Path) -> None:
    app = Flask("t", root_path=str(tmp_path))
    with pytest.raises(SettingsError, match="S3_BUCKET_NAME") as raised:
        FlaskS3(app)
    assert raised.value.key == "S3_BUCKET_NAME"


def test_bad_setting_fails_at_init(tmp_path: Path) -> None:
    app = make_app(tmp_path, FLASKS3_URL_STYLE="virtual")
    with pytest.raises(SettingsError, match="FLASKS3_URL_STYLE = 'virtual'"):
        FlaskS3(app)


def test_url_for_without_init_app_says_so(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    with app.test_request_context(), pytest.raises(RuntimeError, match="FlaskS3"):
        flask_s3.url_for("static", filename="a.css")


def test_cache_busting_follows_file_content(tmp_path: Path) -> None:
    app = make_app(tmp_path, S3_CACHE_BUSTING=True)
    FlaskS3(app)
    state_of(app).file_hashes = FileHashes(recheck_seconds=0)
    css = tmp_path / "admin_static" / "app.css"

    def version(endpoint: str, filename: str) -> str:
        return urlsplit(local_and_s3(app, endpoint, filename)[1]).query

    first = version("admin.static", "app.css")
    assert first == "v=" + hashlib.sha1(css.read_bytes()).hexdigest()[:12]
    assert version("admin.static", "app.css") == first
    css.write_text("/* changed */")
    assert (
        version("admin.static", "app.css")
        == "v=" + hashlib.sha1(b"/* changed */").hexdigest()[:12]
    )
    assert version("static", "missing.css") == ""
    with pytest.raises(UnsafeFilename):
        version("static", "../admin_static/app.css")


def test_cache_busting_keeps_other_values(tmp_path: Path) -> None:
    app = make_app(tmp_path, S3_CACHE_BUSTING=True)
    FlaskS3(app)
    with app.test_request_context():
        url = flask_s3.url_for("static", filename="app.css", lang="en", _anchor="a")
    digest = hashlib.sha1(b"/* static */").hexdigest()[:12]
    assert url == f"{BUCKET_ROOT}/static/app.css?lang=en&v={digest}#a"


def test_rendering_never_opens_a_connection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(tmp_path, S3_CACHE_BUSTING=True)
    FlaskS3(app)
    client = app.test_client()

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("url_for talked to the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    assert client.get("/admin/page").status_code == 200
    assert client.get("/").status_code == 200
