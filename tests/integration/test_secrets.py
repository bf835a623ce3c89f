"""No credential ever shows: a full run with recognisable fake secrets, every
log record at DEBUG (botocore's included), every output and error scanned."""

from __future__ import annotations

import logging
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from botocore.exceptions import ClientError
from click.testing import CliRunner

import flask_s3
from flask_s3 import FlaskS3, UploadFailed, create_all
from flask_s3.adapters.objects import Objects
from flask_s3.core import SettingsError, resolve_settings
from flask_s3.flask.cli import main
from tests.integration.moto_site import BUCKET, build_site

if TYPE_CHECKING:
    from types_boto3_s3.client import S3Client

SECRET = "SECRET-canary-7f3a9e1c5b-do-not-print"
TOKEN = "TOKEN-canary-2d8b6f4a0e-do-not-print"
CANARIES = (SECRET, TOKEN)


def failure(message: BaseException) -> str:
    return "".join(traceback.format_exception(message))


def test_secrets_never_appear(
    tmp_path: Path,
    moto_endpoint: str,
    server_s3: S3Client,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = {
        "AWS_ACCESS_KEY_ID": "AKIACANARY0000000000",
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_SESSION_TOKEN": TOKEN,
        "S3_ENDPOINT_URL": moto_endpoint,
        "S3_ONLY_MODIFIED": True,
    }
    site = build_site(tmp_path / "site", **config)
    FlaskS3(site.app)
    seen: list[str] = [repr(resolve_settings(site.app.config))]
    caplog.set_level(logging.DEBUG)

    with site.app.test_request_context():
        seen.append(flask_s3.url_for("static", filename="css/a.css"))
    seen.append(repr(create_all(site.app)))

    target = tmp_path / "shop_app.py"
    target.write_text(
        "from tests.integration.moto_site import build_site\n"
        "from pathlib import Path\n"
        f"CONFIG = {config!r}\n"
        f"app = build_site(Path({str(tmp_path / 'cli')!r}), **CONFIG).app\n"
    )
    runner = CliRunner()
    for arguments in (
        ["plan", "--app", str(target)],
        ["plan", "--app", str(target), "--json"],
        ["upload", "--app", str(target)],
        ["plan", "--app", str(target), "--password", "x"],
    ):
        result = runner.invoke(main, arguments)
        seen.extend([result.output, repr(result.exception)])
        if result.exc_info is not None and result.exception is not None:
            seen.append(failure(result.exception))

    site.write("static/css/a.css", b"/* changed */")

    def refuse(self: Objects, item: object) -> None:
        raise ClientError(
            {"Error": {"Code": "AccessDenied", "Message": "no"}}, "PutObject"
        )

    monkeypatch.setattr(Objects, "upload", refuse)
    with pytest.raises(UploadFailed) as failed:
        create_all(site.app)
    seen.append(failure(failed.value))
    with pytest.raises(SettingsError) as bad:
        resolve_settings(
            {**config, "S3_URL_STYLE": "virtual", "AWS_SECRET_ACCESS_KEY": 5}
        )
    seen.append(failure(bad.value))
    del site.app.config["AWS_ACCESS_KEY_ID"]
    with pytest.raises(SettingsError) as half:
        create_all(site.app, password=SECRET)
    seen.append(failure(half.value))

    logged = caplog.text
    # The scan can fail: DEBUG records of the requests, headers included, were captured.
    assert "X-Amz-Security-Token" in logged
    assert "Authorization" in logged
    assert server_s3.list_objects_v2(Bucket=BUCKET)["KeyCount"] > 0
    for canary in CANARIES:
        assert canary not in logged
        for text in seen:
            assert canary not in text
