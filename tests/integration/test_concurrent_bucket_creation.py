"""Two first deploys at once to a missing bucket: the one that loses the race
to create it carries on, in any region, instead of dying on botocore's
BucketAlreadyOwnedByYou or on a NoSuchBucket read while the bucket appeared."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import pytest

from flask_s3 import create_all
from flask_s3.adapters.bucket_survey import Surveyor
from flask_s3.adapters.manifest_store import ManifestRead, ManifestStore
from tests.integration.moto_site import BUCKET, MANIFEST, VISIBLE_KEYS, Site, keys_in
from tests.integration.test_concurrency import (
    moto_answers_races_as_s3_does,  # noqa: F401
    run_at_once,
)

if TYPE_CHECKING:
    from types_boto3_s3.client import S3Client


@pytest.mark.usefixtures("moto_answers_races_as_s3_does")
def test_two_first_deploys_at_once_both_create_the_bucket(
    s3: S3Client, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deterministic: both runs found no bucket, then both create it."""
    site.app.config["S3_REGION"] = "eu-west-1"
    both_decided = threading.Barrier(2, timeout=10)
    original = Surveyor.create

    def create(self: Surveyor, region: str | None) -> None:
        both_decided.wait()
        original(self, region)

    monkeypatch.setattr(Surveyor, "create", create)
    run_at_once(site.app, site.app)
    assert keys_in(s3) == sorted([*VISIBLE_KEYS, MANIFEST])


def test_a_bucket_created_during_inspect_is_not_a_raw_no_such_bucket(
    s3: S3Client, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deterministic: the other deploy creates the bucket after this run read
    the manifest (no bucket yet) and before its HeadBucket."""
    reads = threading.Semaphore(0)
    original_read = ManifestStore.read
    original_exists = Surveyor.exists

    def read(self: ManifestStore, key: str, *rest: Any, **options: Any) -> ManifestRead:
        try:
            return original_read(self, key, *rest, **options)
        finally:
            reads.release()

    def exists(self: Surveyor) -> bool:
        for _ in range(2):  # the manifest and the 0.3.x .file-hashes
            assert reads.acquire(timeout=10)
        if not any(b["Name"] == BUCKET for b in s3.list_buckets()["Buckets"]):
            s3.create_bucket(Bucket=BUCKET)  # the other deploy, just now
        return original_exists(self)

    monkeypatch.setattr(ManifestStore, "read", read)
    monkeypatch.setattr(Surveyor, "exists", exists)
    result = create_all(site.app)
    assert sorted(result.uploaded) == VISIBLE_KEYS
