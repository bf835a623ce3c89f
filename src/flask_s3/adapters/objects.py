"""Objects in the bucket: sending one asset, fixing its headers in place,
listing what is there, and deleting keys in batches.

Each asset is sent from one open descriptor of the file the walk listed
(`open_listed`), checked to be that file, unchanged since it was hashed; big
files go in parts, each read from that descriptor as it is sent, and gzip
goes through a spool that moves to disk when large, so memory stays flat
whatever the asset's size and however many go at once.
Each write returns what the bucket answered (size, ETag), for the record.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import logging
import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import IO, TYPE_CHECKING, Any, Literal, cast

from boto3.s3.transfer import ProgressCallbackInvoker, TransferConfig
from botocore.exceptions import BotoCoreError, ClientError
from s3transfer.manager import TransferManager
from s3transfer.utils import OSUtils

from flask_s3.adapters.aws import (
    SMALL_BODY,
    describe_error,
    not_implemented,
    translated,
)
from flask_s3.adapters.listed_files import ListedFile, SizedReader, open_listed
from flask_s3.core.manifest import Stored
from flask_s3.core.upload_plan import Action, Listed, PlannedAsset
from flask_s3.errors import FileChanged, S3Error

if TYPE_CHECKING:
    from types_boto3_s3.client import S3Client

logger = logging.getLogger("flask_s3")

MIB = 1024 * 1024
ReadBack = Literal["same", "framed", "other"]
_FRAME_HEAD = 128
_FRAMED = re.compile(rb"[0-9a-fA-F]+(;chunk-signature=[0-9a-f]+)?\r\n")
"""The start of an aws-chunked body: the first chunk's size in hex."""
MULTIPART_THRESHOLD = 8 * MIB
PARTS_IN_FLIGHT = 4
"""Parts of one big asset sent at once: a big file on a far bucket needs a
few streams to fill the link, and the other uploads in flight share it."""
DELETE_BATCH = 1000
_GZIP_IN_MEMORY = 8 * MIB
_NO_OBJECT = ("404", "NoSuchKey", "NotFound")
"""What HeadObject answers for a key that does not exist."""


class Objects:
    def __init__(
        self,
        client: S3Client,
        bucket: str,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        self.client = client
        self.bucket = bucket
        self.progress = progress
        """Told of the bytes sent as they go: a big asset moves a progress bar
        part by part, not only when it is done."""
        self._parts = TransferConfig(
            multipart_threshold=MULTIPART_THRESHOLD,
            multipart_chunksize=MULTIPART_THRESHOLD,
            max_concurrency=PARTS_IN_FLIGHT,
        )
        self._lock = threading.Lock()
        self.acls = True
        """False once the store said it does not implement object ACLs."""
        self.batch_deletes = True
        """False once the store said it does not implement DeleteObjects."""

    def delete(self, keys: Sequence[str]) -> dict[str, str]:
        """Delete in batches of 1000, the most one request takes, or one key
        at a time where the store has no DeleteObjects (GCS); returns why each
        key that could not be deleted failed."""
        failures: dict[str, str] = {}
        for start in range(0, len(keys), DELETE_BATCH):
            batch = keys[start : start + DELETE_BATCH]
            if not self.batch_deletes:
                failures.update(self._delete_one_by_one(batch))
                continue
            try:
                response = self.client.delete_objects(
                    Bucket=self.bucket,
                    Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True},
                )
            except ClientError as exc:
                if not_implemented(exc):
                    self.batch_deletes = False
                    failures.update(self._delete_one_by_one(batch))
                else:
                    failures.update(dict.fromkeys(batch, describe_error(exc)))
                continue
            except BotoCoreError as exc:
                failures.update(dict.fromkeys(batch, describe_error(exc)))
                continue
            for error in response.get("Errors", []):
                failures[error.get("Key", "?")] = (
                    f"{error.get('Code', 'error')}: {error.get('Message', '')}"
                )
        return failures

    def _delete_one_by_one(self, keys: Sequence[str]) -> dict[str, str]:
        failures: dict[str, str] = {}
        for key in keys:
            try:
                self.client.delete_object(Bucket=self.bucket, Key=key)
            except (ClientError, BotoCoreError) as exc:
                failures[key] = describe_error(exc)
        return failures

    def _without_acl(self, refusal: S3Error) -> None:
        """The store does not implement object ACLs: say so once, send none."""
        with self._lock:
            if not self.acls:
                return
            self.acls = False
        logger.warning(
            "bucket %s does not take object ACLs (%s), so none is sent: make "
            "the objects publicly readable the store's way",
            self.bucket,
            refusal.reason,
        )

    def _arguments(self, item: PlannedAsset) -> Any:
        arguments: Any = item.spec.put_arguments()
        if not self.acls:
            arguments.pop("ACL", None)
        return arguments

    def _degrading(self, item: PlannedAsset, send: Callable[[], Stored]) -> Stored:
        """``send``, once more without an ACL if the store refuses ACLs.
        Whether this request carried one is read before it goes: another
        thread may have learnt meanwhile that the store takes none."""
        with_acl = self.acls and bool(item.spec.acl)
        try:
            return send()
        except S3Error as exc:
            if not (with_acl and not_implemented(exc)):
                raise
            self._without_acl(exc)
            return send()

    def read_back(self, item: PlannedAsset) -> ReadBack:
        """What the object holds: the local bytes, those bytes inside the
        request's checksum framing (a store that does not understand it may
        keep it as part of the object, and answer 200), or other bytes, which
        only another writer of the key explains."""
        head = b""
        with translated("GetObject", self.bucket, item.key):
            body = self.client.get_object(Bucket=self.bucket, Key=item.key)["Body"]
            digest = hashlib.sha1(usedforsecurity=False)
            while chunk := body.read(MIB):
                head = head or chunk[:_FRAME_HEAD]
                digest.update(chunk)
        if digest.hexdigest() == item.sha1:
            return "same"
        return "framed" if _FRAMED.match(head) else "other"

    def send(self, item: PlannedAsset) -> tuple[Action, Stored]:
        """Carry out one planned upload or header fix, and say which it was:
        a fix that has to send the bytes after all is an upload."""
        if item.action is Action.FIX_HEADERS:
            fixed = self.fix_headers(item)
            if fixed is not None:
                return Action.FIX_HEADERS, fixed
        return Action.UPLOAD, self.upload(item)

    def upload(self, item: PlannedAsset) -> Stored:
        """Send one asset. A file whose stamp moved since it was hashed fails:
        before sending, nothing goes; while sending, whatever arrived, since
        its hash would be a lie."""

        def send() -> Stored:
            with (
                translated("PutObject", self.bucket, item.key),
                _opened(item) as source,
                io.BufferedReader(source) as body,
            ):
                stored = self._send(item, body)
                if item.stamp is not None and source.current_stamp() != item.stamp:
                    raise FileChanged(
                        f"static file {source.path} changed while it was "
                        "uploaded; run again"
                    )
                return stored

        return self._degrading(item, send)

    def fix_headers(self, item: PlannedAsset) -> Stored | None:
        """Serve an object's bytes with the planned headers, by copying it
        onto itself; the bytes never travel. None for an object that is
        stored compressed, or is to be, or that is gone since it was
        recorded: a copy cannot change its body, so it has to be sent."""
        try:
            with translated("HeadObject", self.bucket, item.key):
                head = self.client.head_object(Bucket=self.bucket, Key=item.key)
        except S3Error as exc:
            if exc.code not in _NO_OBJECT:
                raise
            return None
        if item.spec.gzip or head.get("ContentEncoding"):
            return None

        def copy() -> Stored:
            with translated("CopyObject", self.bucket, item.key):
                response = self.client.copy_object(
                    Bucket=self.bucket,
                    Key=item.key,
                    CopySource={"Bucket": self.bucket, "Key": item.key},
                    MetadataDirective="REPLACE",
                    **self._arguments(item),
                )
            etag = response.get("CopyObjectResult", {}).get("ETag")
            return Stored(head.get("ContentLength"), _unquoted(etag))

        return self._degrading(item, copy)

    def listing(self, prefixes: Sequence[str]) -> dict[str, Listed]:
        """Every object under these prefixes: one request per 1,000 keys."""
        found: dict[str, Listed] = {}
        paginator = self.client.get_paginator("list_objects_v2")
        for prefix in prefixes:
            with translated("ListObjectsV2", self.bucket, prefix or None):
                for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                    for item in page.get("Contents", []):
                        etag = _unquoted(item.get("ETag")) or ""
                        found[item["Key"]] = (item.get("Size", 0), etag)
        return found

    def _stored(self, key: str) -> Stored:
        """What a multipart upload stored: s3transfer does not say."""
        head = self.client.head_object(Bucket=self.bucket, Key=key)
        return Stored(head.get("ContentLength"), _unquoted(head.get("ETag")))

    def _send(self, item: PlannedAsset, source: IO[bytes]) -> Stored:
        arguments = self._arguments(item)
        if item.spec.gzip:
            with _gzipped(source) as body:
                size = body.seek(0, 2)
                body.seek(0)
                if size < MULTIPART_THRESHOLD:
                    return self._put(body, size, item.key, arguments)
                self._upload_parts(body, item.key, arguments)
            return self._stored(item.key)
        size = source.seek(0, 2)
        source.seek(0)
        if size < MULTIPART_THRESHOLD:
            return self._put(source, size, item.key, arguments, sha1=item.sha1)
        self._upload_parts(source, item.key, arguments)
        return self._stored(item.key)

    def _upload_parts(self, body: IO[bytes], key: str, arguments: Any) -> None:
        """A multipart upload whose parts are read as they are sent: from a
        file object, s3transfer would read each part into memory first."""
        size = body.seek(0, 2)
        readers = _PartReaders(body, size)
        subscribers = (
            [ProgressCallbackInvoker(self.progress)] if self.progress else None
        )
        with TransferManager(self.client, self._parts, osutil=readers) as manager:
            manager.upload(
                _PARTS_SOURCE,
                self.bucket,
                key,
                extra_args=arguments,
                subscribers=subscribers,
            ).result()

    def _put(
        self,
        body: IO[bytes],
        size: int,
        key: str,
        arguments: Any,
        *,
        sha1: str | None = None,
    ) -> Stored:
        """A small body is read whole, and checked against the planned
        ``sha1`` before it is sent; a bigger one streams from the file."""
        payload: IO[bytes] | bytes = body
        if size <= SMALL_BODY:
            payload = body.read()
            digest = hashlib.sha1(payload, usedforsecurity=False).hexdigest()
            if sha1 is not None and digest != sha1:
                raise FileChanged(
                    f"static file {key} changed after it was planned; run again"
                )
        response = self.client.put_object(
            Bucket=self.bucket, Key=key, Body=payload, **arguments
        )
        if self.progress is not None:
            self.progress(size)
        return Stored(size, _unquoted(response.get("ETag")))


_PARTS_SOURCE = "<the asset's open file>"
"""What s3transfer takes for a file name; `_PartReaders` ignores it."""


class _PartReaders(OSUtils):
    """s3transfer's file access, over one open body: each part it opens is a
    reader of its own, with its own position, whose every read seeks and
    reads under one lock, so parts read concurrently never move each other
    and nothing but the checked descriptor is read."""

    def __init__(self, body: IO[bytes], size: int) -> None:
        self._body = body
        self._size = size
        self._lock = threading.Lock()

    def get_file_size(self, filename: str) -> int:
        return self._size

    def open(self, filename: str, mode: str) -> IO[bytes]:
        return cast(IO[bytes], _PartReader(self._body, self._size, self._lock))


class _PartReader(SizedReader):
    def __init__(self, body: IO[bytes], size: int, lock: threading.Lock) -> None:
        super().__init__(size)
        self._body = body
        self._lock = lock

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        with self._lock:
            self._body.seek(self._position)
            data = self._body.read(len(view))
        view[: len(data)] = data
        self._position += len(data)
        return len(data)


def _unquoted(etag: str | None) -> str | None:
    return etag.strip('"') if etag else None


def _opened(item: PlannedAsset) -> ListedFile:
    """The asset's file, open, if it is still the one hashed for the plan."""
    source = open_listed(item.asset.local_path, item.asset.origin)
    if item.stamp is not None and source.stamp != item.stamp:
        source.close()
        raise FileChanged(
            f"static file {source.path} changed after it was planned; run again"
        )
    return source


@contextlib.contextmanager
def _gzipped(source: IO[bytes]) -> Iterator[IO[bytes]]:
    """Deterministic gzip (no name, no timestamp): the same input always gives
    the same bytes, so re-uploads do not change ETags for nothing."""
    with tempfile.SpooledTemporaryFile(max_size=_GZIP_IN_MEMORY) as spool:
        with gzip.GzipFile(filename="", mode="wb", fileobj=spool, mtime=0) as packed:
            shutil.copyfileobj(source, packed, MIB)
        spool.seek(0)
        yield spool
