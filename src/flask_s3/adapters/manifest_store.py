"""The manifest's bytes in the bucket: read with their ETag, swapped on it.

Nothing here knows the manifest's format or how records merge: the core owns
that, and the deploy service sequences a read, a merge and a swap.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs
from botocore.exceptions import BotoCoreError, ClientError

from flask_s3.adapters.aws import (
    describe_error,
    error_code,
    not_implemented,
    s3_error,
    translated,
)
from flask_s3.errors import ManifestError

if TYPE_CHECKING:
    from types_boto3_s3.client import S3Client

logger = logging.getLogger("flask_s3")

_LOST_RACE = ("PreconditionFailed", "412", "ConditionalRequestConflict")
_NOT_MODIFIED = ("304", "NotModified")


def _refuses_conditions(error: ClientError) -> bool:
    """If-Match / If-None-Match refused as such: NotImplemented, or a 400 of
    a store that does not know the headers (or a 501 without a code)."""
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return not_implemented(error) or status == 400


def _refuses_reads_condition(error: ClientError) -> bool:
    """If-None-Match on a read refused as such, not any 400 (a request that
    timed out is one too): NotImplemented, or a header it calls invalid."""
    return not_implemented(error) or error_code(error) in (
        "InvalidArgument",
        "InvalidRequest",
    )


def _etag_of_sent(body: bytes, etag: str | None) -> str | None:
    """The answered ETag, where it is the MD5 of the bytes sent. A store
    that keeps the request's checksum framing as the object answers the
    ETag of other bytes, which a later read must not take for the record
    this run wrote; a bucket whose ETags are no MD5s (SSE-KMS) loses only
    the saving."""
    digest = hashlib.md5(body, usedforsecurity=False).hexdigest()
    return etag if etag is not None and etag.strip('"') == digest else None


@attrs.frozen
class ManifestRead:
    text: str | None
    """None where there is no such object, or its body was not wanted."""
    etag: str | None
    fresh_until: float
    """The `time.monotonic()` until which a write may swap on this read
    instead of reading again: its body's arrival plus its round trip (see
    `fresh_until`). A store that ignores the write's condition can then
    lose another run's write only if it landed within a few round trips of
    the read (one more than with a new read, and the connect's where the
    read opened its connection), not within however long the run took."""
    unchanged: bool = False
    """The record still had the ETag the read named (``unless``), so the
    store sent no body: a big site's record is megabytes, and most rewrites
    of it follow the run's own write."""


@attrs.frozen
class Swapped:
    etag: str | None
    """The ETag of the record written, as the store answered it: a later
    read names it, to be spared the body while nobody else wrote."""


def fresh_until(sent: float, answered: float, response: Mapping[str, Any]) -> float:
    """Now plus the read's round trip, which ends with the answer's head (a
    big body's transfer says nothing of how soon another write can land).
    A read botocore had to retry timed its back-off too: it is not reused."""
    if response.get("ResponseMetadata", {}).get("RetryAttempts"):
        return -math.inf
    return time.monotonic() + (answered - sent)


class ManifestStore:
    def __init__(self, client: S3Client, bucket: str) -> None:
        self.client = client
        self.bucket = bucket
        self.unconditional = False
        self.unconditional_reads = False
        """Set once the store refused a read's If-None-Match: the run's
        later reads do not pay for a refused request first."""
        self._lock = threading.Lock()

    def read(
        self,
        key: str,
        wanted: Callable[[], bool] | None = None,
        *,
        unless: str | None = None,
    ) -> ManifestRead:
        """An object's body as text, and its ETag; (None, None) when there is
        none. Decoded here, so that its bytes are gone before anyone parses
        it: a big site's record is megabytes, and JSON would decode a copy
        beside them. A body no longer ``wanted`` once the answer came is
        left unread (None): it is asked for at once only to save a round
        trip where it is needed. While the object still has the ETag
        ``unless``, the store sends no body (`ManifestRead.unchanged`); a
        store that ignores the condition sends it anyway."""
        condition: Any = (
            {}
            if unless is None or self.unconditional_reads
            else {"IfNoneMatch": unless}
        )
        sent = time.monotonic()
        try:
            try:
                response = self.client.get_object(
                    Bucket=self.bucket, Key=key, **condition
                )
            except ClientError as exc:
                if error_code(exc) in _NOT_MODIFIED:
                    until = fresh_until(sent, time.monotonic(), exc.response)
                    return ManifestRead(None, unless, until, unchanged=True)
                if not condition or not _refuses_reads_condition(exc):
                    raise
                self.unconditional_reads = True  # asked again, plainly
                sent = time.monotonic()
                response = self.client.get_object(Bucket=self.bucket, Key=key)
            answered = time.monotonic()
            etag, body = response.get("ETag"), response["Body"]
            try:
                unwanted = wanted is not None and not wanted()
            except BaseException:
                body.close()  # its connection must not wait for a collection
                raise
            if unwanted:
                body.close()
            text = None if unwanted else self._text(body.read(), key)
            return ManifestRead(text, etag, fresh_until(sent, answered, response))
        except ClientError as exc:
            if error_code(exc) in ("NoSuchKey", "404"):
                until = fresh_until(sent, time.monotonic(), exc.response)
                return ManifestRead(None, None, until)
            raise s3_error(exc, "GetObject", self.bucket, key) from exc
        except BotoCoreError as exc:
            raise s3_error(exc, "GetObject", self.bucket, key) from exc

    def _text(self, body: bytes, key: str) -> str:
        """UTF-8, with a byte order mark allowed, as JSON's own decoding of
        bytes allows it: a 0.3.x record edited by hand may carry one."""
        try:
            return body.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ManifestError(
                f"{key} in bucket {self.bucket} is not UTF-8 text ({exc.reason} "
                f"at byte {exc.start}); delete it to upload everything again"
            ) from None

    def swap(self, key: str, etag: str | None, body: bytes) -> Swapped | None:
        """Write ``body`` if the object still has ``etag`` (if it is still
        absent, for None); None when another writer got there first."""
        arguments: Any = {
            "Bucket": self.bucket,
            "Key": key,
            "Body": body,
            "ContentType": "application/json",
            "CacheControl": "no-cache",
        }
        condition: Any = {"IfMatch": etag} if etag else {"IfNoneMatch": "*"}
        if self.unconditional:
            condition = {}
        try:
            response = self.client.put_object(**arguments, **condition)
        except ClientError as exc:
            if condition and error_code(exc) in _LOST_RACE:
                return None
            if not condition or not _refuses_conditions(exc):
                raise s3_error(exc, "PutObject", self.bucket, key) from exc
            self._go_unconditional(exc)
            with translated("PutObject", self.bucket, key):
                response = self.client.put_object(**arguments)
        except BotoCoreError as exc:
            raise s3_error(exc, "PutObject", self.bucket, key) from exc
        return Swapped(_etag_of_sent(body, response.get("ETag")))

    def _go_unconditional(self, refusal: ClientError) -> None:
        """A store without conditional writes: best effort, said once."""
        with self._lock:
            if self.unconditional:
                return
            self.unconditional = True
        logger.warning(
            "bucket %s does not take conditional writes (%s): the manifest is "
            "written without them, so two deploys at once are not protected "
            "from each other",
            self.bucket,
            describe_error(refusal),
        )
