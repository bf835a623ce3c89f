"""What an upload run did, and the error that reports what it could not do."""

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
    deleted: tuple[str, ...] = ()
    invalidation_id: str | None = None
    warnings: tuple[str, ...] = ()
    """What went wrong after the uploads arrived (a failed delete or CDN
    invalidation): reported, but the upload itself is done."""

    @property
    def ok(self) -> bool:
        return not self.failed


class UploadFailed(Exception):
    """Some assets did not arrive. The manifest does not list them, so running
    the upload again sends exactly those."""

    def __init__(self, result: UploadResult, summary: str | None = None) -> None:
        lines = [f"  {failure.key}: {failure.reason}" for failure in result.failed]
        heading = summary or (
            f"{len(result.failed)} of "
            f"{len(result.failed) + len(result.uploaded)} uploads failed; "
            "run the upload again to retry them"
        )
        super().__init__("\n".join([heading, *lines]))
        self.result = result
