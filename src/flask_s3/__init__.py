"""Serve a Flask app's static assets from Amazon S3 or any S3-compatible store.

The Flask-facing names are imported on first use, so that ``flask_s3.core``
can be used by workers and scripts without importing Flask at all, and a web
worker that only builds URLs never imports boto3.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from flask_s3.errors import (
    AssetNotFound,
    BucketError,
    FlaskS3Error,
    ManifestError,
    NotInitialised,
    S3Error,
    SettingsError,
    UnreadableFile,
    UnsafeFilename,
    UploadFailed,
)

__version__ = "1.0.0.dev0"

if TYPE_CHECKING:
    from flask_s3.core.upload_result import UploadResult
    from flask_s3.flask.create_all import create_all
    from flask_s3.flask.extension import FlaskS3
    from flask_s3.flask.integrity import integrity
    from flask_s3.flask.url_for import url_for

__all__ = [
    "AssetNotFound",
    "BucketError",
    "FlaskS3",
    "FlaskS3Error",
    "ManifestError",
    "NotInitialised",
    "S3Error",
    "SettingsError",
    "UnreadableFile",
    "UnsafeFilename",
    "UploadFailed",
    "UploadResult",
    "__version__",
    "create_all",
    "integrity",
    "url_for",
]

_HOMES = {
    "FlaskS3": "flask_s3.flask.extension",
    "url_for": "flask_s3.flask.url_for",
    "create_all": "flask_s3.flask.create_all",
    "integrity": "flask_s3.flask.integrity",
    "UploadResult": "flask_s3.core.upload_result",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'flask_s3' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # later look-ups skip this hook: url_for is hot
    return value
