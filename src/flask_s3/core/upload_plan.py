"""Deciding, per asset, whether to upload it and why; and what to prune.

The plan is computed from local hashes and the remote manifest only, so it can
be shown (``plan``) before it is carried out, and the manifests to write before
and after the uploads follow from it and from which uploads arrived.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence

import attrs

from flask_s3.core.fingerprints import fingerprinted
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
    FINGERPRINT_EXISTS = "fingerprinted copy exists"


class DeleteReason(enum.Enum):
    GONE = "no longer exists locally"
    OLD_FINGERPRINT = "fingerprinted copy older than S3_PRUNE_KEEP deploys"


@attrs.frozen
class LocalFile:
    """An asset's content as hashed on disk."""

    asset: Asset
    sha1: str
    size: int
    stamp: tuple[int, int] | None = None
    """(mtime in ns, size) when hashed, so an upload can tell that the file
    changed since; None for a listing that did not come from a disk."""


@attrs.frozen
class PlannedAsset:
    asset: Asset
    sha1: str
    size: int
    spec: UploadSpec
    action: Action
    reason: Reason
    source: str | None = None
    """For a fingerprinted copy, the plain key it copies."""
    stamp: tuple[int, int] | None = None

    @property
    def key(self) -> str:
        return self.asset.key


@attrs.frozen
class PlannedDelete:
    key: str
    reason: DeleteReason


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
        return attrs.evolve(self.remote, entries=kept, unsettled=self._unsettled(()))

    def _unsettled(self, arrived: Iterable[str]) -> tuple[str, ...]:
        """Plain keys being replaced stay unsettled until their upload lands."""
        replacing = {
            item.key
            for item in self.uploads
            if item.source is None and item.key in self.remote.entries
        }
        pending = (set(self.remote.unsettled) | replacing) - set(arrived)
        return tuple(sorted(pending))

    def manifest_after(
        self, arrived: Iterable[str], *, without: Iterable[str] = ()
    ) -> Manifest:
        """The record once the uploads in ``arrived`` are known to have landed,
        and the keys in ``without`` are (about to be) deleted.

        Keys outside this run (another prefix's filter, files deleted locally)
        are kept; keys whose upload failed are dropped, so the next run sends
        them again. Every file of this run is stamped with this deploy.
        """
        arrived = set(arrived)
        entries = dict(self.remote.entries)
        for item in self.items:
            previous = entries.get(item.key)
            if item.reason is Reason.FINGERPRINT_EXISTS and previous is not None:
                entries[item.key] = attrs.evolve(previous, deploy=self.deploy)
            elif item.action is Action.SKIP or item.key in arrived:
                entries[item.key] = ManifestEntry(
                    item.sha1, item.spec.fingerprint, item.source, self.deploy
                )
            else:
                entries.pop(item.key, None)
        for key in without:
            entries.pop(key, None)
        return Manifest(
            entries, deploys=self.deploy, unsettled=self._unsettled(arrived)
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
        key = fingerprinted(local.asset.key, local.sha1)
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
                Reason.FINGERPRINT_EXISTS if exists else Reason.NEW,
                source=local.asset.key,
                stamp=local.stamp,
            )
        )
    return items


def prune_plan(
    remote: Manifest,
    planned: Iterable[str],
    local_keys: frozenset[str],
    *,
    deploy: int,
    keep: int,
) -> tuple[PlannedDelete, ...]:
    """Keys to delete: only ones the manifest recorded, never one planned or
    present locally, and never a fingerprinted copy that was current within
    the last ``keep`` deploys (this one included), since cached pages of those
    deploys still point at it."""
    planned = set(planned)
    spared = planned | local_keys
    # A file that exists but was not hashed in this run (a hidden one, say)
    # has a current copy nobody can name here, so all its copies stay.
    unhashed = local_keys - planned
    deletes = []
    for key, entry in sorted(remote.entries.items()):
        if key in spared or entry.source in unhashed:
            continue
        if entry.source is None:
            deletes.append(PlannedDelete(key, DeleteReason.GONE))
        elif entry.deploy <= deploy - keep:
            deletes.append(PlannedDelete(key, DeleteReason.OLD_FINGERPRINT))
    return tuple(deletes)


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
