"""``url_for`` arguments that come from requests or users (issue 14).

Templates pass request data to ``url_for``: ``_scheme=request.scheme`` behind
a proxy, filenames and extra values from the query. None of it may move an
asset URL off the bucket, and bad input fails with the package's own error.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import flask
import pytest
from flask import Flask, render_template_string, request
from werkzeug.middleware.proxy_fix import ProxyFix

import flask_s3
from flask_s3 import FlaskS3
from flask_s3.errors import InvalidUrlArgument, UnsafeFilename


def make_app(tmp_path: Path, **config: Any) -> Flask:
    (tmp_path / "static" / "css").mkdir(parents=True)
    (tmp_path / "static" / "css" / "a.css").write_text("/* a */")
    app = Flask("shop", root_path=str(tmp_path))
    app.config.update({"S3_BUCKET_NAME": "assets", **config})
    FlaskS3(app)
    return app


def test_a_forwarded_proto_cannot_choose_the_script_host(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1)  # type: ignore[method-assign]

    @app.route("/")
    def page() -> str:
        return render_template_string(
            "{{ url_for('static', filename='css/a.css', _scheme=request.scheme,"
            " _external=True) }}"
        )

    client = app.test_client()
    assert client.get("/", headers={"X-Forwarded-Proto": "https"}).text == (
        "https://assets.s3.amazonaws.com/static/css/a.css"
    )
    app.testing = False  # the error must reach the error handler, not the client
    answer = client.get("/", headers={"X-Forwarded-Proto": "https://evil.example/x?"})
    assert answer.status_code == 500
    assert b"evil.example" not in answer.data


def test_a_bad_scheme_raises_the_packages_error(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    with (
        app.test_request_context(),
        pytest.raises(InvalidUrlArgument, match="javascript"),
    ):
        flask_s3.url_for(
            "static", filename="css/a.css", _scheme="javascript", _external=True
        )


def test_a_nul_in_the_filename_is_the_packages_error_with_cache_busting(
    tmp_path: Path,
) -> None:
    app = make_app(tmp_path, S3_CACHE_BUSTING=True)
    with app.test_request_context():
        for values in ({}, {"q": "1"}):
            with pytest.raises(UnsafeFilename, match=r"css/a\\x00\.css"):
                flask_s3.url_for("static", filename="css/a\x00.css", **values)


@pytest.mark.parametrize(
    "value",
    [["1", None, 2], ("a", "b"), frozenset({"1"}), b"x y", True, 1, 1.5, None],
)
def test_extra_values_render_as_flask_renders_them(tmp_path: Path, value: Any) -> None:
    app = make_app(tmp_path)
    with app.test_request_context():
        local = flask.url_for("static", filename="css/a.css", x=value)
        s3 = flask_s3.url_for("static", filename="css/a.css", x=value)
    assert s3 == "https://assets.s3.amazonaws.com" + local


def test_a_set_renders_one_pair_per_item(tmp_path: Path) -> None:
    """As Werkzeug renders it since 3.0 (2.3 pasted the set's repr)."""
    app = make_app(tmp_path)
    with app.test_request_context():
        s3 = flask_s3.url_for("static", filename="css/a.css", x={"1"})
    assert s3 == "https://assets.s3.amazonaws.com/static/css/a.css?x=1"


def test_a_leading_slash_gets_the_digest_of_the_file_it_names(tmp_path: Path) -> None:
    app = make_app(tmp_path, S3_CACHE_BUSTING=True)
    digest = hashlib.sha1(b"/* a */").hexdigest()[:12]
    with app.test_request_context():
        for name in ("css/a.css", "/css/a.css", "css//a.css", "x/../css/a.css"):
            assert flask_s3.url_for("static", filename=name) == (
                f"https://assets.s3.amazonaws.com/static/css/a.css?v={digest}"
            )


def test_the_request_scheme_is_used_as_given(tmp_path: Path) -> None:
    app = make_app(tmp_path, S3_USE_HTTPS=False)
    with app.test_request_context(base_url="https://shop.example/"):
        assert request.scheme == "https"
        assert (
            flask_s3.url_for(
                "static", filename="css/a.css", _scheme=request.scheme, _external=True
            )
            == "https://assets.s3.amazonaws.com/static/css/a.css"
        )
