from __future__ import annotations

from urllib.parse import quote, unquote, urlsplit

from hypothesis import example, given
from hypothesis import strategies as st

from flask_s3.core import UnsafeFilename, UrlBuilder, resolve_settings
from flask_s3.core.urls import served_name

segment = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="/\x00"),
    min_size=1,
    max_size=20,
).filter(lambda part: part not in ("..", "."))
filenames = st.lists(segment, min_size=1, max_size=4).map("/".join)
prefixes = st.sampled_from(["", "p", "/Release/42/", "a b"])
url_paths = st.sampled_from(["", "/static", "/admin/static", "/a b/static"])


@given(
    filename=filenames,
    prefix=prefixes,
    url_path=url_paths,
    style=st.sampled_from(["host", "path"]),
    cdn=st.booleans(),
)
def test_url_path_unquotes_to_the_object_key(
    filename: str, prefix: str, url_path: str, style: str, cdn: bool
) -> None:
    config: dict[str, object] = {
        "S3_BUCKET_NAME": "bucket",
        "S3_PREFIX": prefix,
        "S3_URL_STYLE": style,
    }
    if cdn:
        config["S3_CDN_DOMAIN"] = "cdn.example.com"
    urls = UrlBuilder(resolve_settings(config))
    parts = urlsplit(urls.url(url_path, filename))
    assert not parts.query
    assert not parts.fragment
    assert "+" not in parts.path
    key = "/".join(
        piece for piece in (prefix.strip("/"), url_path.strip("/"), filename) if piece
    )
    bucket_segment = "/bucket" if style == "path" and not cdn else ""
    assert unquote(parts.path) == f"{bucket_segment}/{key}"


@given(filename=filenames, anchor=st.text(max_size=10))
@example(filename="0", anchor="%00")
def test_anchor_never_leaks_into_the_path(filename: str, anchor: str) -> None:
    urls = UrlBuilder(resolve_settings({"S3_BUCKET_NAME": "bucket"}))
    parts = urlsplit(urls.url("/static", filename, anchor=anchor))
    assert unquote(parts.path) == f"/static/{filename}"
    # Quoted as flask.url_for quotes an anchor: '%' is kept as written, so
    # an anchor such as '%00' is not unquoted back, only compared exactly.
    assert parts.fragment == quote(anchor, safe="%!#$&'()*+,/:;=?@")


# Names of every shape a URL can carry: dot segments, empty ones, leading and
# trailing slashes, text that is not ASCII.
raw_segment = st.sampled_from(["", ".", "..", "a", ".h", "é", "a.css", "x y"])
raw_names = st.lists(raw_segment, min_size=1, max_size=5).map("/".join)


def _served_or_refused(name: str) -> str | type[Exception]:
    try:
        return served_name(name)
    except UnsafeFilename:
        return UnsafeFilename


@given(raw_names)
@example("a/b.css")
@example("a//b")
def test_a_name_serves_the_same_file_as_spelt_the_long_way(name: str) -> None:
    # A leading './' and a trailing '/' name the same file, and send the name
    # down the full resolution instead of the shortcut for names that are
    # already plain: both must agree.
    assert _served_or_refused(name) == _served_or_refused(f"./{name}/")
