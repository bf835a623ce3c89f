"""The one cattrs converter, made strict.

cattrs' defaults coerce: ``bool("false")`` is True and the string ``".css"``
iterates into four extensions. A config typo must fail loudly instead, so every
scalar and container is checked for its exact shape here.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping
from typing import Any, get_args, get_origin
from urllib.parse import unquote, urlsplit

import cattrs

from flask_s3.core.frozen import FrozenDict
from flask_s3.core.settings import (
    Attempts,
    BucketName,
    CacheBusting,
    CacheEntries,
    Concurrency,
    CorsOrigins,
    Deploys,
    Domain,
    EndpointUrl,
    Pattern,
    Prefix,
    Region,
    Seconds,
)

converter = cattrs.Converter(detailed_validation=True)


def _exact(kind: type[Any]) -> Any:
    def structure(value: Any, _: Any) -> Any:
        if type(value) is bool and kind is not bool:
            raise TypeError(f"a boolean is not {kind.__name__}")
        if not isinstance(value, kind):
            raise TypeError(f"got {type(value).__name__}")
        return value

    return structure


def _string_tuple(value: Any, _: Any) -> tuple[str, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(
        value, (list, tuple, set, frozenset)
    ):
        raise TypeError(f"got {type(value).__name__}, not a list")
    return tuple(_exact(str)(item, str) for item in value)


def _frozen_dict_of(kind: Any) -> Any:
    key_type, value_type = get_args(kind)

    def structure(value: Any, _: Any) -> FrozenDict[Any, Any]:
        if not isinstance(value, Mapping):
            raise TypeError(f"got {type(value).__name__}, not a dict")
        return FrozenDict(
            (converter.structure(key, key_type), converter.structure(item, value_type))
            for key, item in value.items()
        )

    return structure


_HOST = (
    r"(?:\[(?P<ipv6>[0-9A-Fa-f:.]+)\]|[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.?)"
    r"(?::(?P<port>[0-9]{1,5}))?"
)
_PATH_CHAR = r"(?:[A-Za-z0-9._~!$&'()*+,;=:@-]|%[0-9A-Fa-f]{2})"
_DOMAIN = re.compile(rf"{_HOST}(?P<path>(?:/{_PATH_CHAR}+)*)")
_NETLOC = re.compile(_HOST)
_SCHEME_LIKE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:(?![0-9])")


def _check_address(match: re.Match[str]) -> None:
    if match["port"] is not None and not 0 < int(match["port"]) < 65536:
        raise ValueError(f"port {match['port']} is out of range")
    if match["ipv6"] is not None:
        try:
            ipaddress.IPv6Address(match["ipv6"])
        except ValueError:
            raise ValueError(f"[{match['ipv6']}] is not an IPv6 address") from None


def _domain(value: Any, _: Any) -> Domain:
    """Pasted between the scheme and the key of every URL, so anything but a
    host, port and path would move the key (a query, a fragment, a '..') or
    the host (a leading '//', a scheme)."""
    text: str = _exact(str)(value, str)
    if "://" in text or _SCHEME_LIKE.match(text):
        raise ValueError("it includes a scheme; S3_USE_HTTPS chooses http or https")
    if not text.strip("/"):
        raise ValueError("it is empty")
    if text.startswith("/"):
        raise ValueError("it starts with '/'; give the host first")
    if "?" in text or "#" in text:
        raise ValueError(
            "it has a query or a fragment, which would come before the key"
        )
    text = text.rstrip("/")
    match = _DOMAIN.fullmatch(text)
    if match is None:
        raise ValueError(
            "it is not a host[:port][/path]: spaces and other characters must be "
            "percent-encoded, and a non-ASCII host given in its xn-- form"
        )
    _check_address(match)
    if any(unquote(part) in (".", "..") for part in match["path"].split("/")):
        raise ValueError(
            "its path has a '.' or '..' segment, which browsers resolve away"
        )
    return Domain(text)


def _prefix(value: Any, _: Any) -> Prefix:
    text: str = _exact(str)(value, str)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("it holds text that is not UTF-8") from None
    if any(part in (".", "..") for part in text.split("/")):
        raise ValueError(
            "it has a '.' or '..' segment: the upload would write it as it is, "
            "but browsers resolve it in the URL and ask for another key"
        )
    return Prefix(text)


_PRINTABLE = re.compile(r"[!-~]+")
_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_IP_ADDRESS = re.compile(r"\d+\.\d+\.\d+\.\d+")


def _bucket_name(value: Any, _: Any) -> BucketName:
    text: str = _exact(str)(value, str)
    if not _BUCKET_NAME.fullmatch(text):
        raise ValueError(f"{text!r} breaks S3's naming rules")
    if ".." in text or _IP_ADDRESS.fullmatch(text) or text.startswith("xn--"):
        raise ValueError(f"{text!r} breaks S3's naming rules")
    return BucketName(text)


_REGION_TOKEN = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
AWS_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")


def _region(value: Any, _: Any) -> Region:
    """Any token a store may use; the AWS shape is checked where the
    settings are seen whole (`settings_resolution.check_region`)."""
    text: str = _exact(str)(value, str)
    if not _REGION_TOKEN.fullmatch(text):
        raise ValueError(f"{text!r} is not a region name")
    return Region(text)


def _endpoint_url(value: Any, _: Any) -> EndpointUrl:
    """Its host and port also become the URLs' domain, so they are checked as
    strictly as ``S3_BUCKET_DOMAIN``."""
    text: str = _exact(str)(value, str)
    if not _PRINTABLE.fullmatch(text):
        raise ValueError("it holds spaces or characters outside printable ASCII")
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("it is not an http:// or https:// URL with a host")
    if "@" in parts.netloc:
        raise ValueError(
            "it carries a user name or password, which botocore ignores: give "
            "credentials as AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        )
    if "?" in text or "#" in text:
        raise ValueError("it has a query or a fragment")
    match = _NETLOC.fullmatch(parts.netloc)
    if match is None:
        raise ValueError(f"{parts.netloc!r} is not a host with an optional port")
    _check_address(match)
    return EndpointUrl(text)


_ORIGIN = re.compile(
    r"(?P<scheme>[a-z][a-z0-9+.-]*)://"
    r"(?P<host>[^/?#@:\s]+|\[[0-9a-f:.]+\])"
    r"(?::(?P<port>\d{1,5}))?"
)
_DEFAULT_PORTS = {"http": "80", "https": "443"}


def _origin(text: str) -> str:
    """One origin, exactly as a browser writes it in ``Origin``: S3 compares
    the strings, so a trailing slash, capitals or a default port would
    silently match nothing."""
    match = _ORIGIN.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not an origin: expected scheme://host[:port]")
    if text != text.lower():
        raise ValueError(f"{text!r} has capitals: browsers send origins in lowercase")
    if match["port"] is not None and not 0 < int(match["port"]) < 65536:
        raise ValueError(f"{text!r} has no valid port")
    if _DEFAULT_PORTS.get(match["scheme"]) == match["port"]:
        raise ValueError(
            f"{text!r} names the default port: browsers leave it out of origins"
        )
    return text


def _cors_origins(value: Any, _: Any) -> CorsOrigins:
    if value == "*":
        return CorsOrigins(("*",))
    if isinstance(value, str):
        raise ValueError(f"a single origin goes in a list: [{value!r}]")
    origins = _string_tuple(value, None)
    if not origins:
        raise ValueError("the list is empty: name at least one origin, or use '*'")
    return CorsOrigins(
        tuple(dict.fromkeys(o if o == "*" else _origin(o) for o in origins))
    )


def _whole_number(lowest: int, highest: int) -> Any:
    def structure(value: Any, _: Any) -> int:
        number: int = _exact(int)(value, int)
        if not lowest <= number <= highest:
            raise ValueError(f"{number} is out of range")
        return number

    return structure


def _seconds(value: Any, _: Any) -> Seconds:
    if type(value) not in (int, float) or not 0 < value < 3600:
        raise ValueError(f"{value!r} is not a number of seconds from 0 to 3600")
    return Seconds(float(value))


def _cache_busting(value: Any, _: Any) -> CacheBusting:
    """True and False keep their 0.x meaning; the modes are named strings."""
    if value is True:
        return "query"
    if value is False:
        return "off"
    if value in ("off", "query", "filename"):
        mode: CacheBusting = value
        return mode
    raise ValueError(f"{value!r} is not a cache-busting mode")


def _pattern(value: Any, _: Any) -> Pattern:
    text: str = _exact(str)(value, str)
    try:
        re.compile(text)
    except re.error as exc:
        raise ValueError(f"{text!r} is not a regular expression: {exc}") from None
    return Pattern(text)


for _kind in (bool, str, int):
    converter.register_structure_hook(_kind, _exact(_kind))


def _is(alias: Any) -> Callable[[Any], bool]:
    return lambda kind: bool(kind == alias)


for _alias, _hook in (
    (tuple[str, ...], _string_tuple),
    (CacheBusting, _cache_busting),
):
    converter.register_structure_hook_func(_is(_alias), _hook)


def _is_frozen_dict(kind: Any) -> bool:
    return bool(kind is FrozenDict or get_origin(kind) is FrozenDict)


def _unstructure_frozen_dict(mapping: FrozenDict[Any, Any]) -> dict[Any, Any]:
    return {key: converter.unstructure(value) for key, value in mapping.items()}


converter.register_structure_hook_factory(_is_frozen_dict, _frozen_dict_of)
converter.register_unstructure_hook_func(_is_frozen_dict, _unstructure_frozen_dict)
converter.register_structure_hook(BucketName, _bucket_name)
converter.register_structure_hook(Region, _region)
converter.register_structure_hook(Domain, _domain)
converter.register_structure_hook(Prefix, _prefix)
converter.register_structure_hook(EndpointUrl, _endpoint_url)
converter.register_structure_hook(Pattern, _pattern)
converter.register_structure_hook(CorsOrigins, _cors_origins)
converter.register_structure_hook(CacheEntries, _whole_number(1, 1 << 20))
converter.register_structure_hook(Concurrency, _whole_number(1, 256))
converter.register_structure_hook(Deploys, _whole_number(1, 100))
converter.register_structure_hook(Attempts, _whole_number(1, 20))
converter.register_structure_hook(Seconds, _seconds)
