"""The manifest's bytes in the bucket: read with their ETag, swapped on it.

Nothing here knows the manifest's format or how records merge: the core owns
that, and the deploy service sequences a read, a merge and a swap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from flask_s3.adapters.aws import error_code, s3_error, translated

if TYPE_CHECKING:
    from types_boto3_s3.client import S3Client

_LOST_RACE = ("PreconditionFailed", "412", "ConditionalRequestConflict")


class ManifestStore:
    def __init__(self, client: S3Client, bucket: str) -> None:
        self.client = client
        self.bucket = bucket

    def read(self, key: str) -> tuple[bytes | None, str | None]:
        """An object's body and ETag, or (None, None) when there is none."""
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
            return response["Body"].read(), response.get("ETag")
        except ClientError as exc:
            if error_code(exc) in ("NoSuchKey", "404"):
                return None, None
            raise s3_error(exc, "GetObject", self.bucket, key) from exc
        except BotoCoreError as exc:
            raise s3_error(exc, "GetObject", self.bucket, key) from exc

    def swap(self, key: str, etag: str | None, body: bytes) -> bool:
        """Write ``body`` if the object still has ``etag`` (if it is still
        absent, for None); False when another writer got there first."""
        arguments: Any = {
            "Bucket": self.bucket,
            "Key": key,
            "Body": body,
            "ContentType": "application/json",
            "CacheControl": "no-cache",
        }
        condition: Any = {"IfMatch": etag} if etag else {"IfNoneMatch": "*"}
        try:
            self.client.put_object(**arguments, **condition)
        except ClientError as exc:
            if error_code(exc) in _LOST_RACE:
                return False
            if error_code(exc) != "NotImplemented":
                raise s3_error(exc, "PutObject", self.bucket, key) from exc
            # An S3-compatible store without conditional writes: best effort.
            with translated("PutObject", self.bucket, key):
                self.client.put_object(**arguments)
        except BotoCoreError as exc:
            raise s3_error(exc, "PutObject", self.bucket, key) from exc
        return True
