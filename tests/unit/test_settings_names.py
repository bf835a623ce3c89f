"""Every setting is read under both of its names, with the README's defaults.

The names are spelled out literally below rather than only read back from the
field metadata, so that renaming a config key in the source fails a test
instead of silently breaking every app that uses the old spelling.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import attrs
import pytest

from flask_s3.core import Settings, SettingsError, resolve_settings
from flask_s3.core.settings import config_keys
from flask_s3.core.urls import asset_origin

FAKE_SECRET = "fake-secret-DO-NOT-LEAK-0123456789abcdef"

# field name -> the config keys it is read from, documented name first.
EXPECTED_NAMES: dict[str, tuple[str, ...]] = {
    "bucket_name": ("S3_BUCKET_NAME", "FLASKS3_BUCKET_NAME"),
    "bucket_domain": ("S3_BUCKET_DOMAIN", "FLASKS3_BUCKET_DOMAIN"),
    "cdn_domain": ("S3_CDN_DOMAIN", "FLASKS3_CDN_DOMAIN"),
    "use_https": ("S3_USE_HTTPS", "FLASKS3_USE_HTTPS"),
    "active": ("USE_S3", "FLASKS3_ACTIVE"),
    "debug": ("USE_S3_DEBUG", "FLASKS3_DEBUG"),
    "headers": ("S3_HEADERS", "FLASKS3_HEADERS"),
    "only_modified": ("S3_ONLY_MODIFIED", "FLASKS3_ONLY_MODIFIED"),
    "cache_busting": ("S3_CACHE_BUSTING", "FLASKS3_CACHE_BUSTING"),
    "url_cache_size": ("S3_URL_CACHE_SIZE", "FLASKS3_URL_CACHE_SIZE"),
    "access_key_id": ("AWS_ACCESS_KEY_ID",),
    "secret_access_key": ("AWS_SECRET_ACCESS_KEY",),
    "session_token": ("AWS_SESSION_TOKEN",),
    "region": ("S3_REGION", "FLASKS3_REGION"),
    "endpoint_url": ("S3_ENDPOINT_URL", "FLASKS3_ENDPOINT_URL"),
    "url_style": ("S3_URL_STYLE", "FLASKS3_URL_STYLE"),
    "addressing_style": ("S3_ADDRESSING_STYLE", "FLASKS3_ADDRESSING_STYLE"),
    "request_checksums": ("S3_REQUEST_CHECKSUMS", "FLASKS3_REQUEST_CHECKSUMS"),
    "prefix": ("S3_PREFIX", "FLASKS3_PREFIX"),
    "gzip": ("S3_GZIP", "FLASKS3_GZIP"),
    "gzip_only_exts": ("S3_GZIP_ONLY_EXTS", "FLASKS3_GZIP_ONLY_EXTS"),
    "force_mimetype": ("S3_FORCE_MIMETYPE", "FLASKS3_FORCE_MIMETYPE"),
    "filepath_headers": ("S3_FILEPATH_HEADERS", "FLASKS3_FILEPATH_HEADERS"),
    "override_testing": ("S3_OVERRIDE_TESTING", "FLASKS3_OVERRIDE_TESTING"),
    "object_acl": ("S3_OBJECT_ACL", "FLASKS3_OBJECT_ACL"),
    "upload_concurrency": ("S3_UPLOAD_CONCURRENCY", "FLASKS3_UPLOAD_CONCURRENCY"),
    "connect_timeout": ("S3_CONNECT_TIMEOUT", "FLASKS3_CONNECT_TIMEOUT"),
    "read_timeout": ("S3_READ_TIMEOUT", "FLASKS3_READ_TIMEOUT"),
    "max_attempts": ("S3_MAX_ATTEMPTS", "FLASKS3_MAX_ATTEMPTS"),
    "prune": ("S3_PRUNE", "FLASKS3_PRUNE"),
    "prune_keep": ("S3_PRUNE_KEEP", "FLASKS3_PRUNE_KEEP"),
    "cors_origins": ("S3_CORS_ORIGINS", "FLASKS3_CORS_ORIGINS"),
    "cloudfront_distribution_id": (
        "S3_CLOUDFRONT_DISTRIBUTION_ID",
        "FLASKS3_CLOUDFRONT_DISTRIBUTION_ID",
    ),
}

# field name -> the default the README documents for it.
EXPECTED_DEFAULTS: dict[str, Any] = {
    "bucket_name": None,
    "bucket_domain": None,  # effective: s3.amazonaws.com, see below
    "cdn_domain": None,
    "use_https": True,
    "active": True,
    "debug": False,
    "headers": {},
    "only_modified": False,
    "cache_busting": "off",
    "url_cache_size": 65536,
    "access_key_id": None,
    "secret_access_key": None,
    "session_token": None,
    "region": None,
    "endpoint_url": None,
    "url_style": None,
    "addressing_style": None,
    "request_checksums": None,
    "prefix": "",
    "gzip": False,
    "gzip_only_exts": (),
    "force_mimetype": False,
    "filepath_headers": {},
    "override_testing": True,
    "object_acl": "public-read",
    "upload_concurrency": None,
    "connect_timeout": 5.0,
    "read_timeout": 15.0,
    "max_attempts": 3,
    "prune": False,
    "prune_keep": 2,
    "cors_origins": None,
    "cloudfront_distribution_id": None,
}

# field name -> (a valid non-default config value, what Settings holds for it).
VALID: dict[str, tuple[Any, Any]] = {
    "bucket_name": ("shop-assets", "shop-assets"),
    "bucket_domain": ("minio.example.org:9000", "minio.example.org:9000"),
    "cdn_domain": ("cdn.example.com", "cdn.example.com"),
    "use_https": (False, False),
    "active": (False, False),
    "debug": (True, True),
    "headers": (
        {"Cache-Control": "max-age=3600", "X-Shop": "tea"},
        {"Cache-Control": "max-age=3600", "X-Shop": "tea"},
    ),
    "only_modified": (True, True),
    "cache_busting": (True, "query"),
    "url_cache_size": (100000, 100000),
    "access_key_id": ("AKIAEXAMPLEKEYID0000", "AKIAEXAMPLEKEYID0000"),
    "secret_access_key": (FAKE_SECRET, FAKE_SECRET),
    "session_token": (FAKE_SECRET + "-token", FAKE_SECRET + "-token"),
    "region": ("eu-west-1", "eu-west-1"),
    "endpoint_url": ("http://127.0.0.1:9000", "http://127.0.0.1:9000"),
    "url_style": ("path", "path"),
    "addressing_style": ("path", "path"),
    "request_checksums": ("when_required", "when_required"),
    "prefix": ("Assets/V2", "Assets/V2"),
    "gzip": (True, True),
    "gzip_only_exts": ([".css", ".js"], (".css", ".js")),
    "force_mimetype": (True, True),
    "filepath_headers": (
        {r"\.woff2$": {"Cache-Control": "max-age=31536000"}},
        {r"\.woff2$": {"Cache-Control": "max-age=31536000"}},
    ),
    "override_testing": (False, False),
    "object_acl": ("private", "private"),
    "upload_concurrency": (4, 4),
    "connect_timeout": (2, 2.0),
    "read_timeout": (1.5, 1.5),
    "max_attempts": (2, 2),
    "prune": (True, True),
    "prune_keep": (5, 5),
    "cors_origins": (
        ["https://shop.example", "http://127.0.0.1:5000"],
        ("https://shop.example", "http://127.0.0.1:5000"),
    ),
    "cloudfront_distribution_id": ("E2EXAMPLE123", "E2EXAMPLE123"),
}

# field name -> another valid value, different from VALID's, for conflicts.
OTHER: dict[str, Any] = {
    "bucket_name": "other-bucket",
    "bucket_domain": "s3.example.net",
    "cdn_domain": "cdn.example.net",
    "use_https": True,
    "active": True,
    "debug": False,
    "headers": {"Cache-Control": "no-cache"},
    "only_modified": False,
    "cache_busting": False,
    "url_cache_size": 4096,
    "region": "us-west-2",
    "endpoint_url": "https://minio.example.org",
    "url_style": "host",
    "addressing_style": "virtual",
    "request_checksums": "when_supported",
    "prefix": "other",
    "gzip": False,
    "gzip_only_exts": [".html"],
    "force_mimetype": False,
    "filepath_headers": {r"\.css$": {"Cache-Control": "no-cache"}},
    "override_testing": True,
    "object_acl": "bucket-owner-read",
    "upload_concurrency": 8,
    "connect_timeout": 3.0,
    "read_timeout": 4.0,
    "max_attempts": 4,
    "prune": False,
    "prune_keep": 3,
    "cors_origins": "*",
    "cloudfront_distribution_id": "E3OTHER",
}

DEFAULTS = Settings()
FIELD_NAMES = [field.name for field in attrs.fields(Settings)]
BY_LITERAL_NAME = [
    pytest.param(name, key, id=key)
    for name, keys in EXPECTED_NAMES.items()
    for key in keys
]
BY_METADATA_NAME = [
    pytest.param(field.name, key, id=key)
    for field in attrs.fields(Settings)
    for key in config_keys(field)
]
TWO_NAMED = [
    pytest.param(name, *keys, id=name)
    for name, keys in EXPECTED_NAMES.items()
    if len(keys) == 2
]
BLANK_MEANS_UNSET = [
    pytest.param(name, key, id=key)
    for name, keys in EXPECTED_NAMES.items()
    for key in keys
    if EXPECTED_DEFAULTS[name] is None
]


def test_the_tables_cover_exactly_the_settings_fields() -> None:
    for table in (EXPECTED_NAMES, EXPECTED_DEFAULTS, VALID):
        assert list(table) == FIELD_NAMES
    two_named = {name for name, keys in EXPECTED_NAMES.items() if len(keys) == 2}
    assert set(OTHER) == two_named


@pytest.mark.parametrize("field", attrs.fields(Settings), ids=lambda f: f.name)
def test_field_metadata_lists_the_documented_name_then_the_legacy_one(
    field: attrs.Attribute[Any],
) -> None:
    assert config_keys(field) == EXPECTED_NAMES[field.name]


def test_no_config_key_names_two_settings() -> None:
    keys = [key for keys in EXPECTED_NAMES.values() for key in keys]
    assert len(keys) == len(set(keys)) == 63


@pytest.mark.parametrize(("name", "key"), BY_LITERAL_NAME)
def test_a_value_under_either_literal_name_lands_in_its_field(
    name: str, key: str
) -> None:
    value, expected = VALID[name]
    assert expected != EXPECTED_DEFAULTS[name]

    settings = resolve_settings({key: value})

    assert getattr(settings, name) == expected
    assert settings == attrs.evolve(DEFAULTS, **{name: expected})


@pytest.mark.parametrize(("name", "key"), BY_METADATA_NAME)
def test_a_value_under_every_metadata_name_lands_in_its_field(
    name: str, key: str
) -> None:
    value, expected = VALID[name]

    assert resolve_settings({key: value}) == attrs.evolve(DEFAULTS, **{name: expected})


def test_all_settings_at_once_under_the_legacy_names() -> None:
    config = {keys[-1]: VALID[name][0] for name, keys in EXPECTED_NAMES.items()}

    settings = resolve_settings(config)

    assert attrs.asdict(settings, recurse=False) == {
        name: expected for name, (_, expected) in VALID.items()
    }


def test_unrelated_and_lookalike_keys_are_ignored() -> None:
    config = {
        "S3_BUCKET": "nope",
        "FLASKS3_BUCKET": "nope",
        "s3_bucket_name": "nope",
        "S3_CDN": "nope",
        "SECRET_KEY": "flask-session-secret",
        "TESTING": True,
        "DEBUG": True,
    }

    assert resolve_settings(config) == DEFAULTS


@pytest.mark.parametrize("name", FIELD_NAMES)
def test_default_when_nothing_is_set(name: str) -> None:
    assert getattr(resolve_settings({}), name) == EXPECTED_DEFAULTS[name]


def test_defaults_have_their_documented_types() -> None:
    settings = resolve_settings({})

    assert settings == DEFAULTS
    assert settings.gzip_only_exts == ()
    assert type(settings.gzip_only_exts) is tuple
    assert asset_origin(settings).domain == "s3.amazonaws.com"
    for name in ("use_https", "active", "debug", "gzip", "override_testing"):
        assert type(getattr(settings, name)) is bool


def test_credentials_come_from_the_config_not_the_environment() -> None:
    # conftest sets fake AWS_* environment variables; the config is empty.
    settings = resolve_settings({})

    assert settings.access_key_id is None
    assert settings.secret_access_key is None


def _readme_settings_rows() -> dict[str, tuple[str, str]]:
    readme = Path(__file__).resolve().parents[2] / "README.md"
    section = readme.read_text(encoding="utf-8").split("## Settings", 1)[1]
    rows: dict[str, tuple[str, str]] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 4 and re.fullmatch(r"`[A-Z0-9_]+`", cells[0]):
            rows[cells[0].strip("`")] = (cells[1], cells[2])
    return rows


README_DEFAULTS = {
    "—": None,
    "`True`": True,
    "`False`": False,
    "`{}`": {},
    "`[]`": (),
    "`''`": "",
    "`host`": "host",
    "`public-read`": "public-read",
    "`16`": 16,
    "`2`": 2,
    "`5`": 5,
    "`3`": 3,
    "`15`": 15,
    "`10`": 10,
    "`60`": 60,
    "`65536`": 65536,
}


@pytest.mark.parametrize(("name", "keys"), EXPECTED_NAMES.items())
def test_readme_table_documents_both_names_and_the_default(
    name: str, keys: tuple[str, ...]
) -> None:
    rows = _readme_settings_rows()
    legacy, default = rows[keys[0]]

    assert legacy == (f"`{keys[1]}`" if len(keys) == 2 else "same")
    if name == "bucket_domain":
        assert default.startswith("`s3.amazonaws.com`, or `s3.<region>.amazonaws.com`")
        assert EXPECTED_DEFAULTS[name] is None
    else:
        # The documented default, written into a config, changes nothing.
        documented = README_DEFAULTS[default]
        assert resolve_settings({keys[0]: documented}) == resolve_settings({})


def test_readme_table_has_a_row_for_every_setting() -> None:
    documented = {keys[0] for keys in EXPECTED_NAMES.values()}

    assert set(_readme_settings_rows()) == documented


@pytest.mark.parametrize(("name", "documented", "legacy"), TWO_NAMED)
def test_both_names_with_the_same_value_is_fine(
    name: str, documented: str, legacy: str
) -> None:
    value, expected = VALID[name]

    settings = resolve_settings({documented: value, legacy: value})

    assert settings == attrs.evolve(DEFAULTS, **{name: expected})


@pytest.mark.parametrize(("name", "documented", "legacy"), TWO_NAMED)
def test_both_names_with_different_values_is_an_error_naming_both(
    name: str, documented: str, legacy: str
) -> None:
    value, other = VALID[name][0], OTHER[name]
    assert value != other

    with pytest.raises(SettingsError) as excinfo:
        resolve_settings({documented: value, legacy: other})

    message = str(excinfo.value)
    assert excinfo.value.key in (documented, legacy)
    assert documented in message
    assert legacy in message
    assert repr(value) in message
    assert repr(other) in message


@pytest.mark.parametrize(("name", "key"), BLANK_MEANS_UNSET)
def test_a_blank_optional_string_counts_as_unset(name: str, key: str) -> None:
    settings = resolve_settings({key: ""})

    assert getattr(settings, name) is None
    assert settings == DEFAULTS


def test_blank_optional_strings_all_at_once_count_as_unset() -> None:
    config = {
        "S3_BUCKET_NAME": "",
        "S3_BUCKET_DOMAIN": "",
        "S3_CDN_DOMAIN": "",
        "AWS_ACCESS_KEY_ID": "",
        "AWS_SECRET_ACCESS_KEY": "",
        "S3_REGION": "",
        "S3_ENDPOINT_URL": "",
    }

    settings = resolve_settings(config)

    assert settings == DEFAULTS
    assert asset_origin(settings).domain == "s3.amazonaws.com"


def test_a_blank_prefix_is_the_default_prefix() -> None:
    assert resolve_settings({"S3_PREFIX": ""}).prefix == ""


def test_explicit_none_for_an_optional_setting_is_unset() -> None:
    config = {"S3_BUCKET_NAME": None, "S3_REGION": None, "S3_CDN_DOMAIN": None}

    assert resolve_settings(config) == DEFAULTS


def test_gzip_only_exts_accepts_a_tuple_and_keeps_the_order() -> None:
    settings = resolve_settings({"S3_GZIP_ONLY_EXTS": (".js", ".css", ".svg")})

    assert settings.gzip_only_exts == (".js", ".css", ".svg")


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        pytest.param({}, "s3.amazonaws.com", id="default"),
        pytest.param(
            {"S3_REGION": "eu-west-1"}, "s3.eu-west-1.amazonaws.com", id="region"
        ),
        pytest.param(
            {"FLASKS3_REGION": "ap-southeast-2"},
            "s3.ap-southeast-2.amazonaws.com",
            id="legacy-region",
        ),
        pytest.param({"S3_REGION": ""}, "s3.amazonaws.com", id="blank-region"),
        pytest.param(
            {"S3_BUCKET_DOMAIN": "s3.example.org"}, "s3.example.org", id="domain"
        ),
        pytest.param(
            {"S3_BUCKET_DOMAIN": "s3.example.org", "S3_REGION": "eu-west-1"},
            "s3.example.org",
            id="domain-beats-region",
        ),
        pytest.param(
            {"FLASKS3_BUCKET_DOMAIN": "s3.example.org", "FLASKS3_REGION": "eu-west-1"},
            "s3.example.org",
            id="legacy-domain-beats-legacy-region",
        ),
        pytest.param(
            {"S3_BUCKET_DOMAIN": "", "S3_REGION": "eu-west-1"},
            "s3.eu-west-1.amazonaws.com",
            id="blank-domain-region",
        ),
        pytest.param(
            {"S3_BUCKET_DOMAIN": "s3.example.org/"},
            "s3.example.org",
            id="trailing-slash",
        ),
        pytest.param(
            {"S3_BUCKET_DOMAIN": "s3.example.org///"},
            "s3.example.org",
            id="trailing-slashes",
        ),
        pytest.param(
            {"S3_BUCKET_DOMAIN": "storage.example.org/s3/"},
            "storage.example.org/s3",
            id="domain-with-path",
        ),
    ],
)
def test_effective_bucket_domain(config: dict[str, Any], expected: str) -> None:
    assert asset_origin(resolve_settings(config)).domain == expected


@pytest.mark.parametrize("key", EXPECTED_NAMES["bucket_domain"])
def test_trailing_slash_is_stripped_from_the_stored_bucket_domain(key: str) -> None:
    assert resolve_settings({key: "minio.example.org:9000/"}).bucket_domain == (
        "minio.example.org:9000"
    )


@pytest.mark.parametrize("key", EXPECTED_NAMES["cdn_domain"])
def test_trailing_slash_is_stripped_from_the_cdn_domain(key: str) -> None:
    assert resolve_settings({key: "cdn.example.com/"}).cdn_domain == "cdn.example.com"


def test_repr_masks_the_secret() -> None:
    settings = resolve_settings(
        {
            "AWS_ACCESS_KEY_ID": "AKIAEXAMPLEKEYID0000",
            "AWS_SECRET_ACCESS_KEY": FAKE_SECRET,
        }
    )

    assert settings.secret_access_key == FAKE_SECRET
    assert FAKE_SECRET not in repr(settings)
    assert FAKE_SECRET not in str(settings)
    assert "secret_access_key='***'" in repr(settings)
    assert "access_key_id='AKIAEXAMPLEKEYID0000'" in repr(settings)


def test_repr_without_a_secret_says_none() -> None:
    assert "secret_access_key=None" in repr(resolve_settings({}))
