"""What a user moving from 0.3.x meets first: typos, the version, init twice."""

from __future__ import annotations

import warnings
from typing import Any

import flask
import pytest

import flask_s3
from flask_s3 import FlaskS3
from flask_s3.core.settings_resolution import misspellings
from flask_s3.errors import UnknownSetting


@pytest.mark.parametrize(
    ("typo", "meant"),
    [
        ("S3_ONLY_MODIFED", "S3_ONLY_MODIFIED"),
        ("S3_CACHEBUSTING", "S3_CACHE_BUSTING"),
        ("S3_ENDPOINT", "S3_ENDPOINT_URL"),
        ("FLASKS3_BUCKETNAME", "FLASKS3_BUCKET_NAME"),
    ],
)
def test_a_misspelt_setting_is_named_with_the_one_meant(typo: str, meant: str) -> None:
    (message,) = misspellings({typo: True})
    assert message.startswith(f"{typo} is not a Flask-S3 setting")
    assert message.endswith(f"did you mean {meant}?")


@pytest.mark.parametrize(
    "key", ["S3_MY_APP_UPLOADS", "S3_INVOICE_BUCKET", "SECRET_KEY", "S3_BUCKET_NAME"]
)
def test_the_apps_own_s3_keys_and_ours_are_left_alone(key: str) -> None:
    assert misspellings({key: "x"}) == ()


def test_init_app_warns_of_a_typo_visibly_at_the_callers_line() -> None:
    app = flask.Flask(__name__)
    app.config.update(S3_BUCKET_NAME="shop-assets", S3_ONLY_MODIFED=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.resetwarnings()  # Python's default filters, not pytest's
        FlaskS3(app)
    (warning,) = caught
    assert warning.category is UnknownSetting
    assert "did you mean S3_ONLY_MODIFIED?" in str(warning.message)
    assert warning.filename == __file__


def test_the_version_is_a_string() -> None:
    assert isinstance(flask_s3.__version__, str)
    assert flask_s3.__version__[0].isdigit()


def test_a_second_init_app_is_harmless() -> None:
    app = flask.Flask(__name__)
    app.config["S3_BUCKET_NAME"] = "shop-assets"
    extension = FlaskS3(app)
    extension.init_app(app)
    FlaskS3(app)
    assert [name for name in app.cli.commands if name == "s3"] == ["s3"]
    with app.test_request_context():
        url = flask_s3.url_for("static", filename="a.css")
        rendered = flask.render_template_string(
            "{{ url_for('static', filename='a.css') }}"
        )
    assert url == rendered == "https://shop-assets.s3.amazonaws.com/static/a.css"


@pytest.mark.parametrize(
    ("busting", "url"),
    [
        ("off", "https://shop-assets.s3.amazonaws.com/static/app.css"),
        ("query", "https://shop-assets.s3.amazonaws.com/static/app.css?v=0123456789ab"),
        (
            "filename",
            "https://shop-assets.s3.amazonaws.com/static/app.0123456789ab.css",
        ),
    ],
)
def test_the_plans_example_url_is_the_one_templates_render(
    busting: str, url: str
) -> None:
    from flask_s3.core import resolve_settings
    from flask_s3.core.bucket_survey import missing_bucket
    from flask_s3.core.manifest import Manifest
    from flask_s3.core.plan_report import plan_report
    from flask_s3.core.settings import RunSettings
    from flask_s3.core.static_assets import Asset, StaticRoot
    from flask_s3.core.upload_plan import LocalFile, plan_uploads

    settings = resolve_settings(
        {"S3_BUCKET_NAME": "shop-assets", "S3_CACHE_BUSTING": busting}
    )
    asset = Asset("static/app.css", StaticRoot("/srv/static", "/static"), "app.css")
    local = LocalFile(asset, "0123456789abcdef0123456789abcdef01234567", 10)
    plan = plan_uploads(settings, [local], Manifest(), acl="public-read")
    run = RunSettings(settings, settings.bucket_name)  # type: ignore[arg-type]
    integrity = {asset.local_path: "sha384-..."}
    report = plan_report(plan, run, missing_bucket(), integrity, offline=True)
    assert report.example_url == url


def test_no_credentials_says_where_they_come_from(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    """From Python, the package's error, naming every place credentials are
    read from; never botocore's NoCredentialsError traceback."""
    from flask_s3 import S3Error, create_all

    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_PROFILE",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    static = tmp_path / "static"
    static.mkdir()
    (static / "a.css").write_bytes(b"a {}")
    app = flask.Flask("shop", static_folder=str(static))
    app.config.update(
        S3_BUCKET_NAME="shop-assets", S3_ENDPOINT_URL="http://127.0.0.1:9"
    )
    with pytest.raises(S3Error) as raised:
        create_all(app)
    message = str(raised.value)
    assert message.startswith("no AWS credentials for HeadBucket of bucket")
    for where in ("AWS_ACCESS_KEY_ID", "environment", "AWS_PROFILE", "--user"):
        assert where in message


def _shop(**config: Any) -> flask.Flask:
    app = flask.Flask("shop")
    app.config.update(S3_BUCKET_NAME="shop-assets", **config)
    return app


S3_URL = "https://shop-assets.s3.amazonaws.com/static/a.css"


def _rendered(app: flask.Flask) -> str:
    with app.test_request_context():
        return flask.render_template_string("{{ url_for('static', filename='a.css') }}")


@pytest.mark.parametrize("name", ["FLASKS3_ACTIVE", "USE_S3"])
def test_the_switch_turned_off_after_init_is_read_on_every_call(name: str) -> None:
    """A test fixture that turns the 0.3.x switch off after FlaskS3(app) gets
    local URLs, not a conflict with the USE_S3 that init_app wrote."""
    app = _shop(**{name: True})
    FlaskS3(app)
    assert _rendered(app) == S3_URL
    app.config[name] = False
    assert _rendered(app) == "/static/a.css"
    app.config[name] = True
    assert _rendered(app) == S3_URL


@pytest.mark.parametrize("name", ["FLASKS3_ACTIVE", "USE_S3"])
def test_the_switch_turned_on_after_an_inactive_start_reaches_templates(
    name: str,
) -> None:
    app = _shop(**{name: False})
    FlaskS3(app)
    assert _rendered(app) == "/static/a.css"
    app.config[name] = True
    assert _rendered(app) == S3_URL


def test_the_switch_turned_on_after_a_debug_start_reaches_templates() -> None:
    app = _shop()
    app.debug = True
    FlaskS3(app)
    assert _rendered(app) == "/static/a.css"
    app.config["USE_S3"] = True
    assert _rendered(app) == S3_URL


@pytest.mark.parametrize(
    ("late", "named"),
    [
        ({"S3_PREFIX": "v2"}, "S3_PREFIX"),
        ({"S3_CDN_DOMAIN": "cdn.example.com"}, "S3_CDN_DOMAIN"),
        (
            {"FLASKS3_BUCKET_NAME": "other-bucket", "S3_BUCKET_NAME": "other-bucket"},
            "S3_BUCKET_NAME",
        ),
    ],
)
def test_a_url_setting_changed_after_init_stops_an_upload_naming_it(
    late: dict[str, str], named: str
) -> None:
    """Keys and URLs must never disagree: the upload refuses, before any
    request, what init_app did not see."""
    from flask_s3 import SettingsError, create_all

    app = _shop()
    FlaskS3(app)
    app.config.update(late)
    with pytest.raises(SettingsError) as raised:
        create_all(app)
    assert raised.value.key == named
    assert "set them before init_app" in str(raised.value)
