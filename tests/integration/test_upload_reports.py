"""What ``upload`` tells a deploy script: ``--json`` prints one object with
the documented keys and types, also when the upload failed; the text summary
names what was fixed and deleted. In-process against moto over HTTP, and once
as a real subprocess.
"""

from __future__ import annotations

import hashlib
import json
from types import NoneType
from typing import TYPE_CHECKING, Any

import pytest

from flask_s3.adapters.objects import Objects
from flask_s3.core.manifest import Stored
from flask_s3.core.upload_plan import PlannedAsset
from flask_s3.flask.cli import main
from tests.integration.test_cli import (
    APP_MODULE,
    BUCKET,
    ENDPOINT_VARIABLE,
    KEY_OF,
    KEYS,
    MANIFEST,
    SHOP_FILES,
    TOTAL_BYTES,
    Shop,
    _cli_isolation,  # noqa: F401 (autouse: the commands' loggers are put back)
    bucket_keys,
    failure_report,
    invoke,
)
from tests.integration.test_cli_subprocess import flask_s3_cli

if TYPE_CHECKING:
    from types_boto3_s3.client import S3Client

REPORT_TYPES: dict[str, tuple[type, ...]] = {
    "bucket": (str,),
    "uploaded": (list,),
    "fixed": (list,),
    "skipped": (list,),
    "deleted": (list,),
    "failed": (list,),
    "bytes_uploaded": (int,),
    "seconds": (float,),
    "invalidation_id": (str, NoneType),
    "warnings": (list,),
}
GONE_LOCAL = "static/img/logo.svg"


def upload_report(text: str) -> dict[str, Any]:
    """``upload --json`` output: one JSON object of exactly the documented
    keys, each of its type (type(), so that True passes for no int)."""
    report: dict[str, Any] = json.loads(text)
    assert set(report) == set(REPORT_TYPES), report
    for name, types in REPORT_TYPES.items():
        assert type(report[name]) in types, (name, report[name])
    for name in ("uploaded", "fixed", "skipped", "deleted", "warnings"):
        assert all(type(item) is str for item in report[name]), (name, report)
    for failure in report["failed"]:
        assert set(failure) == {"key", "reason"}, failure
        assert type(failure["key"]) is type(failure["reason"]) is str, failure
    assert report["bytes_uploaded"] >= 0
    assert report["seconds"] >= 0
    return report


@pytest.fixture
def endpoint(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(ENDPOINT_VARIABLE, moto_endpoint)
    return moto_endpoint


def test_upload_json_then_a_pruning_run(
    server_s3: S3Client, endpoint: str, shop: Shop
) -> None:
    app = str(shop.app_file)
    uploaded = invoke(main, "upload", "--app", app, "--json")

    assert uploaded.exit_code == 0, uploaded.output
    report = upload_report(uploaded.stdout)
    assert report["bucket"] == BUCKET
    assert sorted(report["uploaded"]) == KEYS
    assert report["bytes_uploaded"] == TOTAL_BYTES
    assert (report["skipped"], report["fixed"], report["deleted"]) == ([], [], [])
    assert (report["failed"], report["warnings"]) == ([], [])
    assert report["invalidation_id"] is None

    (shop.folder / GONE_LOCAL).unlink()
    pruned = invoke(main, "upload", "--app", app, "--json", "--prune")
    assert pruned.exit_code == 0, pruned.output
    report = upload_report(pruned.stdout)
    assert report["deleted"] == [KEY_OF[GONE_LOCAL]]
    assert report["uploaded"] == []
    assert sorted(report["skipped"]) == sorted(set(KEYS) - {KEY_OF[GONE_LOCAL]})
    assert bucket_keys(server_s3) == sorted(
        [*set(KEYS) - {KEY_OF[GONE_LOCAL]}, MANIFEST]
    )


def test_the_summary_names_deletions_and_header_fixes(
    server_s3: S3Client, endpoint: str, shop: Shop
) -> None:
    app = str(shop.app_file)
    # A bucket last managed by 0.3.x: every file recorded, typed wrongly.
    server_s3.create_bucket(Bucket=BUCKET)
    for local, data in SHOP_FILES.items():
        server_s3.put_object(
            Bucket=BUCKET,
            Key=KEY_OF[local],
            Body=data,
            ContentType="binary/octet-stream",
        )
    hashes = {
        f"/{KEY_OF[local]}": hashlib.sha1(data).hexdigest()
        for local, data in SHOP_FILES.items()
    }
    server_s3.put_object(Bucket=BUCKET, Key=".file-hashes", Body=json.dumps(hashes))

    fixed = invoke(main, "upload", "--app", app)
    assert fixed.exit_code == 0, fixed.output
    assert fixed.stdout.startswith(
        f"uploaded 0 files (0 B), fixed the headers of {len(KEYS)}, "
        "skipped 0 unchanged, in "
    ), fixed.stdout
    assert "deleted" not in fixed.stdout

    (shop.folder / GONE_LOCAL).unlink()
    pruned = invoke(main, "upload", "--app", app, "--prune")
    assert pruned.exit_code == 0, pruned.output
    assert pruned.stdout.startswith(
        f"uploaded 0 files (0 B), skipped {len(KEYS) - 1} unchanged, deleted 1, in "
    ), pruned.stdout
    assert pruned.stdout.strip().endswith(f"to bucket {BUCKET}")


def test_a_failed_upload_prints_its_json_then_exits_1(
    server_s3: S3Client, endpoint: str, shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    doomed = KEY_OF["static/js/app.js"]
    real_upload = Objects.upload

    def flaky_upload(self: Objects, item: PlannedAsset) -> Stored:
        if item.key == doomed:
            raise OSError("simulated network failure")
        return real_upload(self, item)

    monkeypatch.setattr(Objects, "upload", flaky_upload)

    failed = invoke(main, "upload", "--app", str(shop.app_file), "--json")

    assert failed.exit_code == 1, failed.output
    report = upload_report(failed.stdout)
    assert report["failed"] == [
        {"key": doomed, "reason": "OSError: simulated network failure"}
    ]
    assert sorted(report["uploaded"]) == sorted(set(KEYS) - {doomed})
    assert report["bytes_uploaded"] == TOTAL_BYTES - len(SHOP_FILES["static/js/app.js"])
    assert report["bucket"] == BUCKET
    first, named = failure_report(failed.stderr)
    assert first.startswith("error: 1 of 4 uploads failed"), failed.stderr
    assert named == {doomed}


def test_upload_json_in_a_subprocess(
    server_s3: S3Client, moto_endpoint: str, shop: Shop, clean_env: dict[str, str]
) -> None:
    env = {**clean_env, ENDPOINT_VARIABLE: moto_endpoint}
    app = f"{APP_MODULE}:create_app()"

    first = flask_s3_cli("upload", "--app", app, "--json", env=env, cwd=shop.folder)
    again = flask_s3_cli("upload", "--app", app, "--json", env=env, cwd=shop.folder)

    assert first.returncode == 0, first.stderr
    report = upload_report(first.stdout)
    assert (report["bucket"], sorted(report["uploaded"])) == (BUCKET, KEYS)
    assert report["bytes_uploaded"] == TOTAL_BYTES
    assert again.returncode == 0, again.stderr
    report = upload_report(again.stdout)
    assert (report["uploaded"], sorted(report["skipped"])) == ([], KEYS)
    assert report["bytes_uploaded"] == 0
    # stdout is the JSON alone; what the run logged went to stderr.
    for line in (first.stderr + again.stderr).splitlines():
        assert line.startswith("warning: "), line
