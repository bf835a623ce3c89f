"""Deciding, per asset, whether to upload it and why.

The plan is computed from local hashes and the remote manifest only, so it can
be shown (``plan``) before it is carried out, and the manifests to write before
and after the uploads follow from it and from which uploads arrived.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence

import attrs

from flask_s3.core.manifest import Manifest, ManifestEntry
from flask_s3.core.settings import Settings
from flask_s3.core.static_assets import Asset
from flask_s3.core.upload_spec import UploadSpec, upload_spec


class Action(enum.Enum):
    UPLOAD = "upload"
    SKIP = "skip"


class Reason(enum.Enum):
    NEW = "new"
    CONTENT_CHANGED = "content changed"
    SETTINGS_CHANGED = "upload settings changed"
    UNCHANGED = "unchanged"
    ONLY_MODIFIED_OFF = "unchanged, but S3_ONLY_MODIFIED is off"


@attrs.frozen
class LocalFile:
    """An asset's content as hashed on disk."""

    asset: Asset
    sha1: str
    size: int


@attrs.frozen
class PlannedAsset:
    asset: Asset
    sha1: str
    size: int
    spec: UploadSpec
    action: Action
    reason: Reason

    @property
    def key(self) -> str:
        return self.asset.key

    def manifest_entry(self) -> ManifestEntry:
        return ManifestEntry(self.sha1, self.spec.fingerprint)


def _reason(entry: ManifestEntry | None, sha1: str, spec: UploadSpec) -> Reason:
    if entry is None:
        return Reason.NEW
    if entry.sha1 != sha1:
        return Reason.CONTENT_CHANGED
    if entry.fingerprint is not None and entry.fingerprint != spec.fingerprint:
        return Reason.SETTINGS_CHANGED
    return Reason.UNCHANGED


@attrs.frozen
class UploadPlan:
    items: tuple[PlannedAsset, ...]
    remote: Manifest

    @property
    def uploads(self) -> list[PlannedAsset]:
        return [item for item in self.items if item.action is Action.UPLOAD]

    @property
    def skips(self) -> list[PlannedAsset]:
        return [item for item in self.items if item.action is Action.SKIP]

    def manifest_before_upload(self) -> Manifest | None:
        """The remote record without the keys about to be overwritten, or None
        when it names none of them. Written before the uploads, so that a run
        that dies half-way never leaves a record of content that was replaced."""
        doomed = {item.key for item in self.uploads} & self.remote.entries.keys()
        if not doomed:
            return None
        kept = {
            key: entry
            for key, entry in self.remote.entries.items()
            if key not in doomed
        }
        return Manifest(kept)

    def manifest_after(self, arrived: Iterable[str]) -> Manifest:
        """The record once the uploads in ``arrived`` are known to have landed.

        Keys outside this run (another prefix's filter, files deleted locally)
        are kept; keys whose upload failed are dropped, so the next run sends
        them again.
        """
        arrived = set(arrived)
        entries = dict(self.remote.entries)
        for item in self.items:
            if item.action is Action.SKIP or item.key in arrived:
                entries[item.key] = item.manifest_entry()
            else:
                entries.pop(item.key, None)
        return Manifest(entries)


def plan_uploads(
    settings: Settings,
    local_files: Sequence[LocalFile],
    remote: Manifest,
    *,
    acl: str | None,
) -> UploadPlan:
    """Upload what is new or changed (everything, unless S3_ONLY_MODIFIED)."""
    items = []
    for local in local_files:
        spec = upload_spec(settings, local.asset.relative_path, acl=acl)
        reason = _reason(remote.entries.get(local.asset.key), local.sha1, spec)
        action = Action.UPLOAD
        if reason is Reason.UNCHANGED:
            if settings.only_modified:
                action = Action.SKIP
            else:
                reason = Reason.ONLY_MODIFIED_OFF
        items.append(
            PlannedAsset(local.asset, local.sha1, local.size, spec, action, reason)
        )
    return UploadPlan(tuple(items), remote)
