from typing import Any

import pytest

from flask_s3.core import Settings, SettingsError, resolve_settings
from flask_s3.core.activation import use_s3
from flask_s3.core.settings_resolution import deprecations


def resolved_with_deprecation(config: dict[str, Any]) -> Settings:
    """The core reports deprecated keys as data; the Flask layer warns."""
    assert any("S3_HEADERS" in message for message in deprecations(config))
    return resolve_settings(config)


@pytest.mark.parametrize(
    "config",
    [
        {"S3_GZIP": True, "FLASKS3_GZIP": 1},
        {"S3_USE_HTTPS": False, "FLASKS3_USE_HTTPS": 0},
        {"S3_OVERRIDE_TESTING": False, "FLASKS3_OVERRIDE_TESTING": 0.0},
        {"USE_S3": True, "FLASKS3_ACTIVE": 1},
    ],
)
def test_int_lookalike_of_a_bool_under_the_second_name_is_an_error(
    config: dict[str, Any],
) -> None:
    with pytest.raises(SettingsError):
        resolve_settings(config)


def test_use_s3_int_lookalike_under_the_legacy_name_is_an_error() -> None:
    with pytest.raises(SettingsError):
        use_s3({"USE_S3": True, "FLASKS3_ACTIVE": 1}, resolve_settings({}))


def test_matching_cache_control_in_other_case_is_not_duplicated() -> None:
    settings = resolved_with_deprecation(
        {
            "S3_HEADERS": {"cache-control": "max-age=60"},
            "S3_CACHE_CONTROL": "max-age=60",
            "S3_USE_CACHE_CONTROL": True,
        }
    )
    names = [name for name in settings.headers if name.lower() == "cache-control"]
    assert len(names) == 1, settings.headers


def test_blank_under_one_name_does_not_conflict_with_the_other() -> None:
    settings = resolve_settings({"S3_BUCKET_NAME": "", "FLASKS3_BUCKET_NAME": "bkt"})
    assert settings.bucket_name == "bkt"
