"""Every test runs isolated from the machine's AWS setup, with fake credentials."""

from __future__ import annotations

import os

import pytest

FAKE_ACCESS_KEY = "AKIAFAKEFAKEFAKEFAKE"
FAKE_SECRET_KEY = "fake-secret-0123456789abcdefghijklmnopqrstuv"


@pytest.fixture(autouse=True)
def _isolated_aws(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    for name in list(os.environ):
        if name == "AWS_PROFILE" or name.startswith(
            ("AWS_ENDPOINT_URL", "AWS_DEFAULT_PROFILE")
        ):
            monkeypatch.delenv(name)
    empty = tmp_path_factory.getbasetemp() / "no-aws-config"
    empty.touch()
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", FAKE_ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", FAKE_SECRET_KEY)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
