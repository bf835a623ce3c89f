"""Resolving a Flask-style config mapping into `Settings`.

Users arrive with the documented ``S3_*`` names, with Flask-S3 0.3.x's
``FLASKS3_*`` names, or with a mix after a half-finished migration. Every
surprise in that mix (two names disagreeing, a wrong type, a deprecated key) is
reported here, once, with the key that caused it, instead of surfacing later as
a wrong URL.
"""

from __future__ import annotations

import difflib
import typing
from collections.abc import Mapping
from typing import Any

import attrs
from cattrs.errors import AttributeValidationNote, ClassValidationError

from flask_s3.core.conversion import AWS_REGION, converter
from flask_s3.core.frozen import FrozenDict
from flask_s3.core.settings import (
    SETTING_FIELDS,
    Settings,
    config_keys,
    expectation,
)
from flask_s3.errors import SettingsError

_SECRET_FIELDS = frozenset(
    field.name for field in SETTING_FIELDS if field.repr is not True
)
_FIELD_TYPES = typing.get_type_hints(Settings)
_DEPRECATED_CACHE_CONTROL = ("S3_CACHE_CONTROL", "FLASKS3_CACHE_CONTROL")
_DEPRECATED_USE_CACHE_CONTROL = ("S3_USE_CACHE_CONTROL", "FLASKS3_USE_CACHE_CONTROL")


def _shown(key: str, value: Any, *, secret: bool) -> str:
    return f"{key} = '***'" if secret else f"{key} = {value!r}"


def same_value(first: Any, second: Any) -> bool:
    """Equal and of one type: ``True == 1`` must not let a wrongly typed value
    hide behind a valid one under the other name."""
    return type(first) is type(second) and bool(first == second)


def conflict(
    first: tuple[str, Any], second: tuple[str, Any], *, secret: bool = False
) -> SettingsError:
    shown = [_shown(*given, secret=secret) for given in (first, second)]
    return SettingsError(
        second[0],
        f"{shown[0]} conflicts with {shown[1]}: they name the same setting, "
        "so set only one of them",
    )


def lookup(
    config: Mapping[str, Any],
    keys: tuple[str, ...],
    *,
    secret: bool = False,
    blank_is_unset: bool = False,
) -> tuple[str, Any] | None:
    """The one (key, value) a setting is given under, or None when unset.

    Two names holding different values would make the winner depend on which
    name we happened to read first, so that is an error rather than a choice.
    """
    found = [
        (key, config[key])
        for key in keys
        if key in config and not (blank_is_unset and config[key] == "")
    ]
    if not found:
        return None
    for other in found[1:]:
        if not same_value(found[0][1], other[1]):
            raise conflict(found[0], other, secret=secret)
    return found[0]


def resolve_settings(config: Mapping[str, Any]) -> Settings:
    """Resolve the Flask-S3 settings held in ``config`` (usually ``app.config``)."""
    raw: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for field in SETTING_FIELDS:
        found = lookup(
            config,
            config_keys(field),
            secret=field.name in _SECRET_FIELDS,
            # a blank optional string means "not set", as in 0.3.x
            blank_is_unset=field.default is None,
        )
        if found is None:
            continue
        key, value = found
        raw[field.name] = value
        sources[field.name] = key
    try:
        settings = converter.structure(raw, Settings)
    except ClassValidationError as exc:
        raise _explain(exc, raw, sources) from None
    check_region(settings, sources.get("region", "S3_REGION"))
    check_no_cors_headers(settings, sources)
    return _merge_deprecated_cache_control(config, settings)


def check_region(settings: Settings, key: str) -> None:
    """On AWS a region becomes part of host names, so it must look like one;
    another store's region is whatever that store calls it."""
    region = settings.region
    if region is None or settings.endpoint_url is not None:
        return
    if not AWS_REGION.fullmatch(region):
        expects = expectation(attrs.fields(Settings).region)
        raise SettingsError(
            key,
            f"{key} = {region!r} is invalid: expected {expects} (it is not an "
            "AWS region, and S3_ENDPOINT_URL is not set)",
        )


def check_no_cors_headers(settings: Settings, sources: Mapping[str, str]) -> None:
    """S3 stores an unknown object header as ``x-amz-meta-*``, which no
    browser reads: CORS answers come from the bucket's CORS rules alone."""
    given = [("headers", name) for name in settings.headers]
    given.extend(
        ("filepath_headers", name)
        for headers in settings.filepath_headers.values()
        for name in headers
    )
    for field_name, name in given:
        if name.lower().startswith("access-control-"):
            key = sources[field_name]
            raise SettingsError(
                key,
                f"{key} sets {name!r}, which S3 would store as object metadata "
                "that browsers never see: list the origins in S3_CORS_ORIGINS "
                "instead, and the upload writes the bucket's CORS rule",
            )


def resolve_override(field_name: str, value: Any, source: str) -> Any:
    """One setting given another way (a ``create_all`` argument, a CLI flag),
    checked as strictly as the config and named as the user wrote it."""
    field = attrs.fields_dict(Settings)[field_name]
    try:
        return converter.structure(value, _FIELD_TYPES[field_name])
    except (TypeError, ValueError) as exc:
        detail = _detail(exc)
        raise SettingsError(
            source,
            f"{source} = {value!r} is invalid: expected {expectation(field)}{detail}",
        ) from None


def _explain(
    exc: ClassValidationError, raw: Mapping[str, Any], sources: Mapping[str, str]
) -> SettingsError:
    failed: dict[str, BaseException] = {}
    for error in exc.exceptions:
        for note in getattr(error, "__notes__", ()):
            if isinstance(note, AttributeValidationNote):
                failed[note.name] = error
    problems = []
    for field in SETTING_FIELDS:
        if field.name in failed:
            key = sources[field.name]
            shown = _shown(key, raw[field.name], secret=field.name in _SECRET_FIELDS)
            problems.append(
                (
                    key,
                    f"{shown} is invalid: expected {expectation(field)}"
                    f"{_detail(failed[field.name])}",
                )
            )
    return SettingsError(problems[0][0], "; ".join(message for _, message in problems))


def _detail(error: BaseException) -> str:
    while nested := getattr(error, "exceptions", None):
        error = nested[0]
    text = str(error)
    return f" ({text})" if text and isinstance(error, (TypeError, ValueError)) else ""


def _structured(
    config: Mapping[str, Any], keys: tuple[str, ...], kind: type, expects: str
) -> tuple[str, Any] | None:
    found = lookup(config, keys)
    if found is None:
        return None
    key, value = found
    try:
        return key, converter.structure(value, kind)
    except (TypeError, ValueError):
        raise SettingsError(
            key, f"{key} = {value!r} is invalid: expected {expects}"
        ) from None


def _merge_deprecated_cache_control(
    config: Mapping[str, Any], settings: Settings
) -> Settings:
    """Keep 0.x's ``S3_CACHE_CONTROL`` working, nudging users to ``S3_HEADERS``."""
    cache_control = _structured(config, _DEPRECATED_CACHE_CONTROL, str, "a string")
    use_cache_control = _structured(
        config, _DEPRECATED_USE_CACHE_CONTROL, bool, "True or False"
    )
    if cache_control is None or not (use_cache_control and use_cache_control[1]):
        return settings
    key, value = cache_control
    for name, existing in settings.headers.items():
        if name.lower() != "cache-control":
            continue
        if existing != value:
            raise SettingsError(
                key,
                f"{key} = {value!r} conflicts with S3_HEADERS[{name!r}] = "
                f"{existing!r}: keep only the S3_HEADERS entry",
            )
        return settings
    headers = FrozenDict({**settings.headers, "Cache-Control": value})
    return attrs.evolve(settings, headers=headers)


def deprecations(config: Mapping[str, Any]) -> tuple[str, ...]:
    """What the config still says the old way, as messages: the core only
    reports them, and the Flask layer warns where the user's code can see."""
    keys = [
        key
        for key in (*_DEPRECATED_CACHE_CONTROL, *_DEPRECATED_USE_CACHE_CONTROL)
        if key in config
    ]
    if not keys:
        return ()
    return (
        f"{' and '.join(keys)} {'is' if len(keys) == 1 else 'are'} deprecated: "
        "put 'Cache-Control' into S3_HEADERS instead",
    )


_KNOWN_KEYS = frozenset(
    key for field in SETTING_FIELDS for key in config_keys(field)
) | frozenset((*_DEPRECATED_CACHE_CONTROL, *_DEPRECATED_USE_CACHE_CONTROL))
_OURS = ("S3_", "FLASKS3_", "USE_S3")


def misspellings(config: Mapping[str, Any]) -> tuple[str, ...]:
    """Keys that look like a Flask-S3 setting but are none, each with the one
    it is close to. A typo such as S3_ENDPOINT (for S3_ENDPOINT_URL) would
    otherwise send an upload to AWS without a word; keys close to none of
    ours are the app's own and are left alone."""
    found = []
    for key in sorted(k for k in config if isinstance(k, str)):
        if key in _KNOWN_KEYS or not key.startswith(_OURS):
            continue
        close = difflib.get_close_matches(key, _KNOWN_KEYS, n=1, cutoff=0.8)
        if close:
            found.append(
                f"{key} is not a Flask-S3 setting and is ignored; did you mean "
                f"{close[0]}?"
            )
    return tuple(found)
