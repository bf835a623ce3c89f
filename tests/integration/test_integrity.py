"""``integrity()``: the Subresource Integrity value of a static file, for
templates that pin what the bucket or CDN serves.

What a browser does with the value is checked in test_browser.py; here, that
the value is the SHA-384 of the file the URL names, whatever serves it.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import flask
import pytest
from flask import Blueprint, Flask, render_template_string

import flask_s3
from flask_s3 import AssetNotFound, FlaskS3
from flask_s3.adapters.file_hashes import FileHashes
from flask_s3.flask.state import state_of

SCRIPT = b"document.body.dataset.pinned = 'yes';\n"


def sri(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def make_app(tmp_path: Path, **config: Any) -> Flask:
    (tmp_path / "static" / "js").mkdir(parents=True)
    (tmp_path / "static" / "js" / "app.js").write_bytes(SCRIPT)
    (tmp_path / "admin_static").mkdir()
    (tmp_path / "admin_static" / "admin.js").write_bytes(b"/* admin */")
    app = Flask("shop", root_path=str(tmp_path))
    app.config.update({"S3_BUCKET_NAME": "assets", **config})
    admin = Blueprint(
        "admin", "shop", root_path=str(tmp_path), static_folder="admin_static"
    )

    @admin.route("/page")
    def page() -> str:
        return render_template_string("{{ integrity('.static', filename='admin.js') }}")

    app.register_blueprint(admin, url_prefix="/admin")

    @app.route("/")
    def index() -> str:
        return render_template_string(
            "<script src=\"{{ url_for('static', filename='js/app.js') }}\" "
            "integrity=\"{{ integrity('static', filename='js/app.js') }}\" "
            'crossorigin="anonymous"></script>'
        )

    FlaskS3(app)
    return app


@pytest.mark.parametrize(
    "config",
    [{}, {"USE_S3": False}, {"S3_CACHE_BUSTING": "filename"}, {"S3_GZIP": True}],
    ids=["s3", "local", "hashed-copies", "gzip"],
)
def test_a_template_pins_the_sha384_of_the_local_file(
    tmp_path: Path, config: dict[str, Any]
) -> None:
    """The browser checks the decoded body, so gzip changes nothing; and the
    value does not depend on where the URL points."""
    app = make_app(tmp_path, **config)

    page = app.test_client().get("/").get_data(as_text=True)

    assert f'integrity="{sri(SCRIPT)}"' in page


def test_a_blueprints_relative_static_endpoint_is_its_own(tmp_path: Path) -> None:
    app = make_app(tmp_path)

    page = app.test_client().get("/admin/page").get_data(as_text=True)

    assert page == sri(b"/* admin */")


def test_app_code_calls_it_like_url_for(tmp_path: Path) -> None:
    app = make_app(tmp_path)

    with app.test_request_context():
        assert flask_s3.integrity("static", filename="js/app.js") == sri(SCRIPT)
        assert flask_s3.integrity("admin.static", filename="admin.js") == sri(
            b"/* admin */"
        )


def test_the_value_follows_the_file(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    state_of(app).integrity_hashes = FileHashes(algorithm="sha384", recheck_seconds=0)
    script = tmp_path / "static" / "js" / "app.js"

    with app.test_request_context():
        before = flask_s3.integrity("static", filename="js/app.js")
        script.write_bytes(b"/* the next release */")
        after = flask_s3.integrity("static", filename="js/app.js")

    assert (before, after) == (sri(SCRIPT), sri(b"/* the next release */"))


@pytest.mark.parametrize(
    ("endpoint", "filename", "why"),
    [
        ("static", "js/missing.js", "no such file in the static folder"),
        ("static", "js", "no such file in the static folder"),
        ("static", "../app.py", "no such file in the static folder"),
        ("index", "js/app.js", "'index' is not a static endpoint"),
        ("nowhere.static", "js/app.js", "'nowhere.static' is not a static endpoint"),
    ],
)
def test_a_file_it_cannot_pin_is_an_error_naming_endpoint_and_filename(
    tmp_path: Path, endpoint: str, filename: str, why: str
) -> None:
    (tmp_path / "app.py").write_text("SECRET = 1")
    app = make_app(tmp_path)

    with app.test_request_context(), pytest.raises(AssetNotFound) as excinfo:
        flask_s3.integrity(endpoint, filename=filename)

    assert f"integrity({endpoint!r}, filename={filename!r})" in str(excinfo.value)
    assert why in str(excinfo.value)


def test_a_template_naming_a_missing_file_fails_to_render(tmp_path: Path) -> None:
    """A page that silently lost its integrity attribute would load whatever
    the CDN serves."""
    app = make_app(tmp_path)

    with app.test_request_context(), pytest.raises(AssetNotFound, match=r"gone\.js"):
        render_template_string("{{ integrity('static', filename='gone.js') }}")


def test_without_filename_it_says_what_is_missing(tmp_path: Path) -> None:
    app = make_app(tmp_path)

    with app.test_request_context(), pytest.raises(AssetNotFound, match="filename="):
        flask_s3.integrity("static")


def test_it_needs_the_extension(tmp_path: Path) -> None:
    app = Flask("bare", root_path=str(tmp_path))

    with app.test_request_context(), pytest.raises(flask_s3.NotInitialised):
        flask_s3.integrity("static", filename="a.js")


def test_it_is_a_template_global_once_the_extension_runs(tmp_path: Path) -> None:
    app = make_app(tmp_path)

    assert app.jinja_env.globals["integrity"] is flask_s3.integrity
    assert flask.Flask("other").jinja_env.globals.get("integrity") is None


def test_plan_json_gives_each_assets_integrity(tmp_path: Path) -> None:
    app = make_app(tmp_path, S3_CACHE_BUSTING="filename")

    planned = app.test_cli_runner().invoke(args=["s3", "plan", "--offline", "--json"])

    assert planned.exit_code == 0, planned.output
    pins = {
        asset["key"]: asset["integrity"]
        for asset in json.loads(planned.stdout)["assets"]
    }
    hashed = next(
        key
        for key in pins
        if key.startswith("static/js/app.") and key != "static/js/app.js"
    )
    assert pins["static/js/app.js"] == pins[hashed] == sri(SCRIPT)
    assert pins["admin/admin_static/admin.js"] == sri(b"/* admin */")
