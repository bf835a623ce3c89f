"""Which CDN paths to invalidate after an upload.

Only paths whose content changed under the same name need it: new files were
never cached, and hashed copies never change. A file whose replacement
failed earlier looks new to the run that finally sends it, so the manifest
keeps such keys as unsettled until then. Past a handful of paths
one wildcard is cheaper (CloudFront bills per path) and as effective.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from urllib.parse import quote

from flask_s3.core.pruning import DeleteReason
from flask_s3.core.upload_plan import Action, Reason, UploadPlan

MAX_PATHS = 15
_CHANGED = (
    Reason.CONTENT_CHANGED,
    Reason.SETTINGS_CHANGED,
    Reason.HEADERS_UNKNOWN,
    Reason.MISSING_IN_BUCKET,
    Reason.CHANGED_IN_BUCKET,
)


def invalidation_paths(
    plan: UploadPlan,
    arrived: Iterable[str] | None = None,
    deleted: Iterable[str] | None = None,
) -> list[str]:
    """CDN paths for the plain keys that were replaced or deleted: each the
    key's path in its URL on the CDN, behind the path of ``S3_CDN_DOMAIN``.
    ``arrived`` and ``deleted`` default to everything planned, which is what
    ``plan`` shows."""
    landed = (
        {item.key for item in plan.items if item.action is not Action.SKIP}
        if arrived is None
        else set(arrived)
    )
    removed = (
        {delete.key for delete in plan.deletes} if deleted is None else set(deleted)
    )
    unsettled = set(plan.remote.unsettled)
    keys = {
        item.key
        for item in plan.items
        if item.source is None
        and item.key in landed
        and (item.reason in _CHANGED or item.key in unsettled)
    }
    gone = {delete.key for delete in plan.deletes if delete.reason is DeleteReason.GONE}
    keys |= gone & removed
    paths = sorted(f"{plan.cdn_path}/{quote(key, safe='/')}" for key in keys)
    if len(paths) <= MAX_PATHS:
        return paths
    common = posixpath.commonprefix(paths)
    return [common[: common.rfind("/") + 1] + "*"]
