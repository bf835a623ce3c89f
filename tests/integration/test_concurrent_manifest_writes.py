"""Two runs at once on one bucket keep each other's manifest keys: the write
is conditional on the record read (If-Match), and a lost race is replayed."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

import flask_s3.deploy.recording as recording
from flask_s3.adapters.manifest_store import ManifestRead, ManifestStore
from flask_s3.core.manifest import Manifest
from tests.integration.moto_site import BUCKET, MANIFEST, keys_in, manifest_of
from tests.integration.test_concurrency import (
    app_with_files,
    moto_answers_races_as_s3_does,  # noqa: F401
    run_at_once,
)

if TYPE_CHECKING:
    from types_boto3_s3.client import S3Client


@pytest.mark.usefixtures("moto_answers_races_as_s3_does")
def test_two_apps_at_once_keep_both_runs_keys_in_the_manifest(
    s3: S3Client, tmp_path: Path
) -> None:
    """Natural race, no orchestration: fails in roughly 1 trial out of 4."""
    s3.create_bucket(Bucket=BUCKET)
    for trial in range(12):
        for key in keys_in(s3):
            s3.delete_object(Bucket=BUCKET, Key=key)
        one, one_files = app_with_files(tmp_path / str(trial), "one", 20)
        two, two_files = app_with_files(tmp_path / str(trial), "two", 20)
        run_at_once(one, two)
        assert keys_in(s3) == sorted([*one_files, *two_files, MANIFEST])
        assert sorted(manifest_of(s3)["entries"]) == sorted([*one_files, *two_files]), (
            f"trial {trial}"
        )


@pytest.mark.usefixtures("moto_answers_races_as_s3_does", "reads_go_stale")
def test_manifest_writes_that_interleave_keep_both_runs_keys(
    s3: S3Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deterministic: both runs read the manifest before either writes it
    (each write reads it: the survey's read has gone stale)."""
    s3.create_bucket(Bucket=BUCKET)
    both_read = threading.Barrier(2, timeout=10)
    writing = threading.local()
    original_write = recording.write_manifest
    original_read = ManifestStore.read

    def write_manifest(*args: Any, **kwargs: Any) -> tuple[Manifest, str | None]:
        writing.active = True
        try:
            return original_write(*args, **kwargs)
        finally:
            writing.active = False

    def read(self: ManifestStore, key: str, *rest: Any, **options: Any) -> ManifestRead:
        answer = original_read(self, key, *rest, **options)
        if getattr(writing, "active", False) and not getattr(writing, "met", False):
            writing.met = True  # a replay after the lost race reads alone
            both_read.wait()  # the other run has read it too; now both PUT
        return answer

    monkeypatch.setattr(recording, "write_manifest", write_manifest)
    monkeypatch.setattr(ManifestStore, "read", read)
    one, one_files = app_with_files(tmp_path, "one", 5)
    two, two_files = app_with_files(tmp_path, "two", 5)
    run_at_once(one, two)

    assert keys_in(s3) == sorted([*one_files, *two_files, MANIFEST])
    assert sorted(manifest_of(s3)["entries"]) == sorted([*one_files, *two_files])
