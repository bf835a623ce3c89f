"""Looking at the bucket before a run, and making it ready: does it exist,
does it take ACLs, could visitors read it, which record does it hold.

The reads are sent at once: each costs a round trip, and they do not depend
on each other. A missing bucket is the rare case.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from flask_s3.adapters.aws import (
    SURVEY_READS,
    describe_error,
    error_code,
    not_implemented,
    s3_error,
    translated,
)
from flask_s3.adapters.manifest_store import ManifestStore
from flask_s3.core.bucket_survey import (
    BucketSurvey,
    missing_bucket,
    policy_grants_public_read,
)
from flask_s3.core.cors import RULE_ID, BucketCors, CorsChange, CorsRule
from flask_s3.core.manifest import LEGACY_HASHES_KEY, manifest_from, manifest_key
from flask_s3.errors import BucketError, S3Error

if TYPE_CHECKING:
    from types_boto3_s3.client import S3Client
    from types_boto3_s3.type_defs import CORSRuleTypeDef

logger = logging.getLogger("flask_s3")

_MISSING = ("404", "NoSuchBucket", "NotFound")
_ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
_OTHER_SHAPE = (BotoCoreError, LookupError, TypeError, ValueError, AttributeError)
"""What reading an answer of a shape we do not expect raises (a listing
where a configuration was asked for, a missing field, a string for a dict)."""


class _Absent(Exception):
    """The store says the configuration read does not exist: a known answer."""

    def __init__(self, value: bool) -> None:
        super().__init__(value)
        self.value = value


@contextlib.contextmanager
def _absent_means(code: str, value: bool) -> Iterator[None]:
    try:
        yield
    except ClientError as exc:
        if error_code(exc) == code:
            raise _Absent(value) from exc
        raise


class Surveyor:
    def __init__(self, client: S3Client, bucket: str) -> None:
        self.client = client
        self.bucket = bucket
        self.manifests = ManifestStore(client, bucket)

    def exists(self) -> bool:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            if error_code(exc) in _MISSING:
                return False
            raise self._explain(exc) from exc
        except BotoCoreError as exc:
            raise s3_error(exc, "HeadBucket", self.bucket, None) from exc
        return True

    def survey(self, prefix: str) -> BucketSurvey:
        """The bucket as it is. If someone created it while the reads were
        under way, some of them saw no bucket: they are asked again."""
        try:
            return self._survey(prefix)
        except S3Error as exc:
            if exc.code != "NoSuchBucket":
                raise
        return self._survey(prefix)

    def _survey(self, prefix: str) -> BucketSurvey:
        with ThreadPoolExecutor(max_workers=SURVEY_READS) as pool:
            exists = pool.submit(self.exists)
            ownership = pool.submit(self._check, "Object Ownership", self._enforced)
            ours = pool.submit(self.manifests.read, manifest_key(prefix))
            # 0.3.x's record is read only where ours is missing: a bucket
            # that moved on from 0.3.x keeps it, as big as ours.
            legacy = pool.submit(
                self.manifests.read,
                LEGACY_HASHES_KEY,
                lambda: ours.result().text is None,
            )
            blocked = pool.submit(self._check, "Block Public Access", self._blocks)
            policy = pool.submit(self._check, "the bucket policy", self._public_policy)
            acl = pool.submit(self._check, "the bucket ACL", self._public_acl)
            cors = pool.submit(self._cors)
            if not exists.result():
                return missing_bucket()
            read = ours.result()
            manifest, source = manifest_from(read.text, legacy.result().text)
            checks = {
                name: future.result()
                for name, future in (
                    ("ownership", ownership),
                    ("blocked", blocked),
                    ("policy", policy),
                    ("acl", acl),
                )
            }
            enforced = checks["ownership"][0]
            return BucketSurvey(
                exists=True,
                accepts_acls=not enforced,
                manifest=manifest,
                manifest_source=source,
                blocks_public_access=checks["blocked"][0],
                policy_grants_public_read=checks["policy"][0],
                acl_grants_public_read=checks["acl"][0],
                unchecked=tuple(
                    problem for _, problem in checks.values() if problem is not None
                ),
                cors=cors.result(),
                manifest_etag=read.etag,
                manifest_fresh_until=read.fresh_until,
            )

    def _check(
        self, what: str, read: Callable[[], bool]
    ) -> tuple[bool | None, str | None]:
        """One read that only informs: an answer it does not understand (an
        error it does not expect, NotImplemented, a body of another shape)
        means "unknown", with a word on what could not be checked; being
        refused the permission to look is unknown too, and normal."""
        try:
            return read(), None
        except _Absent as absent:
            return absent.value, None
        except ClientError as exc:
            code = error_code(exc)
            if code == "NoSuchBucket":  # created meanwhile: the survey retries
                raise s3_error(exc, exc.operation_name, self.bucket, None) from exc
            if code in ("AccessDenied", "403"):
                return None, None
            return None, f"{what} ({describe_error(exc)})"
        except _OTHER_SHAPE as exc:
            return None, f"{what} (an answer of another shape: {describe_error(exc)})"

    def _cors(self) -> BucketCors:
        """The CORS rules as the store holds them. Unknown rules are never
        written over, so anything but a clear answer is "unknown", with the
        store's words for the one warning that S3_CORS_ORIGINS may need."""
        try:
            response = self.client.get_bucket_cors(Bucket=self.bucket)
            return BucketCors(
                rules=tuple(_rule(rule) for rule in response["CORSRules"])
            )
        except ClientError as exc:
            code = error_code(exc)
            if code == "NoSuchCORSConfiguration":
                return BucketCors(rules=())
            if code == "NoSuchBucket":  # created meanwhile: the survey retries
                raise s3_error(exc, exc.operation_name, self.bucket, None) from exc
            return BucketCors(
                None, describe_error(exc), unsupported=not_implemented(exc)
            )
        except _OTHER_SHAPE as exc:
            shape = f"an answer of another shape: {describe_error(exc)}"
            return BucketCors(None, shape)

    def put_cors(self, change: CorsChange) -> None:
        """Write the whole configuration, every rule found in it included."""
        rules = [_request_rule(rule) for rule in change.rules]
        try:
            with translated("PutBucketCors", self.bucket):
                self.client.put_bucket_cors(
                    Bucket=self.bucket, CORSConfiguration={"CORSRules": rules}
                )
        except S3Error as exc:
            if not not_implemented(exc):
                raise
            logger.warning(
                "the store does not implement bucket CORS (%s), so S3_CORS_ORIGINS "
                "is not applied: allow those origins the store's way",
                exc.reason,
            )
            return
        logger.info(
            "bucket %s: CORS rule %r lets %s GET and HEAD",
            self.bucket,
            RULE_ID,
            ", ".join(change.added),
        )

    def _public_acl(self) -> bool:
        grants = self.client.get_bucket_acl(Bucket=self.bucket)["Grants"]
        return any(
            grant.get("Grantee", {}).get("URI") == _ALL_USERS
            and grant.get("Permission") in ("READ", "FULL_CONTROL")
            for grant in grants
        )

    def _blocks(self) -> bool:
        with _absent_means("NoSuchPublicAccessBlockConfiguration", False):
            response = self.client.get_public_access_block(Bucket=self.bucket)
        settings = response["PublicAccessBlockConfiguration"]
        if not settings:  # S3 always names the four; a listing names none
            raise ValueError("no Block Public Access setting in the answer")
        return any(bool(value) for value in settings.values())

    def _public_policy(self) -> bool:
        with _absent_means("NoSuchBucketPolicy", False):
            response = self.client.get_bucket_policy(Bucket=self.bucket)
        return policy_grants_public_read(json.loads(response["Policy"]), self.bucket)

    def _enforced(self) -> bool:
        """True when Object Ownership is BucketOwnerEnforced, the S3 default
        since April 2023: such a bucket rejects every request that sets an ACL.
        Unknown means ACLs are sent as configured."""
        with _absent_means("OwnershipControlsNotFoundError", False):
            controls = self.client.get_bucket_ownership_controls(Bucket=self.bucket)
        rules = controls["OwnershipControls"]["Rules"]
        enforced = any(
            rule["ObjectOwnership"] == "BucketOwnerEnforced" for rule in rules
        )
        if enforced:
            logger.info(
                "bucket %s has ACLs disabled (Object Ownership: BucketOwnerEnforced), "
                "so no ACLs are sent; grant public read with a bucket policy",
                self.bucket,
            )
        return enforced

    def create(self, region: str | None) -> None:
        configuration: Any = {}
        if region and region != "us-east-1":
            configuration = {
                "CreateBucketConfiguration": {"LocationConstraint": region}
            }
        try:
            self.client.create_bucket(Bucket=self.bucket, **configuration)
        except ClientError as exc:
            code = error_code(exc)
            # Another run created it a moment ago. Some stores answer
            # BucketAlreadyExists even to its owner: if we can use it, it is ours.
            if code == "BucketAlreadyOwnedByYou":
                return
            if code == "BucketAlreadyExists" and self._reachable():
                return
            raise s3_error(exc, "CreateBucket", self.bucket, None) from exc
        except BotoCoreError as exc:
            raise s3_error(exc, "CreateBucket", self.bucket, None) from exc
        logger.info("created bucket %s in %s", self.bucket, region or "us-east-1")

    def _reachable(self) -> bool:
        try:
            return self.exists()
        except S3Error:
            return False

    def make_public(self) -> None:
        try:
            with translated("PutBucketAcl", self.bucket):
                self.client.put_bucket_acl(Bucket=self.bucket, ACL="public-read")
        except S3Error as exc:
            if not not_implemented(exc):
                raise
            logger.warning(
                "the store does not implement bucket ACLs (%s), so the bucket's "
                "access is left as it is: make it publicly readable the store's way",
                exc.reason,
            )

    def _explain(self, exc: ClientError) -> BucketError:
        metadata = exc.response.get("ResponseMetadata", {})
        status = metadata.get("HTTPStatusCode")
        code = error_code(exc) or None
        operation = exc.operation_name

        def error(message: str) -> BucketError:
            return BucketError(
                message, operation=operation, bucket=self.bucket, code=code
            )

        if status == 301 or code == "PermanentRedirect":
            actual = metadata.get("HTTPHeaders", {}).get("x-amz-bucket-region")
            where = f"region {actual!r}" if actual else "another region"
            return error(
                f"bucket {self.bucket!r} is in {where}, not the one the client "
                f"used: set S3_REGION to {actual or 'the bucket region'}"
            )
        if status == 403:
            return error(
                f"access to bucket {self.bucket!r} is denied: check the credentials, "
                "that they allow s3:ListBucket on it, and that the bucket is yours "
                "(bucket names are global, so another account may own it)"
            )
        return error(f"bucket {self.bucket!r} cannot be used: {exc}")


def _rule(rule: Mapping[str, Any]) -> CorsRule:
    max_age = rule.get("MaxAgeSeconds")
    return CorsRule(
        allowed_methods=tuple(rule["AllowedMethods"]),
        allowed_origins=tuple(rule["AllowedOrigins"]),
        allowed_headers=tuple(rule.get("AllowedHeaders", ())),
        expose_headers=tuple(rule.get("ExposeHeaders", ())),
        max_age_seconds=None if max_age is None else int(max_age),
        id=rule.get("ID"),
    )


def _request_rule(rule: CorsRule) -> CORSRuleTypeDef:
    fields: CORSRuleTypeDef = {
        "AllowedMethods": list(rule.allowed_methods),
        "AllowedOrigins": list(rule.allowed_origins),
    }
    if rule.allowed_headers:
        fields["AllowedHeaders"] = list(rule.allowed_headers)
    if rule.expose_headers:
        fields["ExposeHeaders"] = list(rule.expose_headers)
    if rule.max_age_seconds is not None:
        fields["MaxAgeSeconds"] = rule.max_age_seconds
    if rule.id is not None:
        fields["ID"] = rule.id
    return fields
