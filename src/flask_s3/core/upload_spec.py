"""What is sent with each object: Content-Type, encoding, headers, metadata, ACL.

The spec is derived from settings and the asset's path alone, so the plan can
show it before anything is sent, and its digest (the spec digest) goes into
the manifest: a changed header then re-uploads files whose bytes did not
change.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping

import attrs

from flask_s3.core.hashed_copies import IMMUTABLE_CACHE_CONTROL
from flask_s3.core.media_types import extension, media_type
from flask_s3.core.settings import Settings

# Header names that are boto3 put_object parameters; any other header is
# stored as user metadata (x-amz-meta-*).
_PARAMETERS = {
    "cache-control": "CacheControl",
    "content-disposition": "ContentDisposition",
    "content-encoding": "ContentEncoding",
    "content-language": "ContentLanguage",
    "content-type": "ContentType",
    "expires": "Expires",
}
_METADATA_PREFIX = "x-amz-meta-"


@attrs.frozen
class UploadSpec:
    """Everything about an upload except the bytes."""

    gzip: bool
    acl: str | None
    parameters: tuple[tuple[str, str], ...]
    metadata: tuple[tuple[str, str], ...]
    digest: str = attrs.field(init=False, eq=False, repr=False)
    """A SHA-1 of everything but the bytes: the spec digest. Computed once,
    when the spec is built (a plan asks it twice per asset, and assets alike
    share a spec); a field, since attrs before 24 gives slotted classes no
    cached properties."""

    @digest.default
    def _digest(self) -> str:
        canonical = json.dumps(
            [self.gzip, self.acl, self.parameters, self.metadata], sort_keys=True
        )
        return hashlib.sha1(canonical.encode(), usedforsecurity=False).hexdigest()

    @property
    def content_type(self) -> str:
        return dict(self.parameters)["ContentType"]

    @property
    def content_encoding(self) -> str | None:
        return dict(self.parameters).get("ContentEncoding")

    @property
    def cache_control(self) -> str | None:
        return dict(self.parameters).get("CacheControl")

    def put_arguments(self) -> dict[str, object]:
        """Keyword arguments for boto3's put_object / upload_fileobj."""
        arguments: dict[str, object] = dict(self.parameters)
        if self.metadata:
            arguments["Metadata"] = dict(self.metadata)
        if self.acl is not None:
            arguments["ACL"] = self.acl
        return arguments


def _merged(*layers: Mapping[str, str]) -> dict[str, str]:
    """Later layers win; header names compare case-insensitively."""
    merged: dict[str, tuple[str, str]] = {}
    for layer in layers:
        for name, value in layer.items():
            merged[name.lower()] = (name, value)
    return {name: value for name, value in merged.values()}


def should_gzip(settings: Settings, relative_path: str) -> bool:
    if not settings.gzip:
        return False
    if not settings.gzip_only_exts:
        return True
    return any(
        relative_path.endswith(extension) for extension in settings.gzip_only_exts
    )


def upload_spec(
    settings: Settings, relative_path: str, *, acl: str | None, immutable: bool = False
) -> UploadSpec:
    """The spec of one asset. ``acl`` is the object ACL to send, or None where
    the bucket takes no ACLs (Object Ownership: BucketOwnerEnforced). An
    ``immutable`` (hashed) copy may be cached for a year, unless the
    settings give it a Cache-Control of their own."""
    return _spec(settings, _traits(settings, relative_path), acl, immutable)


_Traits = tuple[str, bool, tuple[int, ...]]
"""All of an asset's path that its spec depends on: its media type, whether
it is gzipped, and which ``S3_FILEPATH_HEADERS`` patterns match it."""


def _traits(settings: Settings, relative_path: str) -> _Traits:
    patterns = settings.filepath_headers
    matching = (
        tuple(
            index
            for index, pattern in enumerate(patterns)
            if re.search(pattern, relative_path)
        )
        if patterns
        else ()
    )
    return media_type(relative_path), should_gzip(settings, relative_path), matching


def _spec(
    settings: Settings, traits: _Traits, acl: str | None, immutable: bool
) -> UploadSpec:
    guessed_type, gzip, matching = traits
    patterns = list(settings.filepath_headers.values())
    path_headers = [patterns[index] for index in matching]
    guessed = {"Content-Type": guessed_type}
    lasting = {"Cache-Control": IMMUTABLE_CACHE_CONTROL} if immutable else {}
    layers = (
        [lasting, settings.headers, guessed, *path_headers]
        if settings.force_mimetype
        else [guessed, lasting, settings.headers, *path_headers]
    )
    if gzip:
        layers.append({"Content-Encoding": "gzip"})
    parameters: list[tuple[str, str]] = []
    metadata: list[tuple[str, str]] = []
    for name, value in _merged(*layers).items():
        parameter = _PARAMETERS.get(name.lower())
        if parameter is not None:
            parameters.append((parameter, value))
        else:
            lowered = name.lower()
            key = (
                lowered[len(_METADATA_PREFIX) :]
                if lowered.startswith(_METADATA_PREFIX)
                else name
            )
            metadata.append((key, value))
    return UploadSpec(
        gzip=gzip,
        acl=acl,
        parameters=tuple(sorted(parameters)),
        metadata=tuple(sorted(metadata)),
    )


class UploadSpecs:
    """The specs of one run's assets. Assets alike (`_Traits`) share one
    spec, built and digested once: a site of 50,000 files has a handful of
    kinds, not 50,000 specs."""

    def __init__(self, settings: Settings, acl: str | None) -> None:
        self._settings = settings
        self._acl = acl
        self._specs: dict[tuple[_Traits, bool], UploadSpec] = {}
        self._by_kind: dict[tuple[str, bool], UploadSpec] = {}
        self._by_extension = not settings.filepath_headers and all(
            suffix.startswith(".") and suffix.count(".") == 1
            for suffix in settings.gzip_only_exts
        )

    def of(self, relative_path: str, *, immutable: bool = False) -> UploadSpec:
        """`upload_spec` of the asset."""
        kind = self._kind(relative_path)
        if kind is not None:
            spec = self._by_kind.get((kind, immutable))
            if spec is None:
                spec = self._by_kind[kind, immutable] = self._of(
                    relative_path, immutable
                )
            return spec
        return self._of(relative_path, immutable)

    def _kind(self, relative_path: str) -> str | None:
        """The part of the name its spec depends on, where that is only its
        last extension: then a site's 50,000 files have a handful of kinds,
        each looked up once. None where a setting looks at more (a
        S3_FILEPATH_HEADERS pattern, or a S3_GZIP_ONLY_EXTS suffix that is
        not one extension), or the name is all extension (``.htaccess``)."""
        if not self._by_extension:
            return None
        return extension(relative_path) or None

    def _of(self, relative_path: str, immutable: bool) -> UploadSpec:
        traits = (_traits(self._settings, relative_path), immutable)
        spec = self._specs.get(traits)
        if spec is None:
            spec = _spec(self._settings, traits[0], self._acl, immutable)
            self._specs[traits] = spec
        return spec
