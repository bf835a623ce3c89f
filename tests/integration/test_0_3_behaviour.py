"""Flask-S3 0.3.x's own tests of public behaviour, re-expressed against 1.0.

Each test names, in its docstring, the test of 0.3.x's ``test_flask_static.py``
it stands for. They keep 0.3.x's config (its ``FLASKS3_*`` names, its bucket
``foo``, its file names) but check what a user sees: the URLs templates
render, and what lands in a moto bucket. Where 1.0 deliberately behaves
otherwise, the test checks 1.0's behaviour and its docstring says which part
of the README's "Migrating from Flask-S3 0.3.x" section documents the change.
0.3.x's tests of its private helpers have no counterpart here.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from flask import Blueprint, Flask, render_template_string, request

import flask_s3
from flask_s3 import FlaskS3, create_all
from flask_s3.errors import DeprecatedSetting, SettingsError
from tests.conftest import FAKE_ACCESS_KEY
from tests.integration.moto_site import (
    MANIFEST,
    OWNER_ONLY,
    PUBLIC_READ,
    Wire,
    body_of,
    grants,
    keys_in,
)

if TYPE_CHECKING:
    from types_boto3_s3.client import S3Client

BUCKET = "foo"
S3_ROOT = "https://foo.s3.amazonaws.com"
EXPIRES = "Thu, 31 Dec 2037 23:59:59 GMT"


# url_for: 0.3.x's FlaskStaticTest and UrlTests


def url_app(tmp_path: Path, **config: Any) -> Flask:
    """UrlTests' app: testing, bucket ``foo``, the defaults spelled out, a page
    that renders the template it is given, and a blueprint ``admin`` with its
    own static folder and no url_prefix."""
    app = Flask("shop", root_path=str(tmp_path))
    app.testing = True
    app.config.update(
        {
            "FLASKS3_BUCKET_NAME": BUCKET,
            "FLASKS3_USE_HTTPS": True,
            "FLASKS3_BUCKET_DOMAIN": "s3.amazonaws.com",
            "FLASKS3_CDN_DOMAIN": "",
            "FLASKS3_OVERRIDE_TESTING": True,
            **config,
        }
    )

    @app.route("/render")
    def render() -> str:
        return render_template_string(request.args["template"])

    @app.route("/")
    def index() -> str:
        return render_template_string("{{ url_for('index') }}")

    app.register_blueprint(
        Blueprint(
            "admin", "shop", root_path=str(tmp_path), static_folder="admin-static"
        )
    )
    return app


def rendered(app: Flask, template: str) -> str:
    """Initialise Flask-S3 as 0.3.x's ``client_get`` did, then render."""
    FlaskS3(app)
    response = app.test_client().get("/render", query_string={"template": template})
    assert response.status_code == 200
    return response.get_data(as_text=True)


BAH = "{{ url_for('static', filename='bah.js') }}"


def test_the_template_global_becomes_flask_s3_url_for(tmp_path: Path) -> None:
    """0.3.x ``FlaskStaticTest.test_jinja_url_for``.

    Changed: 0.3.x's test initialised an app with no bucket name, which 0.3.x
    accepted until a URL was built. 1.0 refuses an active app without a bucket
    at ``init_app`` (README, migration: "a missing bucket name while active is
    an error naming the key"), so the app here has one."""
    app = Flask("shop", root_path=str(tmp_path))
    app.testing = True
    app.config["FLASKS3_BUCKET_NAME"] = BUCKET
    assert app.jinja_env.globals["url_for"] is not flask_s3.url_for
    FlaskS3(app)
    assert app.jinja_env.globals["url_for"] is flask_s3.url_for


def test_a_missing_bucket_name_is_a_value_error_at_init(tmp_path: Path) -> None:
    """0.3.x ``UrlTests.test_required_config``: no bucket name raises
    ``ValueError``.

    Changed: 0.3.x raised when a template first built a static URL; 1.0 raises
    at ``init_app``, naming the key (README, migration: settings are validated
    at ``init_app``). The error is still a ``ValueError``."""
    app = url_app(tmp_path)
    del app.config["FLASKS3_BUCKET_NAME"]
    with pytest.raises(ValueError, match="S3_BUCKET_NAME") as raised:
        FlaskS3(app)
    assert isinstance(raised.value, SettingsError)


def test_static_urls_point_at_the_bucket_and_others_stay_flasks(
    tmp_path: Path,
) -> None:
    """0.3.x ``UrlTests.test_url_for``."""
    app = url_app(tmp_path)
    assert rendered(app, BAH) == f"{S3_ROOT}/static/bah.js"
    assert app.test_client().get("/").get_data(as_text=True) == "/"


def test_scheme_can_be_chosen_per_call(tmp_path: Path) -> None:
    """0.3.x ``UrlTests.test_url_for_per_url_scheme``."""
    template = "{{ url_for('static', filename='bah.js', _scheme='http') }}"
    assert rendered(url_app(tmp_path), template) == (
        "http://foo.s3.amazonaws.com/static/bah.js"
    )


def test_special_arguments_external_and_method_are_ignored(tmp_path: Path) -> None:
    """0.3.x ``UrlTests.test_url_for_handles_special_args``: ``_external``,
    ``_anchor`` and ``_method`` leave no trace in the URL.

    Changed: 1.0 keeps ``_anchor`` as the URL's fragment, as ``flask.url_for``
    does (README, migration: "`_anchor` is kept as the URL's fragment")."""
    app = url_app(tmp_path)
    ignored = (
        "{{ url_for('static', filename='bah.js', _external=True, _method='GET') }}"
    )
    assert rendered(app, ignored) == f"{S3_ROOT}/static/bah.js"
    anchored = (
        "{{ url_for('static', filename='bah.js',"
        " _external=True, _anchor='foobar', _method='GET') }}"
    )
    assert rendered(url_app(tmp_path), anchored) == f"{S3_ROOT}/static/bah.js#foobar"


def test_debug_mode_gives_local_urls(tmp_path: Path) -> None:
    """0.3.x ``UrlTests.test_url_for_debug``."""
    app = url_app(tmp_path)
    app.debug = True
    assert rendered(app, BAH) == "/static/bah.js"


def test_flasks3_debug_keeps_s3_urls_in_debug_mode(tmp_path: Path) -> None:
    """0.3.x ``UrlTests.test_url_for_debug_override``."""
    app = url_app(tmp_path, FLASKS3_DEBUG=True)
    app.debug = True
    assert rendered(app, BAH) == f"{S3_ROOT}/static/bah.js"


def test_blueprint_static_url(tmp_path: Path) -> None:
    """0.3.x ``UrlTests.test_url_for_blueprint``."""
    template = "{{ url_for('admin.static', filename='bah.js') }}"
    assert rendered(url_app(tmp_path), template) == f"{S3_ROOT}/admin-static/bah.js"


def test_cdn_domain_replaces_bucket_and_domain(tmp_path: Path) -> None:
    """0.3.x ``UrlTests.test_url_for_cdn_domain``."""
    app = url_app(tmp_path, FLASKS3_CDN_DOMAIN="foo.cloudfront.net")
    assert rendered(app, BAH) == "https://foo.cloudfront.net/static/bah.js"


def test_path_url_style(tmp_path: Path) -> None:
    """0.3.x ``UrlTests.test_url_for_url_style_path``."""
    app = url_app(tmp_path, FLASKS3_URL_STYLE="path")
    assert rendered(app, BAH) == "https://s3.amazonaws.com/foo/static/bah.js"


def test_an_invalid_url_style_is_a_value_error_at_init(tmp_path: Path) -> None:
    """0.3.x ``UrlTests.test_url_for_url_style_invalid``: ``ValueError``.

    Changed: 0.3.x raised when a URL was built; 1.0 raises at ``init_app``,
    naming the key and value (README, migration: "an unknown
    `FLASKS3_URL_STYLE` ... is an error naming the key, not a wrong URL
    later"). The error is still a ``ValueError``."""
    app = url_app(tmp_path, FLASKS3_URL_STYLE="balderdash")
    with pytest.raises(ValueError, match="FLASKS3_URL_STYLE = 'balderdash'"):
        FlaskS3(app)


@pytest.mark.parametrize("prefix", ["bar", "/bar", "bar/", "/bar/"])
def test_prefix_goes_in_front_of_static_urls(tmp_path: Path, prefix: str) -> None:
    """0.3.x ``S3Tests.test__url_for_uses_prefix`` (which mocked the URL map;
    here the URL itself is checked)."""
    app = url_app(tmp_path)
    FlaskS3(app)
    with app.test_request_context():
        assert flask_s3.url_for("static", filename="test_file.txt") == (
            f"{S3_ROOT}/static/test_file.txt"
        )
    app = url_app(tmp_path, FLASKS3_PREFIX=prefix)
    FlaskS3(app)
    with app.test_request_context():
        assert flask_s3.url_for("static", filename="test_file.txt") == (
            f"{S3_ROOT}/bar/static/test_file.txt"
        )


# create_all: 0.3.x's S3Tests and S3TestsWithCustomEndpoint


def upload_app(root: Path, static_url_path: str | None = None, **config: Any) -> Flask:
    """S3Tests' config: bucket ``foo``, the deprecated cache-control pair, an
    Expires and a Content-Encoding header, every file sent each run."""
    app = Flask("shop", root_path=str(root), static_url_path=static_url_path)
    app.testing = True
    app.config.update(
        {
            "FLASKS3_BUCKET_NAME": BUCKET,
            "FLASKS3_USE_CACHE_CONTROL": True,
            "FLASKS3_CACHE_CONTROL": "3600",
            "FLASKS3_HEADERS": {"Expires": EXPIRES, "Content-Encoding": "gzip"},
            "FLASKS3_ONLY_MODIFIED": False,
            **config,
        }
    )
    return app


def write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def asset_keys(client: S3Client) -> list[str]:
    return [key for key in keys_in(client, BUCKET) if key != MANIFEST]


def test_deprecated_cache_control_reaches_every_object(
    s3: S3Client, tmp_path: Path
) -> None:
    """0.3.x ``S3Tests.test__cache_config``: ``FLASKS3_USE_CACHE_CONTROL`` and
    ``FLASKS3_CACHE_CONTROL = '3600'`` give uploads ``Cache-Control: 3600``.

    Changed: 0.3.x's test read the header back from
    ``app.config['FLASKS3_HEADERS']``, which its ``init_app`` rewrote; 1.0
    neither merges them into ``app.config`` nor fills in the defaults there
    (README, migration: "`init_app` writes no defaults into `app.config`") and
    warns that the keys are deprecated (README, settings table). What reaches
    S3 is the same."""
    app = upload_app(tmp_path, FLASKS3_HEADERS={})
    write(tmp_path / "static" / "a.css", b"a {}")
    with pytest.warns(DeprecatedSetting, match="FLASKS3_CACHE_CONTROL"):
        FlaskS3(app)
    assert app.config["FLASKS3_HEADERS"] == {}
    assert "FLASKS3_USE_HTTPS" not in app.config
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecatedSetting)
        create_all(app)
    head = s3.head_object(Bucket=BUCKET, Key="static/a.css")
    assert head["CacheControl"] == "3600"


def test_every_static_folder_is_gathered_and_hidden_files_only_on_request(
    s3: S3Client, tmp_path: Path
) -> None:
    """0.3.x ``S3Tests.test__gather_files`` (which mocked ``os.walk``): the
    app's static folder and each blueprint's, subfolders included, under the
    blueprint's ``static_url_path``; a blueprint without a static folder adds
    nothing; a hidden file only with ``include_hidden=True``. (0.3.x's mocked
    folders sat inside the app's static folder, whose mocked walk did not see
    them; here they sit beside it, so each file is served at one path.)"""
    app = upload_app(tmp_path)
    write(tmp_path / "home" / ".a", b"hidden")
    write(tmp_path / "bar" / "b", b"b")
    write(tmp_path / "zoo" / "c", b"c")
    write(tmp_path / "zoo" / "foo" / "d", b"d")
    write(tmp_path / "zoo" / "foo" / "e", b"e")
    app.static_folder = str(tmp_path / "home")
    app.static_url_path = "/static"
    for name, folder, url_path in [
        ("a", "bar", "/a/bar"),
        ("b", "zoo", "/b/bar"),
        ("c", None, None),
    ]:
        app.register_blueprint(
            Blueprint(
                name,
                "shop",
                root_path=str(tmp_path),
                static_folder=folder,
                static_url_path=url_path,
            )
        )
    create_all(app)
    visible = ["a/bar/b", "b/bar/c", "b/bar/foo/d", "b/bar/foo/e"]
    assert asset_keys(s3) == visible
    create_all(app, include_hidden=True)
    assert asset_keys(s3) == sorted([*visible, "static/.a"])
    assert body_of(s3, "static/.a", BUCKET) == b"hidden"


def test_an_empty_static_folder_and_no_blueprints_uploads_nothing(
    s3: S3Client, tmp_path: Path
) -> None:
    """0.3.x ``S3Tests.test__gather_files_no_blueprints_no_files``."""
    app = upload_app(tmp_path)
    (tmp_path / "static").mkdir()
    result = create_all(app)
    assert result.uploaded == ()
    assert asset_keys(s3) == []


def test_a_missing_static_folder_uploads_nothing(s3: S3Client, tmp_path: Path) -> None:
    """0.3.x ``S3Tests.test__gather_files_bad_folder``: a static folder that
    is not a directory is passed over, not an error."""
    app = upload_app(tmp_path)
    app.static_folder = str(tmp_path / "bad")
    result = create_all(app)
    assert result.uploaded == ()
    assert asset_keys(s3) == []


def test_configured_headers_reach_each_object_and_the_bytes_are_untouched(
    s3: S3Client, tmp_path: Path
) -> None:
    """0.3.x ``S3Tests.test__write_files`` (which mocked boto 2's key object):
    the object is written at ``<static url path>/<file>``, with the
    Cache-Control of the deprecated pair and the ``FLASKS3_HEADERS``
    (Expires, Content-Encoding). A Content-Encoding given as a header only
    labels the object: without ``FLASKS3_GZIP`` the bytes are sent as they are.
    0.3.x's ``ex_keys`` argument (keys to leave out) was internal, with no way
    to reach it from ``create_all``."""
    app = upload_app(tmp_path, static_url_path="/foo/static")
    write(tmp_path / "static" / "bar.css", b"bar {}")
    write(tmp_path / "static" / "foo.css", b"foo {}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecatedSetting)
        create_all(app)
    assert asset_keys(s3) == ["foo/static/bar.css", "foo/static/foo.css"]
    head = s3.head_object(Bucket=BUCKET, Key="foo/static/bar.css")
    assert head["CacheControl"] == "3600"
    assert head["ContentEncoding"] == "gzip"
    assert head["ResponseMetadata"]["HTTPHeaders"]["expires"] == EXPIRES
    assert head["Metadata"] == {}
    assert body_of(s3, "foo/static/bar.css", BUCKET) == b"bar {}"


def test_only_modified_uploads_only_the_changed_file(
    s3: S3Client, tmp_path: Path, wire: Wire
) -> None:
    """0.3.x ``S3Tests.test__write_only_modified`` (which called the private
    ``_upload_files`` twice and counted mocked ``put_object`` calls)."""
    app = upload_app(tmp_path, FLASKS3_ONLY_MODIFIED=True)
    write(tmp_path / "static" / "foo.css", b"0")
    write(tmp_path / "static" / "bar.css", b"1")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecatedSetting)
        first = create_all(app)
        assert sorted(first.uploaded) == ["static/bar.css", "static/foo.css"]
        write(tmp_path / "static" / "bar.css", b"2")
        wire.requests.clear()
        second = create_all(app)
    assert second.uploaded == ("static/bar.css",)
    assert second.skipped == ("static/foo.css",)
    assert len(wire.to("static/bar.css")) == 1
    assert wire.to("static/foo.css") == []
    assert body_of(s3, "static/bar.css", BUCKET) == b"2"


def test_a_binary_file_arrives_byte_for_byte(s3: S3Client, tmp_path: Path) -> None:
    """0.3.x ``S3Tests.test_write_binary_file``: a binary file's exact bytes,
    public-read, with the configured Expires and Content-Encoding and no
    metadata.

    Changed: 0.3.x sent no Content-Type here (no ``FLASKS3_GZIP`` or
    ``FLASKS3_FORCE_MIMETYPE``); 1.0 sends one with every object (README,
    migration: "Every object gets a `Content-Type`")."""
    data = bytes([120, 3, 255, 0, 100])
    app = upload_app(
        tmp_path,
        FLASKS3_ONLY_MODIFIED=True,
        FLASKS3_HEADERS={"Expires": EXPIRES, "Content-Encoding": "gzip"},
    )
    app.config.pop("FLASKS3_USE_CACHE_CONTROL")
    app.config.pop("FLASKS3_CACHE_CONTROL")
    write(tmp_path / "static" / "favicon.ico", data)
    create_all(app)
    assert body_of(s3, "static/favicon.ico", BUCKET) == data
    head = s3.head_object(Bucket=BUCKET, Key="static/favicon.ico")
    assert head["ContentEncoding"] == "gzip"
    assert head["ResponseMetadata"]["HTTPHeaders"]["expires"] == EXPIRES
    assert head["Metadata"] == {}
    assert head["ContentType"] in ("image/vnd.microsoft.icon", "image/x-icon")
    assert grants(s3.get_object_acl(Bucket=BUCKET, Key="static/favicon.ico")) == (
        PUBLIC_READ
    )


def test_put_bucket_acl_false_leaves_the_bucket_acl_alone(
    s3: S3Client, tmp_path: Path, wire: Wire
) -> None:
    """0.3.x ``S3Tests.test__bucket_acl_not_set``; and, by default, the
    bucket is made public-read as 0.3.x did."""
    write(tmp_path / "one" / "static" / "a.css", b"a {}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecatedSetting)
        create_all(upload_app(tmp_path / "one"), put_bucket_acl=False)
        assert wire.bucket_acl_puts == []
        assert grants(s3.get_bucket_acl(Bucket=BUCKET)) == OWNER_ONLY
        create_all(upload_app(tmp_path / "one"))
    assert len(wire.bucket_acl_puts) == 1
    assert grants(s3.get_bucket_acl(Bucket=BUCKET)) == PUBLIC_READ


@pytest.mark.parametrize("prefix", ["", "foo", "/foo", "foo/", "/foo/"])
def test_prefix_goes_in_front_of_every_key(
    s3: S3Client, tmp_path: Path, prefix: str
) -> None:
    """0.3.x ``S3Tests.test__upload_uses_prefix`` (which mocked the private
    ``_write_files`` and checked the URL path it was given)."""
    app = upload_app(tmp_path, FLASKS3_PREFIX=prefix)
    write(tmp_path / "static" / "file1", b"1")
    write(tmp_path / "static" / "file2", b"2")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecatedSetting)
        create_all(app)
    base = "foo/" if prefix else ""
    assert [key for key in keys_in(s3, BUCKET) if not key.endswith(MANIFEST)] == [
        f"{base}static/file1",
        f"{base}static/file2",
    ]


def test_a_custom_endpoint_receives_the_upload_with_the_configs_credentials(
    server_s3: S3Client, moto_endpoint: str, tmp_path: Path, wire: Wire
) -> None:
    """0.3.x ``S3TestsWithCustomEndpoint.test__custom_endpoint_is_passed_to_boto``
    (which checked the mocked ``boto3.client`` call): with
    ``FLASKS3_ENDPOINT_URL`` (trailing slash and all), ``FLASKS3_REGION`` and
    the config's key pair, the files arrive at that endpoint, signed with
    that key for that region."""
    app = Flask("shop", root_path=str(tmp_path))
    app.testing = True
    app.config.update(
        FLASKS3_BUCKET_NAME="thebucket",
        FLASKS3_REGION="theregion",
        AWS_ACCESS_KEY_ID="AKIATHEKEYIDTHEKEYID",
        AWS_SECRET_ACCESS_KEY="thesecretkey",
        FLASKS3_ENDPOINT_URL=moto_endpoint + "/",
    )
    write(tmp_path / "static" / "foo.js", b"foo();")
    result = create_all(app)
    assert result.uploaded == ("static/foo.js",)
    assert body_of(server_s3, "static/foo.js", "thebucket") == b"foo();"
    assert wire.requests
    for sent in wire.requests:
        assert sent.url.startswith(moto_endpoint + "/"), sent.url
        assert sent.access_key == "AKIATHEKEYIDTHEKEYID"
        assert sent.access_key != FAKE_ACCESS_KEY
        assert "/theregion/s3/aws4_request" in sent.headers["Authorization"]
