"""The AWS session, client configuration and error translation, shared by
every adapter that talks to S3 or CloudFront.

This is the edge where botocore's errors stop: each becomes an `S3Error`
that names the operation, the bucket and the key, in one line.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import logging
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import attrs
import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
from botocore.utils import determine_content_length

from flask_s3.adapters.redaction import redact_in_logs
from flask_s3.core import upload_ramp
from flask_s3.core.settings import Settings, mask_secret
from flask_s3.errors import S3Error

if TYPE_CHECKING:
    from types_boto3_s3.client import S3Client

logger = logging.getLogger("flask_s3")

SURVEY_READS = 8
"""How many reads the bucket survey sends at once."""
SMALL_BODY = 1024 * 1024
"""A body this size or less is sent at once, without asking the store
first, and an asset's is read whole, to be checked before it is sent."""
CHECKSUM_VARIABLE = "AWS_REQUEST_CHECKSUM_CALCULATION"
MD5_OPERATIONS = ("DeleteObjects", "PutBucketAcl", "PutBucketCors")
"""The operations we call that must carry a checksum, even 'when_required'."""
CREDENTIALS_HELP = (
    "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the app's config or in "
    "the environment, name a profile with AWS_PROFILE, or pass --user and "
    "--password (user= and password= to create_all)"
)


@attrs.frozen
class Credentials:
    """Explicit credentials; all None leaves boto3's default chain in charge."""

    access_key_id: str | None = None
    secret_access_key: str | None = attrs.field(default=None, repr=mask_secret)
    session_token: str | None = attrs.field(default=None, repr=mask_secret)


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


def checksum_mode(settings: Settings) -> str | None:
    """``S3_REQUEST_CHECKSUMS``; unset, 'when_required' for another store
    (boto3's CRC32 trailers would be stored in its objects) unless boto3's
    own environment variable says otherwise, and botocore's choice on AWS."""
    if settings.request_checksums is not None:
        return settings.request_checksums
    if settings.endpoint_url is None or CHECKSUM_VARIABLE in os.environ:
        return None
    return "when_required"


def make_s3_client(settings: Settings, credentials: Credentials) -> S3Client:
    """An S3 client with a connection pool as large as the most uploads that
    may be in flight, so threads never wait for a connection."""
    uploads = settings.upload_concurrency or upload_ramp.CAP
    options: dict[str, Any] = {
        "max_pool_connections": max(uploads, SURVEY_READS) + 2,
        "s3": {
            "addressing_style": settings.addressing_style
            or ("path" if settings.endpoint_url else "auto")
        },
    }
    mode = checksum_mode(settings)
    if mode is not None:
        options["request_checksum_calculation"] = mode
        options["response_checksum_validation"] = mode
    client = session_for(credentials).client(
        "s3",
        region_name=settings.region,
        endpoint_url=settings.endpoint_url,
        config=request_config(settings).merge(Config(**options)),
    )
    if mode == "when_required":
        for operation in MD5_OPERATIONS:
            client.meta.events.register(f"before-sign.s3.{operation}", _content_md5)
    client.meta.events.register("before-sign.s3.PutObject", _small_body_at_once)
    client.meta.events.register("needs-retry.s3", _remember_failure)
    client.meta.events.register("request-created.s3", _show_retry)
    return client


def _small_body_at_once(request: Any, **_: Any) -> None:
    """botocore asks every PutObject to wait for the store's go-ahead
    ('Expect: 100-continue') before it sends the body: a round trip more per
    object, the manifest's writes included. That pays only for a body big
    enough that sending it to a store about to refuse it would cost more."""
    size = determine_content_length(request.body)
    decoded = request.headers.get("X-Amz-Decoded-Content-Length")
    if size is None and decoded is not None:  # aws-chunked, a checksum trailing
        size = int(decoded)
    if size is not None and size <= SMALL_BODY:
        del request.headers["Expect"]


def _remember_failure(
    request_dict: Any,
    response: Any = None,
    caught_exception: BaseException | None = None,
    **_: Any,
) -> None:
    """Keep why the last attempt failed, for the retry that follows."""
    if caught_exception is not None:
        why = describe_error(caught_exception)
    elif response is not None:
        http, parsed = response
        error = parsed.get("Error", {})
        why = f"{error.get('Code') or http.status_code}: {error.get('Message', '')}"
    else:
        return
    request_dict["context"]["flask_s3_failure"] = why.rstrip(": ")


def _show_retry(request: Any, operation_name: str = "", **_: Any) -> None:
    """Each retry as it happens: a silent endpoint must not look like a hang."""
    context = getattr(request, "context", {})
    attempt = context.get("retries", {}).get("attempt", 1)
    if attempt > 1:
        logger.warning(
            "S3 did not answer %s (%s); trying again (attempt %d)",
            operation_name or "a request",
            context.get("flask_s3_failure", "no answer"),
            attempt,
        )


def _content_md5(request: Any, **_: Any) -> None:
    """DeleteObjects and PutBucketAcl must carry a checksum. botocore 1.36
    sends CRC32, which stores that predate it reject; they want the
    Content-MD5 S3 always took."""
    body = request.body
    if hasattr(body, "read"):
        position = body.tell()
        data = body.read()
        body.seek(position)
        body = data
    if body is None:  # PutBucketAcl with a canned ACL: no body
        body = b""
    if isinstance(body, str):
        body = body.encode()
    if not isinstance(body, bytes):
        return
    for name in list(request.headers.keys()):
        if name.lower().startswith(("x-amz-checksum-", "x-amz-sdk-checksum")):
            del request.headers[name]
    digest = hashlib.md5(body, usedforsecurity=False).digest()
    request.headers["Content-MD5"] = base64.b64encode(digest).decode()


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def not_implemented(error: ClientError | S3Error) -> bool:
    """A store's way of saying it lacks a feature (MinIO, GCS, older
    routers): S3's own code, or a bare 501."""
    if isinstance(error, S3Error):
        return error.code in ("NotImplemented", "501")
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return error_code(error) in ("NotImplemented", "501") or status == 501


def describe_error(exc: BaseException) -> str:
    """One line for a failed request: S3's code and message, or the OS error."""
    if isinstance(exc, S3Error):
        return exc.reason
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code', 'error')}: {error.get('Message', '')}".rstrip(": ")
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    return f"{type(exc).__name__}: {exc}"


def s3_error(
    exc: ClientError | BotoCoreError, operation: str, bucket: str, key: str | None
) -> S3Error:
    where = f"{key!r} in bucket {bucket!r}" if key is not None else f"bucket {bucket!r}"
    if isinstance(exc, ClientError):
        message = f"S3 refused {operation} of {where}: {describe_error(exc)}"
        code: str | None = error_code(exc) or None
    elif isinstance(exc, NoCredentialsError):
        message = f"no AWS credentials for {operation} of {where}: {CREDENTIALS_HELP}"
        code = None
    else:
        message = (
            f"S3 is not reachable as configured ({operation} of {where}): "
            f"{describe_error(exc)}"
        )
        code = None
    return S3Error(
        message,
        operation=operation,
        bucket=bucket,
        key=key,
        code=code,
        reason=describe_error(exc),
    )


@contextlib.contextmanager
def translated(operation: str, bucket: str, key: str | None = None) -> Iterator[None]:
    """Let no botocore error out of this block: each becomes an `S3Error`."""
    try:
        yield
    except (ClientError, BotoCoreError) as exc:
        raise s3_error(exc, operation, bucket, key) from exc
