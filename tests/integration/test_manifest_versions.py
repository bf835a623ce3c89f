"""A manifest this version cannot read stops the run before it writes anything,
and says what to do: upgrade for a newer format, delete it for a broken one.
The command line prints that as one line and exits 3.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from flask_s3 import ManifestError, create_all
from flask_s3.flask.cli import main
from tests.integration.moto_site import (
    BUCKET,
    MANIFEST,
    Site,
    body_of,
    keys_in,
)
from tests.integration.test_cli import (
    BUCKET as SHOP_BUCKET,
)
from tests.integration.test_cli import (
    ENDPOINT_VARIABLE,
    Shop,
    _cli_isolation,  # noqa: F401 (autouse: the commands' loggers are put back)
    invoke,
    one_error_line,
)

if TYPE_CHECKING:
    from types_boto3_s3.client import S3Client

NEWER = json.dumps({"entries": {}, "version": 99, "deploys": 1}).encode()
BROKEN = json.dumps({"entries": {"static/a.css": "not an entry"}, "version": 2})


def test_a_newer_manifest_asks_for_an_upgrade_and_changes_nothing(
    s3: S3Client, site: Site
) -> None:
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key=MANIFEST, Body=NEWER)

    with pytest.raises(ManifestError) as raised:
        create_all(site.app)

    message = str(raised.value)
    assert "newer version of Flask-S3" in message
    assert "upgrade" in message
    assert "delete" not in message
    assert keys_in(s3) == [MANIFEST]
    assert body_of(s3, MANIFEST) == NEWER


def test_a_broken_manifest_of_a_known_format_says_delete_it(
    s3: S3Client, site: Site
) -> None:
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key=MANIFEST, Body=BROKEN.encode())

    with pytest.raises(ManifestError) as raised:
        create_all(site.app)

    message = str(raised.value)
    assert f"{MANIFEST} is not valid" in message
    assert "delete it" in message
    assert "newer" not in message
    assert keys_in(s3) == [MANIFEST]


def test_a_manifest_that_is_not_utf8_text_names_itself_and_says_delete_it(
    s3: S3Client, site: Site
) -> None:
    """The store decodes the record before it is parsed; bytes that are not
    UTF-8 are the record's fault, said as such, not a crash of the run."""
    s3.create_bucket(Bucket=BUCKET)
    body = b'{"version": 2, "entries": {"static/\xff.css": {}}}'
    s3.put_object(Bucket=BUCKET, Key=MANIFEST, Body=body)

    with pytest.raises(ManifestError) as raised:
        create_all(site.app)

    message = str(raised.value)
    assert f"{MANIFEST} in bucket {BUCKET} is not UTF-8 text" in message
    assert "delete it" in message
    assert "\n" not in message
    assert keys_in(s3) == [MANIFEST]
    assert body_of(s3, MANIFEST) == body


@pytest.mark.parametrize(
    ("body", "says"),
    [
        pytest.param(NEWER, "upgrade Flask-S3", id="newer"),
        pytest.param(BROKEN.encode(), "delete it", id="broken"),
    ],
)
@pytest.mark.parametrize("command", ["plan", "upload"])
def test_the_command_line_prints_one_line_and_exits_3(
    server_s3: S3Client,
    moto_endpoint: str,
    shop: Shop,
    monkeypatch: pytest.MonkeyPatch,
    command: str,
    body: bytes,
    says: str,
) -> None:
    monkeypatch.setenv(ENDPOINT_VARIABLE, moto_endpoint)
    server_s3.create_bucket(Bucket=SHOP_BUCKET)
    server_s3.put_object(Bucket=SHOP_BUCKET, Key=MANIFEST, Body=body)

    result = invoke(main, command, "--app", str(shop.app_file))

    assert result.exit_code == 3, result.output
    assert result.stdout == ""
    assert says in one_error_line(result.stderr)
    assert keys_in(server_s3, SHOP_BUCKET) == [MANIFEST]
