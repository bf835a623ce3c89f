"""Every error and warning Flask-S3 raises, in one tree.

A caller catches `FlaskS3Error` to handle all of them; the command line maps
each branch to one exit code. botocore's own errors never cross the adapters:
they arrive here wrapped as `S3Error`, naming the operation, bucket and key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask_s3.core.upload_result import UploadResult


class FlaskS3Error(Exception):
    """The base of every exception the package raises on purpose."""


class SettingsError(FlaskS3Error, ValueError):
    """A setting that cannot be used, named by the config key the user wrote."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


class NotInitialised(FlaskS3Error, RuntimeError):
    """``url_for`` was called for an app that ``FlaskS3`` was never given."""


class UnsafeFilename(FlaskS3Error, ValueError):
    """A filename that would name an object outside its static folder's keys."""


class AssetNotFound(FlaskS3Error, LookupError):
    """``integrity()`` was asked about a static file that does not exist: a
    template must not render a page that silently lost its pin."""


class DuplicateKey(FlaskS3Error, ValueError):
    """Two files would be written to the same key, and one would silently win."""


class UnreadableFile(FlaskS3Error):
    """A static file that cannot be read: no plan can say what it holds."""


class FileChanged(FlaskS3Error):
    """The file is not what was planned any more; sending it now would let
    the manifest record a hash of other bytes."""


class ManifestError(FlaskS3Error, ValueError):
    """The manifest object exists but cannot be read; uploading over it blindly
    could lose track of what the bucket holds."""


class S3Error(FlaskS3Error):
    """S3 refused a request, or could not be reached. The message names the
    operation, the bucket and the key, and gives the store's own words."""

    def __init__(
        self,
        message: str,
        *,
        operation: str,
        bucket: str,
        key: str | None = None,
        code: str | None = None,
        reason: str | None = None,
    ) -> None:
        super().__init__(message)
        self.operation = operation
        self.bucket = bucket
        self.key = key
        self.code = code
        """The store's error code (``AccessDenied``), None when it never answered."""
        self.reason = reason or message
        """The store's own words, for a list that already names key and bucket."""


class BucketError(S3Error):
    """A bucket that cannot be used as it is; the message says what to check."""


class UploadFailed(FlaskS3Error):
    """Some assets did not arrive. The manifest does not list them, so running
    the upload again sends exactly those."""

    def __init__(self, result: UploadResult, summary: str | None = None) -> None:
        lines = [f"  {failure.key}: {failure.reason}" for failure in result.failed]
        attempted = len(result.failed) + len(result.uploaded) + len(result.fixed)
        heading = summary or (
            f"{len(result.failed)} of {attempted} uploads failed; "
            "run the upload again to retry them"
        )
        super().__init__("\n".join([heading, *lines]))
        self.result = result


class FlaskS3Warning(UserWarning):
    """The base of the package's warnings."""


class DeprecatedSetting(FlaskS3Warning, FutureWarning):
    """A setting that still works but will go. A FutureWarning, because the
    people who must act are the app's developers, and Python shows those by
    default where it hides a DeprecationWarning raised inside a library."""


class UnknownSetting(FlaskS3Warning):
    """A config key that looks like a misspelt Flask-S3 setting."""
