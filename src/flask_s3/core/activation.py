"""Whether URLs point at S3 at all: the debug and testing rules.

The documented contract makes ``USE_S3`` the one definitive switch: debug mode
flips it off at ``init_app`` unless ``USE_S3_DEBUG`` is set, and from then on
the config says what happens. The switch and ``TESTING`` are read from the live
config on every call, because test fixtures and app code toggle them after the
extension was initialised.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from flask_s3.core.settings import Settings, config_keys
from flask_s3.core.settings_resolution import conflict, same_value
from flask_s3.errors import SettingsError

USE_S3, LEGACY_ACTIVE = config_keys(attrs.fields(Settings).active)
_UNSET: Any = object()


def switch_entries(
    config: Mapping[str, Any], settings: Settings, *, debug: bool
) -> dict[str, bool]:
    """The config entries ``init_app`` writes, so that ``USE_S3`` then answers
    whether the extension is active: debug mode turns it off unless
    ``USE_S3_DEBUG`` is set. The 0.3.x name is written too when the user used
    it, so that the two names never disagree afterwards."""
    active = settings.active and (settings.debug or not debug)
    keys = [USE_S3] + ([LEGACY_ACTIVE] if LEGACY_ACTIVE in config else [])
    return dict.fromkeys(keys, active)


def use_s3(
    config: Mapping[str, Any],
    settings: Settings,
    *,
    written: Mapping[str, bool] | None = None,
) -> bool:
    """The live value of the ``USE_S3`` switch, under either of its names.

    ``written`` is what ``init_app`` wrote (`switch_entries`): a name whose
    value the app changed since wins over the one left as written, so that
    turning ``FLASKS3_ACTIVE`` off in a test fixture works, though
    ``init_app`` also wrote ``USE_S3``."""
    changed = {
        key: config[key]
        for key in (USE_S3, LEGACY_ACTIVE)
        if key in config
        and not (written and key in written and same_value(config[key], written[key]))
    }
    live = changed if written and changed else config
    active = live.get(USE_S3, _UNSET)
    legacy = live.get(LEGACY_ACTIVE, _UNSET)
    if active is _UNSET:
        active = settings.active if legacy is _UNSET else legacy
    elif legacy is not _UNSET and not same_value(active, legacy):
        raise conflict((USE_S3, active), (LEGACY_ACTIVE, legacy))
    if active is not True and active is not False:
        key = USE_S3 if USE_S3 in config else LEGACY_ACTIVE
        raise SettingsError(
            key, f"{key} = {active!r} is invalid: expected True or False"
        )
    return bool(active)


def serves_from_s3(
    config: Mapping[str, Any],
    settings: Settings,
    *,
    written: Mapping[str, bool] | None = None,
) -> bool:
    """Whether a static URL should point at S3 right now: under ``TESTING``,
    0.3.x served locally only when ``S3_OVERRIDE_TESTING`` was turned off."""
    if not use_s3(config, settings, written=written):
        return False
    return not (config.get("TESTING") and not settings.override_testing)


def require_bucket(config: Mapping[str, Any], settings: Settings) -> None:
    """Fail at start-up, not on the first rendered page, when URLs cannot be built."""
    if settings.bucket_name is None and serves_from_s3(config, settings):
        raise SettingsError(
            "S3_BUCKET_NAME",
            f"S3_BUCKET_NAME is not set, but {USE_S3} is True: set the bucket "
            f"name (or FLASKS3_BUCKET_NAME), or set {USE_S3} = False",
        )
