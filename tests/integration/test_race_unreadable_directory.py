"""A static sub-folder that cannot be listed stops the run with a clear error
naming it, before anything is sent, as an unreadable file does. We run as
root, so chmod 000 would not stop os.scandir: the test makes it refuse."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import pytest

import flask_s3.adapters.static_files as static_files
from flask_s3 import create_all
from tests.integration.moto_site import Site

if TYPE_CHECKING:
    from types_boto3_s3.client import S3Client


def test_an_unlistable_folder_is_a_clear_error(
    s3: S3Client, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = str(site.root / "static" / "img")
    real_scandir = os.scandir

    def scandir(path: Any) -> Any:
        if os.fspath(path) == folder:
            raise PermissionError(13, "Permission denied", folder)
        return real_scandir(path)

    monkeypatch.setattr(static_files.os, "scandir", scandir)
    with pytest.raises(static_files.UnreadableFile) as raised:
        create_all(site.app)
    assert str(raised.value).startswith(f"cannot list static folder {folder}: ")
    assert s3.list_buckets()["Buckets"] == []
