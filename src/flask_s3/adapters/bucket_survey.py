"""Looking at the bucket before a run, and making it ready: does it exist,
does it take ACLs, could visitors read it, which record does it hold.

The reads are sent at once: each costs a round trip, and they do not depend
on each other. A missing bucket is the rare case.
"""

from __future__ import annotations

import json
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from flask_s3.adapters.aws import SURVEY_READS, error_code, s3_error, translated
from flask_s3.adapters.manifest_store import ManifestStore
from flask_s3.core.bucket_survey import (
    BucketSurvey,
    missing_bucket,
    policy_grants_public_read,
)
from flask_s3.core.manifest import LEGACY_HASHES_KEY, manifest_from, manifest_key
from flask_s3.errors import BucketError, S3Error

if TYPE_CHECKING:
    from types_boto3_s3.client import S3Client

logger = logging.getLogger("flask_s3")

_MISSING = ("404", "NoSuchBucket", "NotFound")
_ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"


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
            accepts_acls = pool.submit(self.accepts_acls)
            ours = pool.submit(self.manifests.read, manifest_key(prefix))
            legacy = pool.submit(self.manifests.read, LEGACY_HASHES_KEY)
            blocked = pool.submit(self._blocks_public_access)
            public_policy = pool.submit(self._policy_grants_public_read)
            public_acl = pool.submit(self._acl_grants_public_read)
            if not exists.result():
                return missing_bucket()
            manifest, source = manifest_from(ours.result()[0], legacy.result()[0])
            return BucketSurvey(
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
            grants = self.client.get_bucket_acl(Bucket=self.bucket)["Grants"]
        except (ClientError, BotoCoreError):
            return None
        return any(
            grant.get("Grantee", {}).get("URI") == _ALL_USERS
            and grant.get("Permission") in ("READ", "FULL_CONTROL")
            for grant in grants
        )

    def _blocks_public_access(self) -> bool | None:
        try:
            response = self.client.get_public_access_block(Bucket=self.bucket)
        except ClientError as exc:
            if error_code(exc) == "NoSuchPublicAccessBlockConfiguration":
                return False
            return None  # not allowed to look: unknown, and no reason to fail
        except BotoCoreError:
            return None
        settings = response["PublicAccessBlockConfiguration"]
        return any(bool(value) for value in settings.values())

    def _policy_grants_public_read(self) -> bool | None:
        try:
            response = self.client.get_bucket_policy(Bucket=self.bucket)
        except ClientError as exc:
            if error_code(exc) == "NoSuchBucketPolicy":
                return False
            return None
        except BotoCoreError:
            return None
        try:
            policy = json.loads(response["Policy"])
        except ValueError:
            return None
        return policy_grants_public_read(policy, self.bucket)

    def accepts_acls(self) -> bool:
        """False when Object Ownership is BucketOwnerEnforced, the S3 default
        since April 2023: such a bucket rejects every request that sets an ACL."""
        try:
            controls = self.client.get_bucket_ownership_controls(Bucket=self.bucket)
        except ClientError as exc:
            if error_code(exc) == "OwnershipControlsNotFoundError":
                return True
            if error_code(exc) == "NoSuchBucket":
                # created by another run while we looked: the survey retries
                raise s3_error(
                    exc, "GetBucketOwnershipControls", self.bucket, None
                ) from exc
            if error_code(exc) in ("AccessDenied", "403"):
                logger.info(
                    "cannot read the Object Ownership of bucket %s (no permission "
                    "s3:GetBucketOwnershipControls), so ACLs are sent as configured",
                    self.bucket,
                )
                return True
            raise self._explain(exc) from exc
        except BotoCoreError as exc:
            raise s3_error(
                exc, "GetBucketOwnershipControls", self.bucket, None
            ) from exc
        rules = controls["OwnershipControls"]["Rules"]
        if any(rule["ObjectOwnership"] == "BucketOwnerEnforced" for rule in rules):
            logger.info(
                "bucket %s has ACLs disabled (Object Ownership: BucketOwnerEnforced), "
                "so no ACLs are sent; grant public read with a bucket policy",
                self.bucket,
            )
            return False
        return True

    def create(self, region: str | None) -> None:
        configuration: Any = {}
        if region and region != "us-east-1":
            configuration = {
                "CreateBucketConfiguration": {"LocationConstraint": region}
            }
        try:
            self.client.create_bucket(Bucket=self.bucket, **configuration)
        except ClientError as exc:
            if error_code(exc) != "BucketAlreadyOwnedByYou":
                raise s3_error(exc, "CreateBucket", self.bucket, None) from exc
            return  # another run created it a moment ago
        except BotoCoreError as exc:
            raise s3_error(exc, "CreateBucket", self.bucket, None) from exc
        logger.info("created bucket %s in %s", self.bucket, region or "us-east-1")

    def make_public(self) -> None:
        with translated("PutBucketAcl", self.bucket):
            self.client.put_bucket_acl(Bucket=self.bucket, ACL="public-read")

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
