"""Deciding, per asset, whether to send it and why; and what to prune.

The plan is computed from local hashes, the remote manifest and, with
``--verify``, a listing of the bucket, so it can be shown (``plan``) before it
is carried out. What the run may then record is its `RunRecord`, whose
transitions the manifest package owns.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping

import attrs

from flask_s3.core.frozen import FrozenDict
from flask_s3.core.hashed_copies import hashed_name
from flask_s3.core.manifest import Manifest, ManifestEntry, RunRecord
from flask_s3.core.pruning import PlannedDelete, prune_plan
from flask_s3.core.settings import Settings
from flask_s3.core.static_assets import Asset
from flask_s3.core.upload_spec import UploadSpec, UploadSpecs
from flask_s3.core.urls import cdn_path

Listed = tuple[int, str]
"""An object as a bucket listing shows it: size and unquoted ETag."""


class Action(enum.Enum):
    UPLOAD = "upload"
    FIX_HEADERS = "fix headers"
    """Copy the object onto itself with the planned headers: the bytes are
    right, only how they are served is not known."""
    SKIP = "skip"


class Reason(enum.Enum):
    NEW = "new"
    CONTENT_CHANGED = "content changed"
    SETTINGS_CHANGED = "upload settings changed"
    HEADERS_UNKNOWN = "headers unknown (uploaded by Flask-S3 0.3.x)"
    MISSING_IN_BUCKET = "missing in bucket"
    CHANGED_IN_BUCKET = "changed in bucket"
    UNCHANGED = "unchanged"
    ONLY_MODIFIED_OFF = "unchanged, but S3_ONLY_MODIFIED is off"
    HASHED_COPY_EXISTS = "hashed copy exists"


_SENT = (Action.UPLOAD, Action.FIX_HEADERS)


@attrs.frozen(weakref_slot=False)
class LocalFile:
    """An asset's content as hashed on disk. A preview holds one per file
    (and one `PlannedAsset`), and a deploy one per file it sends, so neither
    has a weakref slot, and the stamp is kept as its parts, not as a tuple
    of its own."""

    asset: Asset
    sha1: str
    size: int
    mtime_ns: int | None = None
    """When hashed; None for a listing that did not come from a disk."""
    inode: int | None = None

    @property
    def stamp(self) -> tuple[int, int, int] | None:
        """(mtime in ns, size, inode) when hashed, so an upload can tell that
        the file changed since."""
        if self.mtime_ns is None or self.inode is None:
            return None
        return (self.mtime_ns, self.size, self.inode)


@attrs.frozen(weakref_slot=False)
class PlannedAsset:
    asset: Asset
    """The local file's asset, or for its hashed copy the same under the
    copy's key."""
    local: LocalFile
    spec: UploadSpec
    action: Action
    reason: Reason
    source: str | None = None
    """For a hashed copy, the plain key it copies."""

    @property
    def key(self) -> str:
        return self.asset.key

    @property
    def sha1(self) -> str:
        return self.local.sha1

    @property
    def size(self) -> int:
        return self.local.size

    @property
    def stamp(self) -> tuple[int, int, int] | None:
        return self.local.stamp


def _damage(entry: ManifestEntry, listed: Listed | None) -> Reason | None:
    """What a listing says of a recorded object, compared on what the record
    knows (0.3.x recorded neither size nor ETag)."""
    if listed is None:
        return Reason.MISSING_IN_BUCKET
    size, etag = listed
    if (entry.size is not None and entry.size != size) or (
        entry.etag is not None and entry.etag != etag
    ):
        return Reason.CHANGED_IN_BUCKET
    return None


def _reason(
    entry: ManifestEntry | None,
    sha1: str,
    spec: UploadSpec,
    listing: Mapping[str, Listed] | None,
    key: str,
) -> Reason:
    if entry is None:
        return Reason.NEW
    if listing is not None and (damage := _damage(entry, listing.get(key))):
        return damage
    if entry.sha1 != sha1:
        return Reason.CONTENT_CHANGED
    if entry.spec_digest is None:
        return Reason.HEADERS_UNKNOWN
    if entry.spec_digest != spec.digest:
        return Reason.SETTINGS_CHANGED
    return Reason.UNCHANGED


@attrs.frozen
class UploadPlan:
    items: tuple[PlannedAsset, ...]
    """What is sent; in a detailed plan, what is skipped too."""
    remote: Manifest
    """The record planned against: this app's keys of its manifest, or of
    0.3.x's ``.file-hashes`` where it has no manifest yet."""
    deploy: int
    """This run's deploy number: one more than the last if any content was
    added, changed or removed; a run that changes nothing is not a new
    version of the site."""
    deletes: tuple[PlannedDelete, ...] = ()
    read: Manifest = attrs.field(factory=Manifest)
    """The manifest as read, which this run's changes are measured against."""
    cdn_path: str = ""
    """The path the CDN serves the keys under (`urls.cdn_path`): CDN paths
    to invalidate are keys behind it."""
    skipped: tuple[str, ...] = ()
    """The keys left as they are, detailed plan or not."""

    @property
    def uploads(self) -> list[PlannedAsset]:
        return [item for item in self.items if item.action is Action.UPLOAD]

    @property
    def fixes(self) -> list[PlannedAsset]:
        return [item for item in self.items if item.action is Action.FIX_HEADERS]

    def record(self) -> RunRecord:
        return RunRecord(
            read=self.read,
            deploy=self.deploy,
            entries=FrozenDict(
                (
                    item.key,
                    ManifestEntry(
                        item.sha1, item.spec.digest, item.source, self.deploy
                    ),
                )
                for item in self.items
                if item.action in _SENT
            ),
            sending=frozenset(item.key for item in self.items if item.action in _SENT),
            skipped=frozenset(self.skipped),
            deleting=frozenset(delete.key for delete in self.deletes),
        )


def _planned(
    settings: Settings,
    local: LocalFile,
    remote: Manifest,
    specs: UploadSpecs,
    listing: Mapping[str, Listed] | None,
) -> list[PlannedAsset]:
    key = local.asset.key
    spec = specs.of(local.asset.relative_path)
    reason = _reason(remote.entries.get(key), local.sha1, spec, listing, key)
    action = Action.UPLOAD
    if reason is Reason.HEADERS_UNKNOWN:
        action = Action.FIX_HEADERS
    elif reason is Reason.UNCHANGED:
        if settings.only_modified:
            action = Action.SKIP
        else:
            reason = Reason.ONLY_MODIFIED_OFF
    items = [PlannedAsset(local.asset, local, spec, action, reason)]
    if settings.cache_busting == "filename":
        copy = hashed_name(key, local.sha1)
        entry = remote.entries.get(copy)
        # Its name proves its content, unless a listing says it is damaged.
        copy_reason = Reason.NEW if entry is None else Reason.HASHED_COPY_EXISTS
        if entry is not None and listing is not None:
            copy_reason = _damage(entry, listing.get(copy)) or copy_reason
        exists = copy_reason is Reason.HASHED_COPY_EXISTS
        items.append(
            PlannedAsset(
                attrs.evolve(local.asset, key=copy),
                local,
                specs.of(local.asset.relative_path, immutable=True),
                Action.SKIP if exists else Action.UPLOAD,
                copy_reason,
                source=key,
            )
        )
    return items


def plan_uploads(
    settings: Settings,
    local_files: Iterable[LocalFile],
    remote: Manifest,
    *,
    acl: str | None,
    local_keys: frozenset[str] = frozenset(),
    read: Manifest | None = None,
    listing: Mapping[str, Listed] | None = None,
    detailed: bool = True,
) -> UploadPlan:
    """Upload what is new or changed (everything, unless S3_ONLY_MODIFIED), and
    under S3_PRUNE delete what the manifest recorded and is gone. ``local_keys``
    are the keys of every local file, filtered out or hidden ones included;
    ``read`` is the manifest as read, when ``remote`` is not it; ``listing``,
    the bucket's objects under this app's keys, when verifying.

    Each file is planned as it comes. Unless ``detailed``, a skipped file is
    kept as its key alone: most of a big site's files are skipped, and a run
    that plans them as they are hashed holds nothing else of them (a preview
    shows every file, so it keeps them all)."""
    specs = UploadSpecs(settings, acl)
    kept: list[PlannedAsset] = []
    skipped: list[str] = []
    for local in local_files:
        for item in _planned(settings, local, remote, specs, listing):
            if item.action is not Action.SKIP:
                kept.append(item)
                continue
            skipped.append(item.key)
            if detailed:
                kept.append(item)
    items = tuple(kept)
    # A new version of the site is content added, changed or pruned; re-sending
    # unchanged files (S3_ONLY_MODIFIED off) or new headers must not age the
    # copies that cached pages still use.
    planned = {item.key for item in items} | set(skipped) if settings.prune else set()
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
    return UploadPlan(
        items,
        remote,
        deploy,
        deletes,
        remote if read is None else read,
        cdn_path(settings),
        tuple(skipped),
    )
