"""Stores other than moto, for the tests: s3rver, a second real S3 server,
over HTTP and HTTPS; and quirk profiles, rules for the fault proxy in front
of moto that make it answer as MinIO, R2, B2, GCS or an old router would.

s3rver (Node) is installed by .ci/install-test-servers into .test-servers/;
without it the tests that need it are skipped, saying so. It runs on
127.0.0.1 only, with its data in a temporary folder, and is always stopped.

The profiles are approximations, from each store's documentation of what it
does not implement; what they check is that a run degrades as documented
instead of stopping, not that they are faithful to the byte.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import json
import logging
import os
import shutil
import ssl
import subprocess
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

import boto3

from tests.integration.fault_proxy import FaultProxy, Predicate, Rule, is_object_put
from tests.integration.moto_site import (
    CONTENT_TYPES,
    MANIFEST,
    VISIBLE_KEYS,
    Site,
    body_of,
    sha1,
)
from tests.support.http_messages import Request
from tests.support.ports import free_port, wait_until_listening
from tests.support.proxy_actions import Action, Answer, S3Error

if TYPE_CHECKING:
    from types_boto3_s3.client import S3Client

REPOSITORY = Path(__file__).resolve().parents[2]
S3RVER_KEY = "S3RVER"
"""s3rver's built-in account: access key id and secret are both this."""
MISSING_S3RVER = "s3rver is not installed: run .ci/install-test-servers"


def s3rver_binary() -> str | None:
    """s3rver from .test-servers/ (where .ci/install-test-servers puts it),
    else from PATH."""
    local = REPOSITORY / ".test-servers" / "node_modules" / ".bin" / "s3rver"
    if local.exists() and os.access(local, os.X_OK):
        return str(local)
    return shutil.which("s3rver")


# s3rver


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A key and a certificate for 127.0.0.1 (and localhost), valid a day."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                    x509.DNSName("localhost"),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_path, cert_path = directory / "key.pem", directory / "cert.pem"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


@dataclass(frozen=True)
class S3rver:
    """A running s3rver: its endpoint, and the CA its certificate needs."""

    url: str
    ca_bundle: Path | None

    def client(self) -> S3Client:
        """A client of our own, to read back what a run stored."""
        return boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id=S3RVER_KEY,
            aws_secret_access_key=S3RVER_KEY,
            verify=str(self.ca_bundle) if self.ca_bundle else None,
        )

    def _context(self) -> ssl.SSLContext | None:
        if self.ca_bundle is None:
            return None
        return ssl.create_default_context(cafile=str(self.ca_bundle))

    def fetch(self, url: str) -> tuple[bytes, str | None]:
        """GET a public URL anonymously, as a browser would: its body and
        Content-Type."""
        with urllib.request.urlopen(url, timeout=10, context=self._context()) as answer:
            return answer.read(), answer.headers.get("Content-Type")

    def allowed_origin(self, url: str, origin: str) -> str | None:
        """The Access-Control-Allow-Origin a GET from a page on ``origin``
        gets (s3rver refuses an origin no rule allows, where S3 only leaves
        the header out: both are None here)."""
        request = urllib.request.Request(url, headers={"Origin": origin})
        try:
            with urllib.request.urlopen(
                request, timeout=10, context=self._context()
            ) as answer:
                return answer.headers.get("Access-Control-Allow-Origin")
        except urllib.error.HTTPError as refused:
            if refused.code != 403:
                raise
            return None


@contextlib.contextmanager
def running_s3rver(binary: str, directory: Path, *, tls: bool) -> Iterator[S3rver]:
    """s3rver on a free port of 127.0.0.1, its data in ``directory``; stopped
    (killed if it does not stop) however the block ends."""
    data = directory / "data"
    data.mkdir(parents=True)
    port = free_port()
    command = [binary, "-d", str(data), "-a", "127.0.0.1", "-p", str(port), "-s"]
    ca_bundle = None
    if tls:
        key, ca_bundle = self_signed(directory)
        command += ["--key", str(key), "--cert", str(ca_bundle)]
    log = (directory / "s3rver.log").open("wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until_listening("s3rver", port, process, 20)
        scheme = "https" if tls else "http"
        yield S3rver(f"{scheme}://127.0.0.1:{port}", ca_bundle)
    finally:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        log.close()


# What a bucket holds


def local_files(site: Site) -> dict[str, bytes]:
    """The test site's visible files as they are now, by key."""
    return {key: site.body(key) for key in VISIBLE_KEYS if site.path(key).exists()}


def assert_bucket_holds(
    client: S3Client, bucket: str, expected: dict[str, bytes]
) -> None:
    """The bucket holds exactly ``expected`` (and a manifest), byte for
    byte, each object with the Content-Type of its plain key."""
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    keys = sorted(item["Key"] for page in pages for item in page.get("Contents", []))
    assert keys == sorted([*expected, MANIFEST])
    for key, data in expected.items():
        answer = client.get_object(Bucket=bucket, Key=key)
        assert answer["Body"].read() == data, key
        assert answer["ContentType"] == CONTENT_TYPES[plain_key(key)], key


def assert_manifest_honest(client: S3Client, bucket: str) -> dict[str, Any]:
    """Every entry's SHA-1 is that of the object's bytes; returns the entries."""
    entries: dict[str, Any] = json.loads(body_of(client, MANIFEST, bucket))["entries"]
    for key, entry in entries.items():
        assert sha1(body_of(client, key, bucket)) == entry["sha1"], key
    return entries


def hashed_key(key: str, data: bytes) -> str:
    """The key of a hashed copy, written out: ``a.css`` as ``a.<sha1:12>.css``."""
    stem, ext = key.rsplit(".", 1)
    return f"{stem}.{sha1(data)[:12]}.{ext}"


def plain_key(key: str) -> str:
    """The key a hashed copy was made from (``a.0123456789ab.css``: ``a.css``)."""
    stem, dot, ext = key.rpartition(".")
    head, _, maybe_hash = stem.rpartition(".")
    if dot and head and len(maybe_hash) == 12 and key not in CONTENT_TYPES:
        return f"{head}.{ext}"
    return key


def key_of_url(url: str, bucket: str) -> str:
    """The key a path-style asset URL names."""
    path = unquote(urlsplit(url).path).lstrip("/")
    assert path.startswith(bucket + "/"), url
    return path[len(bucket) + 1 :]


# The warnings a degraded run gives


WARNINGS = {
    "created": "the bucket does not exist and will be created",
    "unchecked": "could not check ",
    "bucket acl": "does not implement bucket ACLs",
    "object acl": "does not take object ACLs",
    "unconditional": "does not take conditional writes",
    "retry": "; trying again (attempt ",
    "cors blocked": "no CORS rule of the bucket lets any page read them",
    "cors unsupported": "does not implement bucket CORS",
    "cors unknown": "could not read the bucket's CORS configuration",
}
"""Every warning a run against another store may give, by a fragment of it."""


def warnings_of(records: list[logging.LogRecord]) -> Counter[str]:
    """How many of each documented warning ``flask_s3`` logged; any other
    warning, or a traceback, fails the test."""
    seen: Counter[str] = Counter()
    for record in records:
        if record.name != "flask_s3" or record.levelno < logging.WARNING:
            continue
        message = record.getMessage()
        assert record.exc_info is None, f"a traceback was logged: {message}"
        kinds = [kind for kind, fragment in WARNINGS.items() if fragment in message]
        assert len(kinds) == 1, f"an undocumented warning: {message}"
        seen[kinds[0]] += 1
    return seen


# Quirk profiles, for the fault proxy in front of moto


def _query_names(request: Request) -> set[str]:
    return {name for name, _ in parse_qsl(request.query, keep_blank_values=True)}


def bucket_call(method: str, *subresources: str) -> Predicate:
    """A request on the bucket itself with one of these sub-resources."""

    def match(request: Request) -> bool:
        return (
            request.method == method
            and request.key is None
            and bool(_query_names(request) & set(subresources))
        )

    return match


def public_object_acl(request: Request) -> bool:
    """A PUT of an object that asks for an ACL other than private."""
    acl = request.header("x-amz-acl")
    return is_object_put()(request) and acl is not None and acl != "private"


def conditional_put(request: Request) -> bool:
    return is_object_put()(request) and bool(
        request.header("If-Match") or request.header("If-None-Match")
    )


def carries_checksums(request: Request) -> bool:
    """Any of boto3's flexible-checksum headers, or an aws-chunked body."""
    for name, value in request.headers:
        lowered = name.lower()
        if lowered.startswith("x-amz-checksum-") or lowered in (
            "x-amz-sdk-checksum-algorithm",
            "x-amz-trailer",
        ):
            return True
        if lowered == "content-encoding" and "aws-chunked" in value.lower():
            return True
    return False


DELETES = bucket_call("POST", "delete")
"""DeleteObjects."""
NOT_IMPLEMENTED = S3Error(
    501,
    "NotImplemented",
    "A header you provided implies functionality that is not implemented",
)
NOT_FOUND = S3Error(404, "NoSuchBucketPolicy", "The bucket policy does not exist")
INVALID_ARGUMENT = S3Error(400, "InvalidArgument", "Unsupported header")
LISTING = Answer(
    200,
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
    b"<Name>flask-s3-assets</Name><Prefix></Prefix><MaxKeys>1000</MaxKeys>"
    b"<IsTruncated>false</IsTruncated></ListBucketResult>",
)
"""What a router that ignores an unknown sub-resource answers: the listing."""


@dataclass(frozen=True)
class Profile:
    """A store's answers, as rules for the proxy, and what they degrade."""

    rules: tuple[tuple[Predicate, Action], ...]
    region: str | None = None
    survey_unknown: tuple[str, ...] = ()
    """The survey reads the warning names as unchecked."""
    bucket_acl: bool = True
    """Whether PutBucketAcl works."""
    object_acl: bool = True
    conditional: bool = True
    batch_delete: bool = True
    cors: bool = True
    """Whether the store answers GetBucketCors as S3 does."""

    def install(self, proxy: FaultProxy) -> list[Rule]:
        return [proxy.add(match, action) for match, action in self.rules]

    def expected(self, *, cold: bool, uploads: bool) -> Counter[str]:
        """The warnings of one run: the first on a missing bucket, or a
        later one; ``uploads`` when it writes anything (and so the
        manifest)."""
        warnings: Counter[str] = Counter()
        if cold:
            warnings["created"] = 1
        elif self.survey_unknown:
            warnings["unchecked"] = 1
        if not self.bucket_acl:
            warnings["bucket acl"] = 1
        if uploads and not self.object_acl:
            warnings["object acl"] = 1
        if uploads and not self.conditional:
            warnings["unconditional"] = 1
        if self.cors:  # the test site has a font, and the bucket no CORS rule
            warnings["cors blocked"] = 1
        return warnings


PROFILES = {
    # MinIO: no Object Ownership, no Block Public Access, no bucket ACLs, no
    # bucket CORS (MinIO answers CORS from its server-wide setting).
    "minio-like": Profile(
        rules=(
            (bucket_call("GET", "ownershipControls"), NOT_IMPLEMENTED),
            (bucket_call("GET", "publicAccessBlock"), NOT_IMPLEMENTED),
            (bucket_call("PUT", "acl"), NOT_IMPLEMENTED),
            (bucket_call("GET", "cors"), NOT_IMPLEMENTED),
        ),
        survey_unknown=("Object Ownership", "Block Public Access"),
        bucket_acl=False,
        cors=False,
    ),
    # Cloudflare R2 (its S3 API compatibility page): region 'auto'; no ACLs,
    # object ACL headers other than private refused; the configuration reads
    # not implemented (the policy read answered 404 as a missing policy is).
    # An approximation of R2, not a copy of it.
    "r2-like": Profile(
        rules=(
            (bucket_call("GET", "ownershipControls"), NOT_IMPLEMENTED),
            (bucket_call("GET", "publicAccessBlock"), NOT_IMPLEMENTED),
            (bucket_call("GET", "policy"), NOT_FOUND),
            (bucket_call("GET", "acl"), NOT_IMPLEMENTED),
            (bucket_call("PUT", "acl"), NOT_IMPLEMENTED),
            (public_object_acl, NOT_IMPLEMENTED),
        ),
        region="auto",
        survey_unknown=("Object Ownership", "Block Public Access", "the bucket ACL"),
        bucket_acl=False,
        object_acl=False,
    ),
    # Backblaze B2 (and other stores predating boto3 1.36): flexible
    # checksums and aws-chunked bodies refused, so only when_required works.
    "b2-like": Profile(rules=((carries_checksums, INVALID_ARGUMENT),)),
    # Google Cloud Storage's XML API: no DeleteObjects, no conditional PUTs
    # in S3's form, no Object Ownership.
    "gcs-like": Profile(
        rules=(
            (DELETES, NOT_IMPLEMENTED),
            (conditional_put, INVALID_ARGUMENT),
            (bucket_call("GET", "ownershipControls"), NOT_IMPLEMENTED),
        ),
        survey_unknown=("Object Ownership",),
        conditional=False,
        batch_delete=False,
    ),
    # A router that ignores sub-resources it does not know: the listing.
    "old-router": Profile(
        rules=(
            (
                bucket_call(
                    "GET",
                    "ownershipControls",
                    "publicAccessBlock",
                    "policy",
                    "acl",
                    "cors",
                ),
                LISTING,
            ),
        ),
        survey_unknown=(
            "Object Ownership",
            "Block Public Access",
            "the bucket policy",
            "the bucket ACL",
        ),
        cors=False,
    ),
    "no-conditional-writes": Profile(
        rules=((conditional_put, NOT_IMPLEMENTED),), conditional=False
    ),
}
