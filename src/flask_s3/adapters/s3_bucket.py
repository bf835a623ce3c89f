"""The bucket, through boto3: the client, creation, ACL mode, manifest, objects.

Each method is one S3 conversation with its errors translated into what the
user has to check, so the layers above never see a bare ``ClientError`` for a
mistake they could have fixed.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import IO, TYPE_CHECKING, Any

import attrs
import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

from flask_s3.adapters.redaction import redact_in_logs
from flask_s3.adapters.static_files import stamp_of
from flask_s3.core.bucket_state import (
    BucketState,
    missing_bucket,
    policy_grants_public_read,
)
from flask_s3.core.manifest import (
    LEGACY_HASHES_KEY,
    Manifest,
    manifest_from,
    manifest_key,
    parse_manifest,
    rebase,
    serialize_manifest,
)
from flask_s3.core.settings import Settings, mask_secret
from flask_s3.core.upload_plan import PlannedAsset

if TYPE_CHECKING:
    from types_boto3_s3.client import S3Client

logger = logging.getLogger("flask_s3")

MIB = 1024 * 1024
MULTIPART_THRESHOLD = 8 * MIB
SMALL_BODY = MIB
DELETE_BATCH = 1000
_GZIP_IN_MEMORY = 8 * MIB
_MISSING = ("404", "NoSuchBucket", "NotFound")
_ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
_LOST_RACE = ("PreconditionFailed", "412", "ConditionalRequestConflict")
MANIFEST_ATTEMPTS = 5


@attrs.frozen
class Credentials:
    """Explicit credentials; all None leaves boto3's default chain in charge."""

    access_key_id: str | None = None
    secret_access_key: str | None = attrs.field(default=None, repr=mask_secret)
    session_token: str | None = attrs.field(default=None, repr=mask_secret)


class FileChanged(Exception):
    """The file is not what was planned any more; sending it now would let
    the manifest record a hash of other bytes."""


class BucketError(Exception):
    """A bucket that cannot be used as it is; the message says what to check."""


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def session_for(credentials: Credentials) -> boto3.session.Session:
    """A session whose secrets, explicit or found by boto3's chain, are
    redacted from every boto log record."""
    session = boto3.session.Session(
        aws_access_key_id=credentials.access_key_id,
        aws_secret_access_key=credentials.secret_access_key,
        aws_session_token=credentials.session_token,
    )
    found = session.get_credentials()
    frozen = found.get_frozen_credentials() if found is not None else None
    redact_in_logs(
        credentials.secret_access_key,
        credentials.session_token,
        frozen.secret_key if frozen is not None else None,
        frozen.token if frozen is not None else None,
    )
    return session


def request_config(settings: Settings) -> Config:
    """Standard retries and the timeouts the settings give, for every client."""
    return Config(
        retries={"mode": "standard", "total_max_attempts": settings.max_attempts},
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
    )


def make_client(settings: Settings, credentials: Credentials) -> S3Client:
    """An S3 client with a connection pool as large as the upload concurrency,
    so threads never wait for a connection."""
    pool = Config(
        # inspect() sends seven reads at once, whatever the upload concurrency
        max_pool_connections=max(settings.upload_concurrency, 7) + 2,
        s3={"addressing_style": "path" if settings.endpoint_url else "auto"},
    )
    return session_for(credentials).client(
        "s3",
        region_name=settings.region,
        endpoint_url=settings.endpoint_url,
        config=request_config(settings).merge(pool),
    )


class Bucket:
    def __init__(self, client: S3Client, name: str) -> None:
        self.client = client
        self.name = name
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

    def exists(self) -> bool:
        try:
            self.client.head_bucket(Bucket=self.name)
        except ClientError as exc:
            if error_code(exc) in _MISSING:
                return False
            raise self._explain(exc) from None
        return True

    def inspect(self, prefix: str) -> BucketState:
        """The bucket as it is, from read-only requests sent all at once: each
        costs a round trip, and a missing bucket is the rare case. If it was
        created by someone else while the reads were under way, some of them
        saw no bucket: they are asked again."""
        try:
            return self._inspect(prefix)
        except ClientError as exc:
            if error_code(exc) != "NoSuchBucket":
                raise
        return self._inspect(prefix)

    def _inspect(self, prefix: str) -> BucketState:
        with ThreadPoolExecutor(max_workers=7) as pool:
            exists = pool.submit(self.exists)
            accepts_acls = pool.submit(self.accepts_acls)
            ours = pool.submit(self._read, manifest_key(prefix))
            legacy = pool.submit(self._read, LEGACY_HASHES_KEY)
            blocked = pool.submit(self._blocks_public_access)
            public_policy = pool.submit(self._policy_grants_public_read)
            public_acl = pool.submit(self._acl_grants_public_read)
            if not exists.result():
                return missing_bucket()
            manifest, source = manifest_from(ours.result(), legacy.result())
            return BucketState(
                exists=True,
                accepts_acls=accepts_acls.result(),
                manifest=manifest,
                manifest_source=source,
                blocks_public_access=blocked.result(),
                policy_grants_public_read=public_policy.result(),
                acl_grants_public_read=public_acl.result(),
            )

    def _acl_grants_public_read(self) -> bool | None:
        try:
            grants = self.client.get_bucket_acl(Bucket=self.name)["Grants"]
        except ClientError:
            return None
        return any(
            grant.get("Grantee", {}).get("URI") == _ALL_USERS
            and grant.get("Permission") in ("READ", "FULL_CONTROL")
            for grant in grants
        )

    def _blocks_public_access(self) -> bool | None:
        try:
            response = self.client.get_public_access_block(Bucket=self.name)
        except ClientError as exc:
            if error_code(exc) == "NoSuchPublicAccessBlockConfiguration":
                return False
            return None  # not allowed to look: unknown, and no reason to fail
        settings = response["PublicAccessBlockConfiguration"]
        return any(bool(value) for value in settings.values())

    def _policy_grants_public_read(self) -> bool | None:
        try:
            response = self.client.get_bucket_policy(Bucket=self.name)
        except ClientError as exc:
            if error_code(exc) == "NoSuchBucketPolicy":
                return False
            return None
        try:
            policy = json.loads(response["Policy"])
        except ValueError:
            return None
        return policy_grants_public_read(policy, self.name)

    def create(self, region: str | None) -> None:
        configuration: Any = {}
        if region and region != "us-east-1":
            configuration = {
                "CreateBucketConfiguration": {"LocationConstraint": region}
            }
        try:
            self.client.create_bucket(Bucket=self.name, **configuration)
        except ClientError as exc:
            if error_code(exc) != "BucketAlreadyOwnedByYou":
                raise
            return  # another run created it a moment ago
        logger.info("created bucket %s in %s", self.name, region or "us-east-1")

    def _explain(self, exc: ClientError) -> BucketError:
        metadata = exc.response.get("ResponseMetadata", {})
        status = metadata.get("HTTPStatusCode")
        if status == 301 or error_code(exc) == "PermanentRedirect":
            actual = metadata.get("HTTPHeaders", {}).get("x-amz-bucket-region")
            where = f"region {actual!r}" if actual else "another region"
            return BucketError(
                f"bucket {self.name!r} is in {where}, not the one the client used: "
                f"set S3_REGION to {actual or 'the bucket region'}"
            )
        if status == 403:
            return BucketError(
                f"access to bucket {self.name!r} is denied: check the credentials, "
                "that they allow s3:ListBucket on it, and that the bucket is yours "
                "(bucket names are global, so another account may own it)"
            )
        return BucketError(f"bucket {self.name!r} cannot be used: {exc}")

    def accepts_acls(self) -> bool:
        """False when Object Ownership is BucketOwnerEnforced, the S3 default
        since April 2023: such a bucket rejects every request that sets an ACL."""
        try:
            controls = self.client.get_bucket_ownership_controls(Bucket=self.name)
        except ClientError as exc:
            if error_code(exc) == "OwnershipControlsNotFoundError":
                return True
            if error_code(exc) == "NoSuchBucket":
                raise  # created by another run while we looked: inspect retries
            if error_code(exc) in ("AccessDenied", "403"):
                logger.info(
                    "cannot read the Object Ownership of bucket %s (no permission "
                    "s3:GetBucketOwnershipControls), so ACLs are sent as configured",
                    self.name,
                )
                return True
            raise self._explain(exc) from None
        rules = controls["OwnershipControls"]["Rules"]
        if any(rule["ObjectOwnership"] == "BucketOwnerEnforced" for rule in rules):
            logger.info(
                "bucket %s has ACLs disabled (Object Ownership: BucketOwnerEnforced), "
                "so no ACLs are sent; grant public read with a bucket policy",
                self.name,
            )
            return False
        return True

    def make_public(self) -> None:
        self.client.put_bucket_acl(Bucket=self.name, ACL="public-read")

    def _read(self, key: str) -> bytes | None:
        return self._read_tagged(key)[0]

    def _read_tagged(self, key: str) -> tuple[bytes | None, str | None]:
        """An object's body and ETag, or (None, None) when there is none."""
        try:
            response = self.client.get_object(Bucket=self.name, Key=key)
        except ClientError as exc:
            if error_code(exc) in ("NoSuchKey", "404"):
                return None, None
            raise
        return response["Body"].read(), response.get("ETag")

    def write_manifest(
        self, prefix: str, manifest: Manifest, *, base: Manifest
    ) -> None:
        """Write ``manifest``, a change made to ``base``, onto whatever record
        the bucket holds by now, so that a concurrent run keeps its entries.
        The PUT is conditional on the record read (S3's If-Match), and a race
        lost to another run is replayed onto what that run wrote."""
        key = manifest_key(prefix)
        for _ in range(MANIFEST_ATTEMPTS):
            current, etag = self._read_tagged(key)
            latest = parse_manifest(current) if current is not None else base
            body = serialize_manifest(rebase(manifest, base, latest))
            condition: Any = {"IfMatch": etag} if etag else {"IfNoneMatch": "*"}
            try:
                self._put_manifest(key, body, condition)
                return
            except ClientError as exc:
                if error_code(exc) not in _LOST_RACE:
                    raise
        raise BucketError(
            f"the manifest of bucket {self.name!r} kept changing under this run "
            "(other uploads running at once?); run the upload again"
        )

    def _put_manifest(self, key: str, body: bytes, condition: Any) -> None:
        arguments: Any = {
            "Bucket": self.name,
            "Key": key,
            "Body": body,
            "ContentType": "application/json",
            "CacheControl": "no-cache",
        }
        try:
            self.client.put_object(**arguments, **condition)
        except ClientError as exc:
            if error_code(exc) != "NotImplemented":
                raise
            # An S3-compatible store without conditional writes: best effort.
            self.client.put_object(**arguments)

    def delete(self, keys: Sequence[str]) -> dict[str, str]:
        """Delete in batches of 1000, the most one request takes; returns why
        each key that could not be deleted failed."""
        failures: dict[str, str] = {}
        for start in range(0, len(keys), DELETE_BATCH):
            batch = keys[start : start + DELETE_BATCH]
            try:
                response = self.client.delete_objects(
                    Bucket=self.name,
                    Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True},
                )
            except ClientError as exc:
                failures.update(dict.fromkeys(batch, describe_error(exc)))
                continue
            for error in response.get("Errors", []):
                failures[error.get("Key", "?")] = (
                    f"{error.get('Code', 'error')}: {error.get('Message', '')}"
                )
        return failures

    def upload(self, item: PlannedAsset) -> None:
        """Send one asset, streaming big ones: a multipart upload from the
        file's path reads one part at a time, and gzip goes through a spool
        that moves to disk when large. A file whose stamp moved since it was
        hashed fails, whatever arrived: its hash would be a lie."""
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
                        self.name,
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
                path, self.name, item.key, ExtraArgs=arguments, Config=self._transfer
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
        self.client.put_object(Bucket=self.name, Key=key, Body=payload, **arguments)


def _stamp(path: str) -> tuple[int, int] | None:
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


def describe_error(exc: BaseException) -> str:
    """One line for a failed request: S3's code and message, or the OS error."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code', 'error')}: {error.get('Message', '')}".rstrip(": ")
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    return f"{type(exc).__name__}: {exc}"
