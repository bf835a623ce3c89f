"""Which local files become which objects: discovery over a listing.

The filesystem walk is an adapter; this module decides, from the relative
paths it found, what is published and under which key. Keeping the decision
here lets the rules (hidden files, the path filter, key clashes) be tested on
any listing without touching a disk.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

import attrs

from flask_s3.core.frozen import FrozenDict
from flask_s3.core.settings import Settings
from flask_s3.core.urls import key_prefix, served_name
from flask_s3.errors import DuplicateKey


@attrs.frozen
class StaticRoot:
    """A static folder and the URL path Flask serves it at."""

    folder: str
    url_path: str
    endpoint: str = "static"


# One per file, all held by a preview: no weakref slot.
@attrs.frozen(weakref_slot=False)
class Origin:
    """The file a listed path named when the folder was walked. Hashing and
    uploading open ``path`` again later, and use what they opened only if it
    is still this file (same device and inode): by then the listed path may
    have been swapped for a link out of the folder."""

    folder: str
    """The static folder's own resolved path, shared by its files."""
    target: str
    """The file's path below ``folder``, with every link resolved and ``/``
    separators: a link's target is hidden if this is."""
    device: int
    inode: int

    @property
    def path(self) -> str:
        """Absolute, with every link resolved: opening it follows none. Built
        when opened, not kept: a big site lists tens of thousands of files."""
        return f"{self.folder.rstrip('/')}/{self.target}"


@attrs.frozen
class Listing:
    """Files a walk of one static root found: paths relative to its folder,
    always with ``/`` separators. A walk of a disk hands over one folder's
    files at a time, so a root may have many."""

    root: StaticRoot
    relative_paths: tuple[str, ...]
    origins: FrozenDict[str, Origin] = attrs.field(factory=FrozenDict)
    """The file each relative path named, for a walk of a disk."""


# One per file, all held by a preview: no weakref slot.
@attrs.frozen(weakref_slot=False)
class Asset:
    key: str
    root: StaticRoot
    relative_path: str
    origin: Origin | None = None
    """None for a listing that did not come from a disk."""

    @property
    def local_path(self) -> str:
        return f"{self.root.folder.rstrip('/')}/{self.relative_path}"


def is_hidden(relative_path: str) -> bool:
    """Dot-files and anything under a dot-directory (``.git/``, ``.env``) stay
    private: publishing them by accident can leak secrets."""
    # Some component starts with a dot: the first one, or one after a slash.
    return relative_path.startswith(".") or "/." in relative_path


def is_private(relative_path: str, origin: Origin | None) -> bool:
    """Hidden by its own name, or by what it links to: ``vendor -> .git``
    would publish ``.git/config`` as ``vendor/config``. Only the target's
    path inside the static folder counts; the folder may itself live under
    a hidden directory (``~/.local/...``), which its owner chose to serve."""
    if is_hidden(relative_path):
        return True
    # Where no link was crossed the target is the path itself (one string).
    return (
        origin is not None
        and origin.target is not relative_path
        and is_hidden(origin.target)
    )


def discover_assets(
    settings: Settings,
    listings: Iterable[Listing],
    *,
    include_hidden: bool = False,
    filepath_filter_regex: str | None = None,
) -> Iterator[Asset]:
    """The assets to publish, in listing order, each with its object key; one
    by one, as the listings come, so that a walk, the hashing and the plan
    hold one folder at a time."""
    try:
        path_filter = (
            re.compile(filepath_filter_regex) if filepath_filter_regex else None
        )
    except re.error as exc:
        raise ValueError(
            f"filepath_filter_regex {filepath_filter_regex!r} is not a regular "
            f"expression: {exc}"
        ) from None
    return _discovered(settings, listings, include_hidden, path_filter)


def _discovered(
    settings: Settings,
    listings: Iterable[Listing],
    include_hidden: bool,
    path_filter: re.Pattern[str] | None,
) -> Iterator[Asset]:
    # The root of each key so far, not its asset: the key's string is kept
    # anyway, and is the asset's served name behind the root's prefix.
    owners: dict[str, StaticRoot] = {}
    for listing in listings:
        prefix = key_prefix(settings, listing.root.url_path)
        for relative_path in listing.relative_paths:
            origin = listing.origins.get(relative_path)
            if not include_hidden and is_private(relative_path, origin):
                continue
            if path_filter is not None and not path_filter.search(relative_path):
                continue
            asset = Asset(
                prefix + served_name(relative_path),
                listing.root,
                relative_path,
                origin,
            )
            owner = owners.get(asset.key)
            if owner is not None:
                first = key_prefix(settings, owner.url_path)
                raise DuplicateKey(
                    f"{owner.folder.rstrip('/')}/{asset.key[len(first) :]} and "
                    f"{asset.local_path} would both be uploaded as {asset.key!r}: "
                    "give one of their static folders another static_url_path"
                )
            owners[asset.key] = listing.root
            yield asset


def key_scope(settings: Settings, roots: Iterable[StaticRoot]) -> tuple[str, ...]:
    """The key prefixes this app owns: ``S3_PREFIX`` and each static URL path.
    A run reads, records and prunes only keys under them, so apps that share
    a bucket (and even a prefix) never touch each other's objects."""
    return tuple(sorted({key_prefix(settings, root.url_path) for root in roots}))


def in_scope(key: str, scope: tuple[str, ...]) -> bool:
    return key.startswith(scope)
