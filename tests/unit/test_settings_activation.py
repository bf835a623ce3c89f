"""When URLs point at S3: the debug, switch, testing and bucket rules."""

from __future__ import annotations

from typing import Any

import pytest

from flask_s3.core import SettingsError, resolve_settings
from flask_s3.core.activation import (
    LEGACY_ACTIVE,
    USE_S3,
    require_bucket,
    serves_from_s3,
    switch_entries,
    use_s3,
)


def test_the_switch_keys_are_the_documented_ones() -> None:
    assert (USE_S3, LEGACY_ACTIVE) == ("USE_S3", "FLASKS3_ACTIVE")


# --- switch_entries (what init_app writes) ----------------------------------


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        pytest.param({}, {"USE_S3": False}, id="nothing-set"),
        pytest.param({"USE_S3": True}, {"USE_S3": False}, id="use-s3"),
        pytest.param(
            {"FLASKS3_ACTIVE": True},
            {"USE_S3": False, "FLASKS3_ACTIVE": False},
            id="legacy-active",
        ),
        pytest.param(
            {"USE_S3": True, "FLASKS3_ACTIVE": True},
            {"USE_S3": False, "FLASKS3_ACTIVE": False},
            id="both-names",
        ),
        pytest.param({"USE_S3_DEBUG": False}, {"USE_S3": False}, id="debug-false"),
        pytest.param(
            {"FLASKS3_DEBUG": False, "FLASKS3_ACTIVE": True},
            {"USE_S3": False, "FLASKS3_ACTIVE": False},
            id="legacy-debug-false",
        ),
        pytest.param(
            {"USE_S3_DEBUG": True, "USE_S3": False},
            {"USE_S3": False},
            id="use-s3-debug-but-inactive",
        ),
    ],
)
def test_debug_mode_switches_s3_off(
    config: dict[str, Any], expected: dict[str, bool]
) -> None:
    entries = switch_entries(config, resolve_settings(config), debug=True)

    assert entries == expected
    assert use_s3({**config, **entries}, resolve_settings(config)) is False


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        pytest.param({"USE_S3_DEBUG": True}, {"USE_S3": True}, id="use-s3-debug"),
        pytest.param({"FLASKS3_DEBUG": True}, {"USE_S3": True}, id="legacy-debug"),
        pytest.param(
            {"USE_S3_DEBUG": True, "FLASKS3_ACTIVE": True},
            {"USE_S3": True, "FLASKS3_ACTIVE": True},
            id="with-legacy-active",
        ),
    ],
)
def test_debug_mode_stays_on_with_use_s3_debug(
    config: dict[str, Any], expected: dict[str, bool]
) -> None:
    entries = switch_entries(config, resolve_settings(config), debug=True)

    assert entries == expected
    assert use_s3({**config, **entries}, resolve_settings(config)) is True


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        pytest.param({}, {"USE_S3": True}, id="nothing-set"),
        pytest.param({"USE_S3": False}, {"USE_S3": False}, id="use-s3-false"),
        pytest.param(
            {"FLASKS3_ACTIVE": True},
            {"USE_S3": True, "FLASKS3_ACTIVE": True},
            id="legacy-active",
        ),
        pytest.param(
            {"FLASKS3_ACTIVE": False},
            {"USE_S3": False, "FLASKS3_ACTIVE": False},
            id="legacy-inactive",
        ),
        pytest.param({"USE_S3_DEBUG": True}, {"USE_S3": True}, id="use-s3-debug"),
        pytest.param({"USE_S3_DEBUG": False}, {"USE_S3": True}, id="debug-false"),
    ],
)
def test_outside_debug_mode_the_resolved_switch_is_written(
    config: dict[str, Any], expected: dict[str, bool]
) -> None:
    entries = switch_entries(config, resolve_settings(config), debug=False)

    assert entries == expected
    assert use_s3({**config, **entries}, resolve_settings(config)) is expected["USE_S3"]


# --- use_s3 -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        pytest.param({}, True, id="default"),
        pytest.param({"USE_S3": True}, True, id="use-s3-true"),
        pytest.param({"USE_S3": False}, False, id="use-s3-false"),
        pytest.param({"FLASKS3_ACTIVE": True}, True, id="legacy-true"),
        pytest.param({"FLASKS3_ACTIVE": False}, False, id="legacy-false"),
        pytest.param({"USE_S3": False, "FLASKS3_ACTIVE": False}, False, id="both"),
    ],
)
def test_use_s3_reads_either_name(config: dict[str, Any], expected: bool) -> None:
    assert use_s3(config, resolve_settings(config)) is expected


@pytest.mark.parametrize("key", ["USE_S3", "FLASKS3_ACTIVE"])
def test_use_s3_is_read_from_the_live_config(key: str) -> None:
    config: dict[str, Any] = {key: True}
    settings = resolve_settings(config)

    config[key] = False
    assert use_s3(config, settings) is False
    config[key] = True
    assert use_s3(config, settings) is True


@pytest.mark.parametrize("key", ["USE_S3", "FLASKS3_ACTIVE"])
def test_use_s3_switched_on_later_wins_over_the_resolved_value(key: str) -> None:
    settings = resolve_settings({key: False})

    assert use_s3({key: True}, settings) is True


def test_use_s3_falls_back_to_the_resolved_value_when_the_key_is_gone() -> None:
    assert use_s3({}, resolve_settings({"USE_S3": False})) is False


@pytest.mark.parametrize(
    ("active", "legacy"), [(True, False), (False, True)], ids=["on-off", "off-on"]
)
def test_use_s3_conflicting_names_is_an_error(active: bool, legacy: bool) -> None:
    config = {"USE_S3": active, "FLASKS3_ACTIVE": legacy}
    settings = resolve_settings({})

    with pytest.raises(SettingsError) as excinfo:
        use_s3(config, settings)

    message = str(excinfo.value)
    assert excinfo.value.key in ("USE_S3", "FLASKS3_ACTIVE")
    assert f"USE_S3 = {active!r}" in message
    assert f"FLASKS3_ACTIVE = {legacy!r}" in message


@pytest.mark.parametrize("key", ["USE_S3", "FLASKS3_ACTIVE"])
@pytest.mark.parametrize("bad", ["false", "True", 1, 0, None, ""])
def test_use_s3_non_bool_is_an_error_naming_the_key(key: str, bad: Any) -> None:
    settings = resolve_settings({})

    with pytest.raises(SettingsError) as excinfo:
        use_s3({key: bad}, settings)

    message = str(excinfo.value)
    assert excinfo.value.key == key
    assert f"{key} = {bad!r}" in message
    assert "True or False" in message


# --- serves_from_s3 -----------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        pytest.param({}, True, id="default"),
        pytest.param({"TESTING": True}, True, id="testing-override-default"),
        pytest.param(
            {"TESTING": True, "S3_OVERRIDE_TESTING": True}, True, id="testing-override"
        ),
        pytest.param(
            {"TESTING": True, "S3_OVERRIDE_TESTING": False}, False, id="testing-local"
        ),
        pytest.param(
            {"TESTING": True, "FLASKS3_OVERRIDE_TESTING": False},
            False,
            id="legacy-testing-local",
        ),
        pytest.param(
            {"TESTING": False, "S3_OVERRIDE_TESTING": False}, True, id="not-testing"
        ),
        pytest.param({"S3_OVERRIDE_TESTING": False}, True, id="testing-unset"),
        pytest.param({"USE_S3": False}, False, id="inactive"),
        pytest.param({"FLASKS3_ACTIVE": False, "TESTING": True}, False, id="legacy"),
    ],
)
def test_serves_from_s3(config: dict[str, Any], expected: bool) -> None:
    settings = resolve_settings({"S3_BUCKET_NAME": "shop-assets", **config})

    assert serves_from_s3(config, settings) is expected


def test_serves_from_s3_reads_testing_from_the_live_config() -> None:
    config: dict[str, Any] = {"S3_OVERRIDE_TESTING": False}
    settings = resolve_settings(config)
    assert serves_from_s3(config, settings) is True

    config["TESTING"] = True
    assert serves_from_s3(config, settings) is False

    config["TESTING"] = False
    assert serves_from_s3(config, settings) is True


# --- require_bucket -----------------------------------------------------------


@pytest.mark.parametrize(
    "config",
    [
        pytest.param({}, id="nothing-set"),
        pytest.param({"S3_BUCKET_NAME": ""}, id="blank-bucket"),
        pytest.param({"FLASKS3_BUCKET_NAME": ""}, id="blank-legacy-bucket"),
        pytest.param({"USE_S3": True}, id="use-s3"),
        pytest.param({"FLASKS3_ACTIVE": True}, id="legacy-active"),
        pytest.param({"TESTING": True}, id="testing-overridden"),
        pytest.param({"S3_OVERRIDE_TESTING": False}, id="not-testing"),
    ],
)
def test_active_without_a_bucket_is_an_error(config: dict[str, Any]) -> None:
    with pytest.raises(SettingsError) as excinfo:
        require_bucket(config, resolve_settings(config))

    assert excinfo.value.key == "S3_BUCKET_NAME"
    assert str(excinfo.value).startswith("S3_BUCKET_NAME is not set")


@pytest.mark.parametrize(
    "config",
    [
        pytest.param({"USE_S3": False}, id="inactive"),
        pytest.param({"FLASKS3_ACTIVE": False}, id="legacy-inactive"),
        pytest.param({"TESTING": True, "S3_OVERRIDE_TESTING": False}, id="testing"),
        pytest.param(
            {"TESTING": True, "FLASKS3_OVERRIDE_TESTING": False}, id="legacy-testing"
        ),
        pytest.param({"S3_BUCKET_NAME": "shop-assets"}, id="bucket"),
        pytest.param({"FLASKS3_BUCKET_NAME": "shop-assets"}, id="legacy-bucket"),
    ],
)
def test_no_bucket_error_when_a_bucket_is_set_or_urls_stay_local(
    config: dict[str, Any],
) -> None:
    assert require_bucket(config, resolve_settings(config)) is None


def test_require_bucket_follows_the_live_switch() -> None:
    config: dict[str, Any] = {"USE_S3": False}
    settings = resolve_settings(config)
    assert require_bucket(config, settings) is None

    config["USE_S3"] = True
    with pytest.raises(SettingsError) as excinfo:
        require_bucket(config, settings)
    assert excinfo.value.key == "S3_BUCKET_NAME"
