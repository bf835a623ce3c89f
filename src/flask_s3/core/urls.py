"""Building the public URL of a static asset from settings alone.

This is the piece a mail renderer or a background worker needs too, so it takes
a URL path and a filename rather than a Flask app, and never touches the
network: the bucket's address follows from the settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import attrs

from flask_s3.core.hashed_copies import hashed_name
from flask_s3.core.settings import Settings
from flask_s3.errors import InvalidUrlArgument, SettingsError, UnsafeFilename

VERSION_PARAMETER = "v"
"""The query parameter that carries a content hash under S3_CACHE_BUSTING."""
VERSION_DIGITS = 12
"""Hex digits of the content hash kept in the URL: 48 bits tell a file's
versions apart, and a shorter URL is cheaper in every page."""

_QUERY_SAFE = "!$'()*,/:;?@"  # what Werkzeug leaves unquoted in a query
_ANCHOR_SAFE = "%!#$&'()*+,/:;=?@"  # what flask.url_for leaves unquoted in an anchor
_SCALARS = (str, int, float, bool, type(None))
SCHEMES = ("http", "https")
"""What ``_scheme`` may be, as in Werkzeug: any other text would become the
start of the URL, and with it choose its host (``https://evil.example/x?``)."""


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def served_name(filename: str) -> str:
    """The file in the static folder that Flask serves for ``filename``:
    browsers resolve '.' and '..' segments, then Flask's router merges
    slashes (``/css/a.css`` and ``css/../css/a.css`` both serve
    ``css/a.css``). A name that climbs out of the folder is refused, and so
    is a '..' after '//': a browser pops the empty segment (``a//../b`` is
    ``a/b``) where a client that sends the path as it is gets Flask to
    merge first (``b``). A name no file can have (NUL, text that is not
    UTF-8) is refused too."""
    if (
        filename.isascii()
        and "\x00" not in filename
        and "//" not in filename
        and "/." not in filename
        and not filename.startswith(("/", "."))
        and not filename.endswith("/")
    ):
        return filename  # no segment to drop or resolve: a walk's every name
    if "\x00" in filename or not _encodable(filename):
        raise UnsafeFilename(
            f"filename {filename!r} holds a NUL or a character that is not "
            "UTF-8, so no static file has that name"
        )
    kept: list[str] = []
    for part in filename.split("/"):
        if part == "..":
            if not kept:
                raise UnsafeFilename(
                    f"filename {filename!r} climbs out of the static folder with "
                    "'..'; Flask would not serve it from there either"
                )
            if not kept[-1]:
                raise UnsafeFilename(
                    f"filename {filename!r} has '..' after '//': browsers resolve "
                    "it inside the folder, but Flask's router on its own climbs "
                    "out of the static folder or names another file"
                )
            kept.pop()
        elif part != ".":
            kept.append(part)
    return "/".join(part for part in kept if part)


def object_key(settings: Settings, url_path: str, filename: str) -> str:
    """The key an asset is stored under: the path Flask serves it at, behind
    S3_PREFIX, so that an upload and a URL can never disagree."""
    return key_prefix(settings, url_path) + served_name(filename)


def key_prefix(settings: Settings, url_path: str) -> str:
    """What every key of a static URL path starts with (`object_key` of the
    folder itself): empty, or ending in a slash."""
    base = "/".join(
        part for part in (settings.prefix.strip("/"), url_path.strip("/")) if part
    )
    return f"{base}/" if base else ""


@attrs.frozen
class Origin:
    """Where asset URLs point, before the key."""

    scheme: str | None
    """None: ``S3_USE_HTTPS`` or ``_scheme`` decides."""
    domain: str
    style: str


def asset_origin(settings: Settings) -> Origin:
    """The CDN, else ``S3_BUCKET_DOMAIN``, else the host of ``S3_ENDPOINT_URL``
    (with its scheme and port, in path style: the one setting then makes URLs
    and uploads agree), else the bucket's AWS domain for its region."""
    if settings.cdn_domain is not None:
        return Origin(None, settings.cdn_domain, "cdn")
    if settings.bucket_domain is not None:
        return Origin(None, settings.bucket_domain, settings.url_style or "host")
    if settings.endpoint_url is not None:
        endpoint = urlsplit(settings.endpoint_url)
        return Origin(endpoint.scheme, endpoint.netloc, settings.url_style or "path")
    return Origin(None, aws_domain(settings.region), settings.url_style or "host")


def cdn_path(settings: Settings) -> str:
    """The path of ``S3_CDN_DOMAIN`` ('/assets' for 'cdn.example.com/assets'),
    which every CDN URL, and so every path the CDN caches, begins with."""
    if settings.cdn_domain is None:
        return ""
    _, slash, path = settings.cdn_domain.partition("/")
    return slash + path


def aws_domain(region: str | None) -> str:
    """A regional domain when a region is given, since a bucket outside
    us-east-1 answers the global name with a redirect; China's regions have
    a domain of their own."""
    if region is None:
        return "s3.amazonaws.com"
    suffix = ".cn" if region.startswith("cn-") else ""
    return f"s3.{region}.amazonaws.com{suffix}"


def site_root(settings: Settings, scheme: str) -> str:
    """Everything of an asset URL before the object key, with no trailing slash."""
    origin = asset_origin(settings)
    if origin.style == "cdn":
        return f"{scheme}://{origin.domain}"
    if settings.bucket_name is None:
        raise SettingsError(
            "S3_BUCKET_NAME",
            "S3_BUCKET_NAME is not set, so asset URLs have no bucket to point at",
        )
    if origin.style == "path":
        return f"{scheme}://{origin.domain}/{settings.bucket_name}"
    return f"{scheme}://{settings.bucket_name}.{origin.domain}"


def query_string(values: Mapping[str, Any], content_hash: str | None = None) -> str:
    """Extra ``url_for`` values as ``flask.url_for`` renders them, then the
    version: a list, tuple or set gives one pair per item (Werkzeug's
    ``iter_multi_items``), and None is left out, alone or as an item."""
    items: list[tuple[str, Any]] = []
    for name, value in values.items():
        if isinstance(value, (list, tuple, set)):
            items.extend((name, item) for item in value if item is not None)
        elif value is not None:
            items.append((name, value))
    if content_hash is not None:
        items.append((VERSION_PARAMETER, content_hash[:VERSION_DIGITS]))
    try:
        return urlencode(items, safe=_QUERY_SAFE)
    except UnicodeEncodeError:
        names = [name for name, value in items if not _encodable(f"{name}{value}")]
        raise InvalidUrlArgument(
            f"url_for value {', '.join(map(repr, names))} holds text that is "
            "not UTF-8, so it cannot be percent-encoded into the query"
        ) from None


class UrlBuilder:
    """Asset URLs for one set of settings.

    Quoting a key costs more than the rest of a URL, so whole URLs of the
    common call, and quoted paths for the others, are kept in LRU caches of
    ``S3_URL_CACHE_SIZE`` entries each: a site's every file fits, and the
    bound holds because filenames can come from user input.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.default_scheme = asset_origin(settings).scheme or (
            "https" if settings.use_https else "http"
        )
        self._roots: dict[str, str] = {}
        size = settings.url_cache_size
        self.quoted_key = lru_cache(maxsize=size)(self._quoted_key)
        self.plain_url = lru_cache(maxsize=size)(self._plain_url)
        self._query = lru_cache(maxsize=size)(self._query_of_items)

    def _quoted_key(self, url_path: str, filename: str) -> str:
        return quote(object_key(self.settings, url_path, filename), safe="/")

    def _query_of_items(
        self, items: tuple[tuple[str, str | None], ...], content_hash: str | None
    ) -> str:
        return query_string(dict(items), content_hash)

    def query(self, values: Mapping[str, Any], content_hash: str | None) -> str:
        """``query_string``, cached for scalar values: pages repeat the same
        few extra values, and urlencode costs more than the rest. The cache
        is keyed by the text each value renders as, since values that are
        equal can render apart (``True == 1``)."""
        rendered = []  # a loop, not generators: this runs on every such call
        for name, value in values.items():
            if type(value) not in _SCALARS:
                return query_string(values, content_hash)
            rendered.append((name, None if value is None else str(value)))
        return self._query(tuple(rendered), content_hash)

    def _root(self, scheme: str) -> str:
        root = self._roots.get(scheme)
        if root is None:
            root = self._roots[scheme] = site_root(self.settings, scheme)
        return root

    def _plain_url(self, url_path: str, filename: str, digest: str | None) -> str:
        """`url` with none of the extras. Its cache holds the whole URL, so
        the quoted key is not kept a second time."""
        key = self._quoted_key(url_path, filename)
        return self._compose(self.default_scheme, key, {}, None, digest)

    def url(
        self,
        url_path: str,
        filename: str,
        *,
        scheme: str | None = None,
        values: Mapping[str, Any] | None = None,
        anchor: str | None = None,
        digest: str | None = None,
    ) -> str:
        """The URL of ``filename`` under the static route at ``url_path``.

        ``values`` become the query string and ``anchor`` the fragment, as in
        ``flask.url_for``. ``digest``, the SHA-1 of the file's content, busts
        caches as ``S3_CACHE_BUSTING`` says. The common call, with none of the
        extras, is answered from a cache.
        """
        if scheme is None and not values and anchor is None:
            return self.plain_url(url_path, filename, digest)
        if scheme is not None and scheme not in SCHEMES:
            raise InvalidUrlArgument(
                f"_scheme {scheme!r} is not 'http' or 'https'; an asset URL "
                "takes no other scheme"
            )
        return self._compose(
            scheme or self.default_scheme,
            self.quoted_key(url_path, filename),
            values,
            anchor,
            digest,
        )

    def _compose(
        self,
        scheme: str,
        key: str,
        values: Mapping[str, Any] | None,
        anchor: str | None,
        digest: str | None,
    ) -> str:
        """The one place the cache-busting mode is applied: the digest goes
        into the query (``?v=``), into the name (the hashed copy), or nowhere."""
        mode = self.settings.cache_busting
        content_hash = digest if mode == "query" else None
        if digest is not None and mode == "filename":
            key = hashed_name(key, digest)
        url = f"{self._root(scheme)}/{key}"
        query = self.query(values or {}, content_hash)
        if query:
            url = f"{url}?{query}"
        if anchor is not None:
            url = f"{url}#{_fragment(anchor)}"
        return url


def _fragment(anchor: Any) -> str:
    """``_anchor`` quoted as ``flask.url_for`` quotes it; a value that is not
    text (a number) is taken as its ``str``."""
    if not isinstance(anchor, (str, bytes)):
        anchor = str(anchor)
    try:
        return quote(anchor, safe=_ANCHOR_SAFE)
    except UnicodeEncodeError:
        raise InvalidUrlArgument(
            f"_anchor {anchor!r} holds text that is not UTF-8, so it cannot "
            "be percent-encoded into the fragment"
        ) from None
