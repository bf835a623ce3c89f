"""Errors raised while loading the user's app, and bad option values, end in
one line and exit 2 like every other usage error.
"""

from __future__ import annotations

import json

import pytest

from flask_s3.flask.cli import main
from tests.integration.test_cli import (
    CONFIG_VARIABLE,
    Shop,
    invoke,
    one_error_line,
)
from tests.integration.test_cli_subprocess import run


# _load() (it only catches NoAppException): traceback, exit code 1.
@pytest.mark.parametrize(
    "config",
    [
        pytest.param({"S3_URL_STYLE": "virtual"}, id="invalid-setting"),
        pytest.param({"S3_BUCKET_NAME": None}, id="no-bucket-while-active"),
    ],
)
@pytest.mark.parametrize("command", ["plan", "upload"])
def test_setting_rejected_by_init_app_exits_2(
    shop: Shop, monkeypatch: pytest.MonkeyPatch, command: str, config: dict
) -> None:
    monkeypatch.setenv(CONFIG_VARIABLE, json.dumps(config))
    result = invoke(main, command, "--app", str(shop.app_file))
    assert result.exit_code == 2
    one_error_line(result.stderr)


def test_setting_rejected_by_init_app_subprocess(
    shop: Shop, clean_env: dict[str, str]
) -> None:
    env = {**clean_env, CONFIG_VARIABLE: '{"S3_URL_STYLE": "virtual"}'}
    result = run(
        "-m",
        "flask_s3",
        "plan",
        "--app",
        str(shop.app_file),
        "--offline",
        env=env,
        cwd=shop.folder,
    )
    assert result.returncode == 2
    one_error_line(result.stderr)


def test_app_with_a_syntax_error_exits_2(shop: Shop, clean_env: dict[str, str]) -> None:
    broken = shop.folder / "broken_app.py"
    broken.write_text("def create_app(:\n")
    result = run(
        "-m",
        "flask_s3",
        "plan",
        "--app",
        str(broken),
        "--offline",
        env=clean_env,
        cwd=shop.folder,
    )
    assert result.returncode == 2
    one_error_line(result.stderr)


# ParamValidationError message has a newline), with exit code 3.
def test_invalid_bucket_name_is_one_line(shop: Shop) -> None:
    result = invoke(
        main, "plan", "--app", str(shop.app_file), "--bucket", "Bad_Bucket!"
    )
    assert result.exit_code in (2, 3)
    one_error_line(result.stderr)
