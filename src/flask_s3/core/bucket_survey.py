"""What the bucket looks like before a run, and whether visitors could read it.

Found by read-only requests, so ``plan`` can show it without changing
anything; the warnings are decided here, from that state alone.
"""

from __future__ import annotations

import attrs

from flask_s3.core.cors import NO_CORS, BucketCors
from flask_s3.core.manifest import Manifest, ManifestSource


@attrs.frozen
class BucketSurvey:
    exists: bool
    accepts_acls: bool
    """False when Object Ownership is BucketOwnerEnforced (ACLs disabled)."""
    manifest: Manifest
    manifest_source: ManifestSource
    blocks_public_access: bool | None
    """Whether the bucket's Block Public Access settings deny public ACLs or
    policies; None when unknown."""
    policy_grants_public_read: bool | None
    """Whether a bucket policy lets anyone GET objects; None when unknown."""
    acl_grants_public_read: bool | None
    """Whether the bucket's own ACL is already public-read; None when unknown."""
    unchecked: tuple[str, ...] = ()
    """What the store answered in a way this tool does not understand."""
    cors: BucketCors = NO_CORS
    manifest_etag: str | None = None
    """Our manifest's ETag as read, for the run's first write to swap on."""
    manifest_fresh_until: float = float("-inf")
    """The `time.monotonic()` until which that read stands in for a new one
    (see `adapters.manifest_store.ManifestRead`)."""


def missing_bucket() -> BucketSurvey:
    """The state ``--offline`` plans against, and a bucket that is not there yet."""
    return BucketSurvey(
        exists=False,
        accepts_acls=True,
        manifest=Manifest(),
        manifest_source="none",
        blocks_public_access=None,
        policy_grants_public_read=None,
        acl_grants_public_read=None,
    )


def public_read_warnings(survey: BucketSurvey, object_acl: str | None) -> list[str]:
    """Why uploaded objects might not be readable at their URLs."""
    if not survey.exists:
        return [
            "the bucket does not exist and will be created; new buckets block "
            "public access and disable ACLs by default, so grant public read with "
            "a bucket policy (see the README) or serve through a CDN"
        ]
    warnings = []
    if survey.unchecked:
        warnings.append(
            f"could not check {', '.join(survey.unchecked)}; the store did not "
            "answer as S3 does, so the run goes on without knowing"
        )
    if survey.blocks_public_access:
        warnings.append(
            "Block Public Access is on for this bucket: public ACLs and policies "
            "are ignored, so visitors cannot read the assets at their S3 URLs"
        )
    public_acl = survey.accepts_acls and object_acl in (
        "public-read",
        "public-read-write",
    )
    if not public_acl and survey.policy_grants_public_read is False:
        why = (
            "ACLs are disabled"
            if not survey.accepts_acls
            else f"the object ACL is {object_acl!r}"
        )
        warnings.append(
            f"{why} and no bucket policy grants public read: objects will not be "
            "publicly readable"
        )
    return warnings


_READ_ACTIONS = ("s3:GetObject", "s3:Get*", "s3:*", "*")


def _listed(value: object) -> list[object]:
    return value if isinstance(value, list) else [value]


def policy_grants_public_read(policy: object, bucket_name: str) -> bool:
    """Whether a parsed bucket policy has an unconditional statement letting
    anyone GET the bucket's objects."""
    if not isinstance(policy, dict):
        return False
    for statement in _listed(policy.get("Statement", [])):
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        if "Condition" in statement:
            continue  # e.g. CloudFront origin access: readable only through the CDN
        principal = statement.get("Principal")
        anyone = principal == "*" or (
            isinstance(principal, dict) and "*" in _listed(principal.get("AWS"))
        )
        reads = any(
            action in _READ_ACTIONS for action in _listed(statement.get("Action"))
        )
        covers = any(
            resource == "*"
            or (
                isinstance(resource, str)
                and resource.startswith(f"arn:aws:s3:::{bucket_name}/")
            )
            for resource in _listed(statement.get("Resource"))
        )
        if anyone and reads and covers:
            return True
    return False
