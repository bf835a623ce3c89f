from __future__ import annotations

from typing import Any

import attrs
from hypothesis import given
from hypothesis import strategies as st

from flask_s3.core import Settings, resolve_settings
from flask_s3.core.activation import serves_from_s3, switch_entries, use_s3
from flask_s3.core.conversion import converter
from flask_s3.core.settings import config_keys

words = st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12)
bucket_names = st.from_regex(r"[a-z0-9][a-z0-9-]{1,20}[a-z0-9]", fullmatch=True)
header_maps = st.dictionaries(
    st.sampled_from(["Cache-Control", "Expires", "x-amz-meta-a"]), words, max_size=3
)

settings_values = st.builds(
    Settings,
    bucket_name=st.none() | bucket_names,
    bucket_domain=st.none() | words.map(lambda w: f"{w}.example.com"),
    cdn_domain=st.none() | words.map(lambda w: f"cdn.{w}.net"),
    use_https=st.booleans(),
    active=st.booleans(),
    debug=st.booleans(),
    headers=header_maps,
    only_modified=st.booleans(),
    cache_busting=st.sampled_from(["off", "query", "filename"]),
    url_cache_size=st.integers(1, 1 << 20),
    access_key_id=st.none() | words,
    secret_access_key=st.none() | words,
    region=st.none() | st.sampled_from(["us-east-1", "eu-west-1", "ap-south-1"]),
    endpoint_url=st.none() | words.map(lambda w: f"http://{w}:9000"),
    url_style=st.sampled_from(["host", "path"]),
    prefix=st.sampled_from(["", "p", "A/b"]),
    gzip=st.booleans(),
    gzip_only_exts=st.lists(st.sampled_from([".css", ".js", ".svg"]), max_size=3).map(
        tuple
    ),
    force_mimetype=st.booleans(),
    filepath_headers=st.dictionaries(
        st.sampled_from([r"\.css$", "^img/"]), header_maps, max_size=2
    ),
    override_testing=st.booleans(),
    object_acl=st.sampled_from([None, "public-read", "private"]),
    upload_concurrency=st.integers(1, 256),
    connect_timeout=st.floats(0.1, 100),
    read_timeout=st.floats(0.1, 100),
    max_attempts=st.integers(1, 20),
    prune=st.booleans(),
    prune_keep=st.integers(1, 100),
    cloudfront_distribution_id=st.none() | words,
)


@given(settings_values)
def test_settings_round_trip_through_cattrs(settings: Settings) -> None:
    assert converter.structure(converter.unstructure(settings), Settings) == settings


@given(settings_values, st.booleans())
def test_settings_round_trip_through_a_config_mapping(
    settings: Settings, legacy: bool
) -> None:
    config: dict[str, Any] = {}
    for field in attrs.fields(Settings):
        keys = config_keys(field)
        key = keys[-1] if legacy else keys[0]
        config[key] = converter.unstructure(getattr(settings, field.name))
    assert resolve_settings(config) == settings


switch = st.sampled_from(["unset", True, False])


@given(
    debug=st.booleans(),
    testing=st.booleans(),
    use=switch,
    use_debug=switch,
    override=switch,
    legacy=st.booleans(),
)
def test_activation_rules_for_every_combination(
    debug: bool, testing: bool, use: Any, use_debug: Any, override: Any, legacy: bool
) -> None:
    names = (
        ("FLASKS3_ACTIVE", "FLASKS3_DEBUG", "FLASKS3_OVERRIDE_TESTING")
        if legacy
        else (
            "USE_S3",
            "USE_S3_DEBUG",
            "S3_OVERRIDE_TESTING",
        )
    )
    config: dict[str, Any] = {"S3_BUCKET_NAME": "bkt", "TESTING": testing}
    for name, value in zip(names, (use, use_debug, override), strict=True):
        if value != "unset":
            config[name] = value
    settings = resolve_settings(config)
    config.update(switch_entries(config, settings, debug=debug))
    use_value = True if use == "unset" else use
    debug_value = False if use_debug == "unset" else use_debug
    override_value = True if override == "unset" else override

    expected_use = use_value and not (debug and not debug_value)
    assert use_s3(config, settings) is expected_use
    assert config["USE_S3"] is expected_use
    if legacy and use != "unset":
        assert config["FLASKS3_ACTIVE"] is expected_use
    expected_serving = expected_use and not (testing and not override_value)
    assert serves_from_s3(config, settings) is expected_serving
