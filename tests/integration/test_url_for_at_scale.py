"""``url_for`` on a site with more static files than a page has links: every
file is hashed once, a link without cache busting never looks at the disk,
a missing route is not looked for again and again, and no cache grows with
names a user makes up (issue 15).

Speed itself is bench/url_for.py's business; these tests count work instead.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from flask import Blueprint, Flask
from werkzeug.routing import BuildError

import flask_s3
import flask_s3.adapters.file_hashes as file_hashes
import flask_s3.flask.state as state_module
from flask_s3 import FlaskS3, SettingsError, url_for
from flask_s3.flask.state import state_of
from flask_s3.flask.static_roots import static_root

FILES = 10_000
"""More than the 4,096 entries the caches held before issue 15."""
BUCKET_URL = "https://assets.s3.amazonaws.com"


def names(count: int) -> list[str]:
    return [f"img/{number % 97}/{number}.png" for number in range(count)]


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("catalogue")
    for name in names(FILES):
        path = root / "static" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(name.encode())
    return root


def make_app(root: Path, **config: Any) -> Flask:
    app = Flask("catalogue", root_path=str(root))
    app.config.update({"S3_BUCKET_NAME": "assets", **config})
    app.add_url_rule("/", "index", lambda: "")
    FlaskS3(app)
    return app


@pytest.fixture
def hashed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The path of every file hashed while the test runs."""
    calls: list[str] = []
    real = file_hashes.stable_digest

    def counting(path: str, *args: Any, **kwargs: Any) -> Any:
        calls.append(path)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(file_hashes, "stable_digest", counting)
    return calls


@pytest.mark.parametrize("busting", ["query", "filename"])
def test_each_of_ten_thousand_files_is_hashed_once(
    catalogue: Path, hashed: list[str], busting: str
) -> None:
    app = make_app(catalogue, S3_CACHE_BUSTING=busting)

    with app.test_request_context():
        for _ in range(3):
            urls = [url_for("static", filename=name) for name in names(FILES)]

    assert len(hashed) == len(set(hashed)) == FILES
    assert len(set(urls)) == FILES
    assert all(url.startswith(BUCKET_URL) for url in urls)


def test_integrity_of_ten_thousand_files_hashes_each_once(
    catalogue: Path, hashed: list[str]
) -> None:
    app = make_app(catalogue)

    with app.test_request_context():
        for _ in range(2):
            for name in names(FILES):
                flask_s3.integrity("static", filename=name)

    assert len(hashed) == len(set(hashed)) == FILES


def _refuse(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError(f"looked at the disk: {args!r}")


def test_without_cache_busting_url_for_never_looks_at_the_disk(
    catalogue: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(catalogue)

    with app.test_request_context(), monkeypatch.context() as patch:
        for module, name in (
            (os, "stat"),
            (os, "lstat"),
            (os, "open"),
            (state_module, "safe_join"),
        ):
            patch.setattr(module, name, _refuse)
        plain = url_for("static", filename="img/0/0.png")
        extra = url_for("static", filename="img/0/0.png", size="small")
        missing = url_for("static", filename="no/such/file.png")

    assert plain == f"{BUCKET_URL}/static/img/0/0.png"
    assert extra == f"{BUCKET_URL}/static/img/0/0.png?size=small"
    assert missing == f"{BUCKET_URL}/static/no/such/file.png"


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The endpoints looked up in the URL map while the test runs."""
    calls: list[str] = []

    def counting(app: Flask, endpoint: str) -> Any:
        calls.append(endpoint)
        return static_root(app, endpoint)

    monkeypatch.setattr("flask_s3.flask.state.static_root", counting)
    return calls


def test_a_missing_static_route_is_looked_up_once_after_the_first_request(
    catalogue: Path, lookups: list[str]
) -> None:
    app = make_app(catalogue)
    app.test_client().get("/")

    with app.test_request_context():
        for _ in range(5):
            with pytest.raises(BuildError):
                url_for("shop.static", filename="app.css")

    assert lookups == ["shop.static"]


def test_a_miss_before_the_first_request_does_not_hide_a_later_blueprint(
    catalogue: Path, tmp_path: Path
) -> None:
    """Flask lets a blueprint be registered until the app handles a request,
    so a miss before then may become a hit."""
    app = make_app(catalogue)
    with app.test_request_context(), pytest.raises(BuildError):
        url_for("shop.static", filename="app.css")

    (tmp_path / "shop_static").mkdir()
    shop = Blueprint(
        "shop", "shop", root_path=str(tmp_path), static_folder="shop_static"
    )
    app.register_blueprint(shop, url_prefix="/shop")

    with app.test_request_context():
        url = url_for("shop.static", filename="app.css")
    assert url == f"{BUCKET_URL}/shop/shop_static/app.css"


def test_caches_stay_bounded_with_names_from_users(catalogue: Path) -> None:
    app = make_app(catalogue, S3_CACHE_BUSTING="query", S3_URL_CACHE_SIZE=50)
    app.test_client().get("/")
    state = state_of(app)

    with app.test_request_context():
        for number, name in enumerate(names(500)):
            url_for("static", filename=name)
            url_for("static", filename=f"made/up/{number}.png")
            url_for("static", filename=name, page=number)
            flask_s3.integrity("static", filename=name)
            with pytest.raises(BuildError):
                url_for(f"made-up-{number}.static", filename=name)

    assert state.urls.plain_url.cache_info().currsize == 50
    assert state.urls.quoted_key.cache_info().currsize == 50
    assert state.urls._query.cache_info().currsize == 50
    assert state._local_paths.cache_info().currsize == 50
    assert len(state.file_hashes._entries) == 50
    assert len(state.integrity_hashes._entries) == 50
    assert len(state._roots) == 50


def test_the_switch_is_decided_again_when_a_value_changes(catalogue: Path) -> None:
    """It is re-read on every call but decided again only when a value is
    another object, and ``1 == True``: the identity is what counts."""
    app = make_app(catalogue, S3_OVERRIDE_TESTING=False)

    with app.test_request_context():
        assert url_for("static", filename="a.css").startswith(BUCKET_URL)
        app.config["TESTING"] = True
        assert url_for("static", filename="a.css") == "/static/a.css"
        app.config["TESTING"] = False
        app.config["USE_S3"] = False
        assert url_for("static", filename="a.css") == "/static/a.css"
        app.config["USE_S3"] = 1
        with pytest.raises(SettingsError, match="USE_S3"):
            url_for("static", filename="a.css")
        app.config["USE_S3"] = True
        assert url_for("static", filename="a.css").startswith(BUCKET_URL)
