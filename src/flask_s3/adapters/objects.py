"""Objects in the bucket: sending one asset, and deleting keys in batches.

Big files stream from their path in parts, and gzip goes through a spool that
moves to disk when large, so memory stays flat whatever the asset's size.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from typing import IO, TYPE_CHECKING, Any

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import BotoCoreError, ClientError

from flask_s3.adapters.aws import describe_error, translated
from flask_s3.adapters.file_hashes import stamp_of
from flask_s3.core.upload_plan import PlannedAsset
from flask_s3.errors import FileChanged

if TYPE_CHECKING:
    from types_boto3_s3.client import S3Client

MIB = 1024 * 1024
MULTIPART_THRESHOLD = 8 * MIB
SMALL_BODY = MIB
DELETE_BATCH = 1000
_GZIP_IN_MEMORY = 8 * MIB


class Objects:
    def __init__(self, client: S3Client, bucket: str) -> None:
        self.client = client
        self.bucket = bucket
        self._transfer = TransferConfig(
            multipart_threshold=MULTIPART_THRESHOLD,
            multipart_chunksize=MULTIPART_THRESHOLD,
            max_concurrency=4,
        )
        # From a file object, s3transfer buffers up to ten parts in memory by
        # default; a gzip spool of a big asset would then cost ~100 MiB.
        self._spool = TransferConfig(
            multipart_threshold=MULTIPART_THRESHOLD,
            multipart_chunksize=MULTIPART_THRESHOLD,
            max_concurrency=2,
        )
        self._spool.max_in_memory_upload_chunks = 2

    def delete(self, keys: Sequence[str]) -> dict[str, str]:
        """Delete in batches of 1000, the most one request takes; returns why
        each key that could not be deleted failed."""
        failures: dict[str, str] = {}
        for start in range(0, len(keys), DELETE_BATCH):
            batch = keys[start : start + DELETE_BATCH]
            try:
                response = self.client.delete_objects(
                    Bucket=self.bucket,
                    Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True},
                )
            except (ClientError, BotoCoreError) as exc:
                failures.update(dict.fromkeys(batch, describe_error(exc)))
                continue
            for error in response.get("Errors", []):
                failures[error.get("Key", "?")] = (
                    f"{error.get('Code', 'error')}: {error.get('Message', '')}"
                )
        return failures

    def upload(self, item: PlannedAsset) -> None:
        """Send one asset. A file whose stamp moved since it was hashed fails,
        whatever arrived: its hash would be a lie."""
        with translated("PutObject", self.bucket, item.key):
            self._send(item)
        if item.stamp is not None and _stamp(item.asset.local_path) != item.stamp:
            raise FileChanged("the file changed while it was uploaded; run again")

    def _send(self, item: PlannedAsset) -> None:
        arguments: Any = item.spec.put_arguments()
        path = item.asset.local_path
        if item.spec.gzip:
            with open(path, "rb") as source, _gzipped(source) as body:
                size = body.seek(0, 2)
                body.seek(0)
                if size < MULTIPART_THRESHOLD:
                    self._put(body, size, item.key, arguments)
                else:
                    self.client.upload_fileobj(
                        body,
                        self.bucket,
                        item.key,
                        ExtraArgs=arguments,
                        Config=self._spool,
                    )
            return
        size = os.stat(path).st_size
        if size < MULTIPART_THRESHOLD:
            with open(path, "rb") as source:
                self._put(source, size, item.key, arguments, sha1=item.sha1)
        else:
            self.client.upload_file(
                path, self.bucket, item.key, ExtraArgs=arguments, Config=self._transfer
            )

    def _put(
        self,
        body: IO[bytes],
        size: int,
        key: str,
        arguments: Any,
        *,
        sha1: str | None = None,
    ) -> None:
        """Small bodies go as bytes: botocore sends a file object with
        'Expect: 100-continue', which costs a round trip per object. Bytes
        read whole are checked against the planned ``sha1`` before sending."""
        payload: IO[bytes] | bytes = body
        if size <= SMALL_BODY:
            payload = body.read()
            digest = hashlib.sha1(payload, usedforsecurity=False).hexdigest()
            if sha1 is not None and digest != sha1:
                raise FileChanged("the file changed after it was planned; run again")
        self.client.put_object(Bucket=self.bucket, Key=key, Body=payload, **arguments)


def _stamp(path: str) -> tuple[int, int, int] | None:
    try:
        return stamp_of(path)
    except OSError:
        return None


@contextlib.contextmanager
def _gzipped(source: IO[bytes]) -> Iterator[IO[bytes]]:
    """Deterministic gzip (no name, no timestamp): the same input always gives
    the same bytes, so re-uploads do not change ETags for nothing."""
    with tempfile.SpooledTemporaryFile(max_size=_GZIP_IN_MEMORY) as spool:
        with gzip.GzipFile(filename="", mode="wb", fileobj=spool, mtime=0) as packed:
            shutil.copyfileobj(source, packed, MIB)
        spool.seek(0)
        yield spool
