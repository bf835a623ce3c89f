"""The settings contract: every option the extension understands, under all its names.

Each field's metadata carries the config keys it is read from (the documented
``S3_*``/``USE_S3*`` name first, then the Flask-S3 0.3.x ``FLASKS3_*`` name) and a
human description of what it accepts, so resolution, error messages and the
documentation table all come from this one place.
"""

from __future__ import annotations

from typing import Any, Literal, NewType

import attrs

from flask_s3.core.frozen import FrozenDict

UrlStyle = Literal["host", "path"]
ObjectAcl = Literal[
    "private",
    "public-read",
    "public-read-write",
    "authenticated-read",
    "aws-exec-read",
    "bucket-owner-read",
    "bucket-owner-full-control",
]

CacheBusting = Literal["off", "query", "filename"]
"""How URLs change with content: not at all, a ``?v=`` hash (True, as in the
original), or a hashed copy (``app.<hash>.css``) that a CDN
cannot serve stale."""

CacheEntries = NewType("CacheEntries", int)
"""How many static files ``url_for`` keeps URLs and content hashes of: 1 to
1,048,576. A site whose files all fit never hashes a file twice; the bound
holds because filenames may come from users."""

Concurrency = NewType("Concurrency", int)
"""How many uploads run at once: at least 1."""

Seconds = NewType("Seconds", float)
"""A timeout: a positive number of seconds."""

Attempts = NewType("Attempts", int)
"""How many times one request is tried, the first included: 1 to 20."""

Deploys = NewType("Deploys", int)
"""How many deploys' hashed copies to keep when pruning: at least 1."""

BucketName = NewType("BucketName", str)
"""An S3 bucket name: 3 to 63 lowercase letters, digits, dots and hyphens.
Checked up front, because a bad one otherwise surfaces as a broken URL or as
botocore's parameter-validation error on the first request."""

Region = NewType("Region", str)
"""A region token: for AWS a name such as 'eu-west-1', checked for its shape
since it becomes part of host names (a typo must fail when settings resolve,
not as a DNS error mid-deploy); with ``S3_ENDPOINT_URL``, whatever the store
calls its regions ('auto', 'nyc3', 'fr-par', 'us-west-004')."""

AddressingStyle = Literal["auto", "path", "virtual"]
"""How the client addresses the bucket: ``bucket.host`` or ``host/bucket``."""

RequestChecksums = Literal["when_supported", "when_required"]
"""botocore's request and response checksum modes. 'when_supported' (its
default since 1.36) sends CRC32 trailers that many S3-compatible stores do
not understand, and may store as part of the object."""

Domain = NewType("Domain", str)
"""A host (a name, an IPv4 address or a bracketed IPv6 one), optionally with a
port and a path, but never a scheme: the scheme comes from ``S3_USE_HTTPS``
or ``_scheme``, so a scheme here would be doubled. It is pasted into every
URL, so it is checked to be exactly that: no spaces, query, fragment or
'.'/'..' segments, which would send browsers elsewhere."""

Prefix = NewType("Prefix", str)
"""A key prefix. Its segments are never '.' or '..': the upload writes them
literally, but browsers resolve them in the URL, which then names another
key (in path style, another bucket)."""

EndpointUrl = NewType("EndpointUrl", str)
"""An ``http://`` or ``https://`` URL of an S3-compatible API."""

CorsOrigins = NewType("CorsOrigins", tuple[str, ...])
"""Browser origins (``scheme://host[:port]``, as a browser sends them in its
``Origin`` header) allowed to read the assets across origins, or ``('*',)``
for any. Fonts, module scripts and anything loaded with ``crossorigin`` or
an ``integrity`` attribute fail in the browser without such a grant."""

Pattern = NewType("Pattern", str)
"""A regular expression that must compile, checked when settings are resolved
rather than on the first upload that happens to use it."""


_DOMAIN_EXPECTS = (
    "a host without a scheme, with an optional port and path "
    "(such as 'cdn.example.com/assets' or '127.0.0.1:9000')"
)


def _setting(default: Any, *names: str, expects: str) -> Any:
    return attrs.field(default=default, metadata={"names": names, "expects": expects})


def mask_secret(value: str | None) -> str:
    """A secret's repr: whether it is set, never what it is."""
    return "None" if value is None else "'***'"


def _both(suffix: str) -> tuple[str, str]:
    return (f"S3_{suffix}", f"FLASKS3_{suffix}")


@attrs.frozen
class Settings:
    """Resolved Flask-S3 settings; build one with `resolve_settings`.

    A value: equal settings compare and hash equal, so they can key caches."""

    bucket_name: BucketName | None = _setting(
        None,
        *_both("BUCKET_NAME"),
        expects="an S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)",
    )
    bucket_domain: Domain | None = _setting(
        None, *_both("BUCKET_DOMAIN"), expects=_DOMAIN_EXPECTS
    )
    cdn_domain: Domain | None = _setting(
        None, *_both("CDN_DOMAIN"), expects=_DOMAIN_EXPECTS
    )
    use_https: bool = _setting(True, *_both("USE_HTTPS"), expects="True or False")
    active: bool = _setting(True, "USE_S3", "FLASKS3_ACTIVE", expects="True or False")
    debug: bool = _setting(
        False, "USE_S3_DEBUG", "FLASKS3_DEBUG", expects="True or False"
    )
    headers: FrozenDict[str, str] = _setting(
        FrozenDict(),
        *_both("HEADERS"),
        expects="a dict of header names to string values",
    )
    only_modified: bool = _setting(
        False, *_both("ONLY_MODIFIED"), expects="True or False"
    )
    cache_busting: CacheBusting = _setting(
        "off",
        *_both("CACHE_BUSTING"),
        expects="True or 'query' (a ?v= hash), 'filename' (hashed copies), or False",
    )
    url_cache_size: CacheEntries = _setting(
        65536, *_both("URL_CACHE_SIZE"), expects="a whole number from 1 to 1048576"
    )
    access_key_id: str | None = _setting(None, "AWS_ACCESS_KEY_ID", expects="a string")
    secret_access_key: str | None = attrs.field(
        default=None,
        repr=mask_secret,
        metadata={"names": ("AWS_SECRET_ACCESS_KEY",), "expects": "a string"},
    )
    session_token: str | None = attrs.field(
        default=None,
        repr=mask_secret,
        metadata={"names": ("AWS_SESSION_TOKEN",), "expects": "a string"},
    )
    region: Region | None = _setting(
        None,
        *_both("REGION"),
        expects="a region such as 'eu-west-1' (any lowercase token, such as "
        "'auto', with S3_ENDPOINT_URL)",
    )
    endpoint_url: EndpointUrl | None = _setting(
        None, *_both("ENDPOINT_URL"), expects="an http:// or https:// URL"
    )
    url_style: UrlStyle | None = _setting(
        None, *_both("URL_STYLE"), expects="'host' or 'path'"
    )
    """None: 'path' for URLs on S3_ENDPOINT_URL's host, 'host' otherwise."""
    addressing_style: AddressingStyle | None = _setting(
        None, *_both("ADDRESSING_STYLE"), expects="'auto', 'path' or 'virtual'"
    )
    """None: 'path' with S3_ENDPOINT_URL, botocore's 'auto' otherwise."""
    request_checksums: RequestChecksums | None = _setting(
        None,
        *_both("REQUEST_CHECKSUMS"),
        expects="'when_supported' or 'when_required'",
    )
    """None: 'when_required' with S3_ENDPOINT_URL, botocore's default (or the
    AWS_REQUEST_CHECKSUM_CALCULATION environment variable) otherwise."""
    prefix: Prefix = _setting(
        "",
        *_both("PREFIX"),
        expects="a string of key segments without '.' or '..' (such as 'assets/v2')",
    )
    gzip: bool = _setting(False, *_both("GZIP"), expects="True or False")
    gzip_only_exts: tuple[str, ...] = _setting(
        (), *_both("GZIP_ONLY_EXTS"), expects="a list of file extensions like '.css'"
    )
    force_mimetype: bool = _setting(
        False, *_both("FORCE_MIMETYPE"), expects="True or False"
    )
    filepath_headers: FrozenDict[Pattern, FrozenDict[str, str]] = _setting(
        FrozenDict(),
        *_both("FILEPATH_HEADERS"),
        expects="a dict of regular expressions to dicts of header names to strings",
    )
    override_testing: bool = _setting(
        True, *_both("OVERRIDE_TESTING"), expects="True or False"
    )
    object_acl: ObjectAcl | None = _setting(
        "public-read",
        *_both("OBJECT_ACL"),
        expects="a canned ACL such as 'public-read' or 'private', or None for no ACL",
    )
    upload_concurrency: Concurrency | None = _setting(
        None, *_both("UPLOAD_CONCURRENCY"), expects="a whole number from 1 to 256"
    )
    """None: as many as pay, from 16 up to 64 (`flask_s3.core.upload_ramp`)."""
    # A silent endpoint fails within about a minute: 3 x (5 + 15) s.
    connect_timeout: Seconds = _setting(
        5.0, *_both("CONNECT_TIMEOUT"), expects="a positive number of seconds"
    )
    read_timeout: Seconds = _setting(
        15.0, *_both("READ_TIMEOUT"), expects="a positive number of seconds"
    )
    max_attempts: Attempts = _setting(
        3, *_both("MAX_ATTEMPTS"), expects="a whole number from 1 to 20"
    )
    prune: bool = _setting(False, *_both("PRUNE"), expects="True or False")
    prune_keep: Deploys = _setting(
        2, *_both("PRUNE_KEEP"), expects="a whole number from 1 to 100"
    )
    cors_origins: CorsOrigins | None = _setting(
        None,
        *_both("CORS_ORIGINS"),
        expects="a list of origins such as 'https://example.com', or '*'",
    )
    """None: the bucket's CORS configuration is left as it is."""
    cloudfront_distribution_id: str | None = _setting(
        None, *_both("CLOUDFRONT_DISTRIBUTION_ID"), expects="a string"
    )


SETTING_FIELDS: tuple[attrs.Attribute[Any], ...] = attrs.fields(Settings)


def config_keys(field: attrs.Attribute[Any]) -> tuple[str, ...]:
    """The config keys a field is read from, the documented name first."""
    names: tuple[str, ...] = field.metadata["names"]
    return names


def expectation(field: attrs.Attribute[Any]) -> str:
    """What a field accepts, in words, for error messages and the docs."""
    expects: str = field.metadata["expects"]
    return expects


@attrs.frozen
class RunSettings:
    """The settings of a run that talks to a bucket: the bucket is known."""

    settings: Settings
    bucket: BucketName
