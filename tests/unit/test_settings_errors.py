"""A setting of the wrong type or shape fails at resolution, naming the key.

Each error names the key the user wrote, shows the bad value (except the
secret, which is masked) and says what was expected, in the words of the
field's metadata. The deprecated ``*_CACHE_CONTROL`` keys are checked here too.
"""

from __future__ import annotations

import warnings
from typing import Any

import attrs
import pytest

from flask_s3.core import Settings, SettingsError, resolve_settings
from flask_s3.core.settings import config_keys, expectation
from flask_s3.core.settings_resolution import deprecations, resolve_override

FAKE_SECRET = "fake-secret-DO-NOT-LEAK-0123456789abcdef"
FIELDS = {field.name: field for field in attrs.fields(Settings)}

# field name -> values of the wrong type or shape for it.
BAD: dict[str, list[Any]] = {
    "bucket_name": [
        123,
        b"shop-assets",
        ["shop-assets"],
        True,
        "Bad_Bucket!",
        "ab",
        "a" * 64,
        "shop..assets",
        "-shop",
        "192.168.1.1",
        "Shop-Assets",
    ],
    "bucket_domain": [
        "https://s3.example.org",
        "http://s3.example.org",
        "/",
        5,
        ["s3.example.org"],
        "s3.example.org/a/../b",
        "127.0.0.1:99999",
        "[::g]:9000",
    ],
    "cdn_domain": [
        "https://cdn.example.com",
        "//",
        True,
        "cdn example.com",
        "//cdn.example.com",
        "https:/cdn.example.com",
        "https//cdn.example.com",
        "cdn.example.com?x=1",
        "cdn.example.com#top",
        "cdn.example.com/a b",
        "cdn.example.com/./x",
        "cdn.example.com/%2e%2e/x",
        "cdn.example.com:port",
        "évil.example",
        "cdn\ud800.example",
        "cdn.example.com\\x",
    ],
    "use_https": ["false", 1, 0, None, ""],
    "active": ["false", 1, 0, None],
    "debug": ["true", 1, "yes"],
    "headers": [
        [("Cache-Control", "max-age=60")],
        "Cache-Control: max-age=60",
        {"Cache-Control": 3600},
        {"Cache-Control": None},
        {"Cache-Control": ["max-age=60"]},
        {1: "x"},
        None,
    ],
    "only_modified": ["yes", 1],
    "cache_busting": ["False", 0, "fingerprint", None],
    "url_cache_size": [0, 1048577, "4096", 4096.0, True, None],
    "access_key_id": [12345, True, b"AKIAEXAMPLE"],
    "secret_access_key": [FAKE_SECRET.encode(), [FAKE_SECRET], {FAKE_SECRET: 1}],
    "session_token": [5, b"token"],
    "region": [
        1,
        ["eu-west-1"],
        True,
        "EU-WEST-1",
        "us east 1",
        "eu-west",
        "s3.eu-west-1",
    ],
    "endpoint_url": [
        "localhost:9000",
        "minio.example.org",
        "ftp://minio.example.org",
        "http://",
        "//minio.example.org",
        9000,
        "http://minio example.org",
        "http://minio.example.org:9000?x=1",
        "http://minio.example.org:0",
        "http://minio.example.org\n",
    ],
    "url_style": ["virtual", "Host", "PATH", True, ["host"]],
    "addressing_style": ["host", "Path", True, ["path"]],
    "request_checksums": ["always", "WHEN_REQUIRED", True, ["when_required"]],
    "prefix": [None, 5, ["static"], "../other", "a/../b", ".", "a/./b", "x/\ud800"],
    "gzip": ["false", 1],
    "gzip_only_exts": [".css", b".css", [".css", 1], {".css": True}, None],
    "force_mimetype": ["True", 1],
    "filepath_headers": [
        {"(": {"Cache-Control": "no-cache"}},
        {r"[a-": {"Cache-Control": "no-cache"}},
        {r"\.css$": "max-age=60"},
        {r"\.css$": {"Cache-Control": 60}},
        {1: {"Cache-Control": "no-cache"}},
        [(r"\.css$", {"Cache-Control": "no-cache"})],
    ],
    "override_testing": ["no", 0],
    "object_acl": ["public", "PUBLIC-READ", True, 1],
    "upload_concurrency": [0, 257, "4", 4.0, True],
    "connect_timeout": [0, -1, "10", True, 7200],
    "read_timeout": [0, "60", None],
    "max_attempts": [0, 21, "5", 2.5],
    "prune": ["yes", 1],
    "prune_keep": [0, 101, "2", True],
    "cors_origins": [
        "https://shop.example",
        "https://shop.example/",
        ["https://shop.example/"],
        ["https://Shop.example"],
        ["https://shop.example:443"],
        ["http://shop.example:80"],
        ["shop.example"],
        ["https://shop.example/path"],
        ["https://user@shop.example"],
        ["https://shop.example:99999"],
        [],
        [5],
        True,
    ],
    "cloudfront_distribution_id": [5, ["E2EXAMPLE"]],
}

CASES = [
    pytest.param(name, key, bad, id=f"{key}={bad!r}")
    for name, bads in BAD.items()
    for key in config_keys(FIELDS[name])
    for bad in bads
]


def resolved_with_deprecation(config: dict[str, Any]) -> Settings:
    """The core reports deprecated keys as data; the Flask layer warns."""
    assert any("S3_HEADERS" in message for message in deprecations(config))
    return resolve_settings(config)


def test_every_setting_has_bad_values() -> None:
    assert list(BAD) == list(FIELDS)
    assert all(BAD.values())


@pytest.mark.parametrize(("name", "key", "bad"), CASES)
def test_a_bad_value_is_an_error_naming_the_key_value_and_expectation(
    name: str, key: str, bad: Any
) -> None:
    with pytest.raises(SettingsError) as excinfo:
        resolve_settings({key: bad})

    message = str(excinfo.value)
    assert excinfo.value.key == key
    assert key in message
    assert expectation(FIELDS[name]) in message
    if name in ("secret_access_key", "session_token"):
        assert "'***'" in message
        assert FAKE_SECRET not in message
        assert repr(bad) not in message
    else:
        assert repr(bad) in message


def test_error_message_format_for_a_string_given_to_a_bool() -> None:
    with pytest.raises(SettingsError) as excinfo:
        resolve_settings({"S3_USE_HTTPS": "false"})

    assert str(excinfo.value).startswith(
        "S3_USE_HTTPS = 'false' is invalid: expected True or False"
    )


@pytest.mark.parametrize("key", ["S3_HEADERS", "FLASKS3_HEADERS"])
def test_a_cors_header_on_objects_points_at_s3_cors_origins(key: str) -> None:
    with pytest.raises(SettingsError) as excinfo:
        resolve_settings({key: {"access-control-allow-origin": "*"}})

    assert excinfo.value.key == key
    assert "'access-control-allow-origin'" in str(excinfo.value)
    assert "S3_CORS_ORIGINS" in str(excinfo.value)


def test_a_cors_header_for_some_paths_points_at_s3_cors_origins() -> None:
    config = {
        "S3_FILEPATH_HEADERS": {
            r"\.css$": {"Cache-Control": "no-cache"},
            r"\.woff2$": {"Access-Control-Allow-Origin": "*"},
        }
    }
    with pytest.raises(SettingsError) as excinfo:
        resolve_settings(config)

    assert excinfo.value.key == "S3_FILEPATH_HEADERS"
    assert "'Access-Control-Allow-Origin'" in str(excinfo.value)
    assert "S3_CORS_ORIGINS" in str(excinfo.value)


def test_a_single_origin_not_in_a_list_says_how_to_write_it() -> None:
    with pytest.raises(SettingsError) as excinfo:
        resolve_settings({"S3_CORS_ORIGINS": "https://shop.example"})

    assert "['https://shop.example']" in str(excinfo.value)


def test_cors_origins_are_kept_in_order_without_repeats() -> None:
    settings = resolve_settings(
        {"S3_CORS_ORIGINS": ["https://b.example", "*", "https://b.example"]}
    )

    assert settings.cors_origins == ("https://b.example", "*")


def test_a_domain_with_a_scheme_says_why() -> None:
    with pytest.raises(SettingsError) as excinfo:
        resolve_settings({"FLASKS3_CDN_DOMAIN": "https://cdn.example.com"})

    assert excinfo.value.key == "FLASKS3_CDN_DOMAIN"
    assert "scheme" in str(excinfo.value)


def test_an_invalid_regex_key_is_named_in_the_message() -> None:
    with pytest.raises(SettingsError) as excinfo:
        resolve_settings({"S3_FILEPATH_HEADERS": {r"\.css$": {}, "(": {}}})

    assert excinfo.value.key == "S3_FILEPATH_HEADERS"
    assert "'(' is not a regular expression" in str(excinfo.value)


def test_the_secret_is_masked_when_another_setting_fails() -> None:
    with pytest.raises(SettingsError) as excinfo:
        resolve_settings({"AWS_SECRET_ACCESS_KEY": FAKE_SECRET, "S3_GZIP": "yes"})

    assert excinfo.value.key == "S3_GZIP"
    assert FAKE_SECRET not in str(excinfo.value)
    assert "AWS_SECRET_ACCESS_KEY" not in str(excinfo.value)


def test_several_bad_settings_make_one_error_mentioning_all_of_them() -> None:
    config: dict[str, Any] = {
        "S3_BUCKET_NAME": "shop-assets",
        "S3_GZIP": "false",
        "FLASKS3_USE_HTTPS": 1,
        "S3_URL_STYLE": "virtual",
        "FLASKS3_GZIP_ONLY_EXTS": ".css",
        "S3_ENDPOINT_URL": "localhost:9000",
        "AWS_SECRET_ACCESS_KEY": FAKE_SECRET.encode(),
    }
    bad = {key: value for key, value in config.items() if key != "S3_BUCKET_NAME"}

    with pytest.raises(SettingsError) as excinfo:
        resolve_settings(config)

    message = str(excinfo.value)
    assert excinfo.value.key in bad
    for key, value in bad.items():
        assert f"{key} = " in message
        if key != "AWS_SECRET_ACCESS_KEY":
            assert repr(value) in message
    for expected in ("True or False", "'host' or 'path'", "an http:// or https:// URL"):
        assert expected in message
    assert "S3_BUCKET_NAME" not in message
    assert FAKE_SECRET not in message
    assert message.count(" is invalid: ") == len(bad)


# --- deprecated S3_CACHE_CONTROL / S3_USE_CACHE_CONTROL ---------------------

CACHE_CONTROL_KEYS = ["S3_CACHE_CONTROL", "FLASKS3_CACHE_CONTROL"]
USE_CACHE_CONTROL_KEYS = ["S3_USE_CACHE_CONTROL", "FLASKS3_USE_CACHE_CONTROL"]
DEPRECATED_PAIRS = [
    pytest.param(cc, use, id=f"{cc}+{use}")
    for cc in CACHE_CONTROL_KEYS
    for use in USE_CACHE_CONTROL_KEYS
]


@pytest.mark.parametrize(("cc_key", "use_key"), DEPRECATED_PAIRS)
def test_deprecated_cache_control_is_merged_when_used(
    cc_key: str, use_key: str
) -> None:
    settings = resolved_with_deprecation({cc_key: "max-age=31536000", use_key: True})

    assert settings.headers == {"Cache-Control": "max-age=31536000"}


@pytest.mark.parametrize("headers_key", ["S3_HEADERS", "FLASKS3_HEADERS"])
def test_deprecated_cache_control_is_added_to_the_other_headers(
    headers_key: str,
) -> None:
    config = {
        headers_key: {"X-Shop": "tea"},
        "S3_CACHE_CONTROL": "no-cache",
        "S3_USE_CACHE_CONTROL": True,
    }

    settings = resolved_with_deprecation(config)

    assert settings.headers == {"X-Shop": "tea", "Cache-Control": "no-cache"}
    assert config[headers_key] == {"X-Shop": "tea"}


@pytest.mark.parametrize(
    "config",
    [
        pytest.param({"S3_CACHE_CONTROL": "no-cache"}, id="cache-control-alone"),
        pytest.param(
            {"FLASKS3_CACHE_CONTROL": "no-cache"}, id="legacy-cache-control-alone"
        ),
        pytest.param(
            {"S3_CACHE_CONTROL": "no-cache", "S3_USE_CACHE_CONTROL": False},
            id="use-false",
        ),
        pytest.param(
            {"FLASKS3_CACHE_CONTROL": "no-cache", "FLASKS3_USE_CACHE_CONTROL": False},
            id="legacy-use-false",
        ),
        pytest.param({"S3_USE_CACHE_CONTROL": True}, id="use-alone"),
        pytest.param({"FLASKS3_USE_CACHE_CONTROL": True}, id="legacy-use-alone"),
        pytest.param({"S3_USE_CACHE_CONTROL": False}, id="use-false-alone"),
        pytest.param(
            {
                "S3_HEADERS": {"Cache-Control": "max-age=60"},
                "S3_CACHE_CONTROL": "no-cache",
                "S3_USE_CACHE_CONTROL": False,
            },
            id="unused-conflict",
        ),
    ],
)
def test_deprecated_keys_warn_but_are_not_merged_unless_used(
    config: dict[str, Any],
) -> None:
    headers = config.get("S3_HEADERS", {})

    settings = resolved_with_deprecation(config)

    assert settings.headers == headers


def test_no_deprecation_warning_without_the_deprecated_keys() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        settings = resolve_settings({"S3_HEADERS": {"Cache-Control": "no-cache"}})

    assert settings.headers == {"Cache-Control": "no-cache"}


@pytest.mark.parametrize("cc_key", CACHE_CONTROL_KEYS)
@pytest.mark.parametrize("header", ["Cache-Control", "cache-control", "CACHE-CONTROL"])
def test_a_conflicting_cache_control_header_is_an_error_naming_the_deprecated_key(
    cc_key: str, header: str
) -> None:
    config = {
        "S3_HEADERS": {header: "max-age=60"},
        cc_key: "no-cache",
        "S3_USE_CACHE_CONTROL": True,
    }

    assert deprecations(config)
    with pytest.raises(SettingsError) as excinfo:
        resolve_settings(config)

    message = str(excinfo.value)
    assert excinfo.value.key == cc_key
    assert cc_key in message
    assert "'no-cache'" in message
    assert "'max-age=60'" in message
    assert repr(header) in message


@pytest.mark.parametrize("cc_key", CACHE_CONTROL_KEYS)
def test_a_matching_cache_control_header_is_fine(cc_key: str) -> None:
    config = {
        "S3_HEADERS": {"Cache-Control": "no-cache", "X-Shop": "tea"},
        cc_key: "no-cache",
        "FLASKS3_USE_CACHE_CONTROL": True,
    }

    settings = resolved_with_deprecation(config)

    assert settings.headers == {"Cache-Control": "no-cache", "X-Shop": "tea"}


@pytest.mark.parametrize(
    ("key", "bad", "expects"),
    [
        ("S3_CACHE_CONTROL", 3600, "a string"),
        ("FLASKS3_CACHE_CONTROL", ["no-cache"], "a string"),
        ("S3_USE_CACHE_CONTROL", "yes", "True or False"),
        ("FLASKS3_USE_CACHE_CONTROL", 1, "True or False"),
    ],
)
def test_a_bad_deprecated_value_is_an_error_naming_the_key(
    key: str, bad: Any, expects: str
) -> None:
    with pytest.raises(SettingsError) as excinfo:
        resolve_settings({key: bad})

    message = str(excinfo.value)
    assert excinfo.value.key == key
    assert key in message
    assert repr(bad) in message
    assert expects in message


def test_both_names_of_a_deprecated_key_disagreeing_is_an_error() -> None:
    config = {
        "S3_CACHE_CONTROL": "no-cache",
        "FLASKS3_CACHE_CONTROL": "max-age=60",
        "S3_USE_CACHE_CONTROL": True,
    }

    with pytest.raises(SettingsError) as excinfo:
        resolve_settings(config)

    message = str(excinfo.value)
    assert excinfo.value.key in ("S3_CACHE_CONTROL", "FLASKS3_CACHE_CONTROL")
    assert "S3_CACHE_CONTROL = 'no-cache'" in message
    assert "FLASKS3_CACHE_CONTROL = 'max-age=60'" in message


def test_init_app_warns_of_deprecated_keys_at_the_callers_line() -> None:
    """Python's default filters hide a DeprecationWarning raised in a library;
    this one is shown, and it points at the line that called FlaskS3(app)."""
    import flask

    from flask_s3 import FlaskS3
    from flask_s3.errors import DeprecatedSetting

    app = flask.Flask(__name__)
    app.config.update(S3_BUCKET_NAME="shop-assets", S3_CACHE_CONTROL="no-cache")
    with warnings.catch_warnings(record=True) as caught:
        warnings.resetwarnings()  # Python's defaults, not pytest's
        FlaskS3(app)
    (warning,) = caught
    assert warning.category is DeprecatedSetting
    assert issubclass(DeprecatedSetting, FutureWarning)  # shown by default
    assert "S3_CACHE_CONTROL is deprecated" in str(warning.message)
    assert warning.filename == __file__


def test_settings_are_values() -> None:
    """Frozen means frozen: no mutable dict behind a frozen class, and equal
    settings hash equal, so they can key a cache."""
    config = {
        "S3_BUCKET_NAME": "shop-assets",
        "S3_HEADERS": {"X-Shop": "tea"},
        "S3_FILEPATH_HEADERS": {r"\.css$": {"Cache-Control": "no-cache"}},
    }
    settings = resolve_settings(config)
    with pytest.raises(TypeError):
        settings.headers["X-Other"] = "y"  # type: ignore[index]
    with pytest.raises(TypeError):
        settings.filepath_headers[r"\.css$"]["X"] = "y"  # type: ignore[index]
    assert hash(settings) == hash(resolve_settings(config))
    assert settings == resolve_settings(config)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("S3_CDN_DOMAIN", "cdn.example.com/assets"),
        ("S3_CDN_DOMAIN", "cdn.example.com/assets/v%202/"),
        ("S3_CDN_DOMAIN", "CDN.Example.com."),
        ("S3_BUCKET_DOMAIN", "127.0.0.1:9000"),
        ("S3_BUCKET_DOMAIN", "[::1]:9000"),
        ("S3_BUCKET_DOMAIN", "[2001:db8::1]/s3"),
        ("S3_BUCKET_DOMAIN", "xn--bcher-kva.example"),
        ("S3_ENDPOINT_URL", "http://[::1]:9000"),
        ("S3_ENDPOINT_URL", "https://minio.example.org:9000/"),
        ("S3_PREFIX", "a..b/...c/.d/e."),
    ],
)
def test_hosts_ports_paths_and_dotted_names_are_fine(key: str, value: str) -> None:
    (name,) = (name for name in FIELDS if key in config_keys(FIELDS[name]))
    kept = value if name in ("endpoint_url", "prefix") else value.rstrip("/")
    assert getattr(resolve_settings({key: value}), name) == kept


def test_an_endpoint_with_credentials_is_refused_without_showing_them() -> None:
    """botocore ignores user:pass@ in endpoint_url, and plan would echo it."""
    url = f"https://AKIAEXAMPLE:{FAKE_SECRET}@minio.example.org"
    for key in config_keys(FIELDS["endpoint_url"]):
        with pytest.raises(SettingsError) as excinfo:
            resolve_settings({key: url})
        assert excinfo.value.key == key
        assert "password" in str(excinfo.value)
        assert FAKE_SECRET not in str(excinfo.value)
        assert "AKIAEXAMPLE" not in str(excinfo.value)
    with pytest.raises(SettingsError) as excinfo:
        resolve_override("endpoint_url", url, "--endpoint-url")
    assert excinfo.value.key == "--endpoint-url"
    assert FAKE_SECRET not in str(excinfo.value)
