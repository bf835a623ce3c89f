"""Deciding, per asset, whether to upload it and why; and what to prune.

The plan is computed from local hashes and the remote manifest only, so it can
be shown (``plan``) before it is carried out. What the run may then record is
its `RunRecord`, whose transitions the manifest module owns.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence

import attrs

from flask_s3.core.frozen import FrozenDict
from flask_s3.core.hashed_copies import hashed_name
from flask_s3.core.manifest import Manifest, ManifestEntry, RunRecord
from flask_s3.core.pruning import PlannedDelete, prune_plan
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
    HASHED_COPY_EXISTS = "hashed copy exists"


@attrs.frozen
class LocalFile:
    """An asset's content as hashed on disk."""

    asset: Asset
    sha1: str
    size: int
    stamp: tuple[int, int, int] | None = None
    """(mtime in ns, size, inode) when hashed, so an upload can tell that the
    file changed since; None for a listing that did not come from a disk."""


@attrs.frozen
class PlannedAsset:
    asset: Asset
    sha1: str
    size: int
    spec: UploadSpec
    action: Action
    reason: Reason
    source: str | None = None
    """For a hashed copy, the plain key it copies."""
    stamp: tuple[int, int, int] | None = None

    @property
    def key(self) -> str:
        return self.asset.key


def _reason(entry: ManifestEntry | None, sha1: str, spec: UploadSpec) -> Reason:
    if entry is None:
        return Reason.NEW
    if entry.sha1 != sha1:
        return Reason.CONTENT_CHANGED
    if entry.spec_digest is not None and entry.spec_digest != spec.digest:
        return Reason.SETTINGS_CHANGED
    return Reason.UNCHANGED


@attrs.frozen
class UploadPlan:
    items: tuple[PlannedAsset, ...]
    remote: Manifest
    deploy: int
    """This run's deploy number: one more than the last if any content was
    added, changed or removed; a run that changes nothing is not a new
    version of the site."""
    deletes: tuple[PlannedDelete, ...] = ()

    @property
    def uploads(self) -> list[PlannedAsset]:
        return [item for item in self.items if item.action is Action.UPLOAD]

    @property
    def skips(self) -> list[PlannedAsset]:
        return [item for item in self.items if item.action is Action.SKIP]

    def record(self) -> RunRecord:
        return RunRecord(
            read=self.remote,
            deploy=self.deploy,
            entries=FrozenDict(
                (
                    item.key,
                    ManifestEntry(
                        item.sha1, item.spec.digest, item.source, self.deploy
                    ),
                )
                for item in self.items
            ),
            sending=frozenset(item.key for item in self.uploads),
            kept_copies=frozenset(
                item.key
                for item in self.items
                if item.reason is Reason.HASHED_COPY_EXISTS
            ),
        )


def _planned(
    settings: Settings, local: LocalFile, remote: Manifest, acl: str | None
) -> list[PlannedAsset]:
    spec = upload_spec(settings, local.asset.relative_path, acl=acl)
    reason = _reason(remote.entries.get(local.asset.key), local.sha1, spec)
    action = Action.UPLOAD
    if reason is Reason.UNCHANGED:
        if settings.only_modified:
            action = Action.SKIP
        else:
            reason = Reason.ONLY_MODIFIED_OFF
    items = [
        PlannedAsset(
            local.asset, local.sha1, local.size, spec, action, reason, stamp=local.stamp
        )
    ]
    if settings.cache_busting == "filename":
        key = hashed_name(local.asset.key, local.sha1)
        exists = key in remote.entries  # its name proves its content
        items.append(
            PlannedAsset(
                attrs.evolve(local.asset, key=key),
                local.sha1,
                local.size,
                upload_spec(
                    settings, local.asset.relative_path, acl=acl, immutable=True
                ),
                Action.SKIP if exists else Action.UPLOAD,
                Reason.HASHED_COPY_EXISTS if exists else Reason.NEW,
                source=local.asset.key,
                stamp=local.stamp,
            )
        )
    return items


def plan_uploads(
    settings: Settings,
    local_files: Sequence[LocalFile],
    remote: Manifest,
    *,
    acl: str | None,
    local_keys: frozenset[str] = frozenset(),
) -> UploadPlan:
    """Upload what is new or changed (everything, unless S3_ONLY_MODIFIED), and
    under S3_PRUNE delete what the manifest recorded and is gone. ``local_keys``
    are the keys of every local file, filtered out or hidden ones included."""
    items = tuple(
        item for local in local_files for item in _planned(settings, local, remote, acl)
    )
    # A new version of the site is content added, changed or pruned; re-sending
    # unchanged files (S3_ONLY_MODIFIED off) or new headers must not age the
    # copies that cached pages still use.
    planned = {item.key for item in items}
    pruned_files = settings.prune and any(
        entry.source is None and key not in planned and key not in local_keys
        for key, entry in remote.entries.items()
    )
    changed = pruned_files or any(
        item.reason in (Reason.NEW, Reason.CONTENT_CHANGED) for item in items
    )
    deploy = remote.deploys + 1 if changed else remote.deploys
    deletes: tuple[PlannedDelete, ...] = ()
    if settings.prune:
        deletes = prune_plan(
            remote,
            planned,
            local_keys,
            deploy=deploy,
            keep=settings.prune_keep,
        )
    return UploadPlan(items, remote, deploy, deletes)
