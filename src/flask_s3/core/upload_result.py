"""What an upload run did; `flask_s3.errors.UploadFailed` carries it when
some of it failed."""

from __future__ import annotations

import attrs


@attrs.frozen
class FailedUpload:
    key: str
    reason: str


@attrs.frozen
class UploadResult:
    uploaded: tuple[str, ...]
    skipped: tuple[str, ...]
    failed: tuple[FailedUpload, ...]
    bytes_uploaded: int
    seconds: float
    fixed: tuple[str, ...] = ()
    """Objects whose headers were replaced in place (0.3.x migration)."""
    deleted: tuple[str, ...] = ()
    invalidation_id: str | None = None
    warnings: tuple[str, ...] = ()
    """What went wrong after the uploads arrived (a failed delete or CDN
    invalidation): reported, but the upload itself is done."""

    @property
    def ok(self) -> bool:
        return not self.failed
