"""The command line as a shell runs it: real subprocesses against moto on 127.0.0.1.

``python -m flask_s3 ...`` and ``python -m flask --app ... s3 ...`` run with a
clean environment (fake keys, no profile, no endpoint variables, empty AWS
config files) and the package this test session imports on PYTHONPATH. What is
checked is what a deploy script sees: exit codes, stdout, stderr, and never a
traceback. The demo runs end to end, once printing and once serving a page.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

import flask_s3
from tests.integration.test_cli import (
    APP_MODULE,
    CONFIG_VARIABLE,
    ENDPOINT_VARIABLE,
    EXTENSION_VARIABLE,
    KEYS,
    MANIFEST,
    SUMMARY,
    TOTAL_BYTES,
    UNREACHABLE_HINT,
    Shop,
    actions,
    all_new,
    all_unchanged,
    bucket_keys,
    bucket_keys_or_none,
    check_plan_json,
    closed_port,
    one_error_line,
    table_rows,
)

if TYPE_CHECKING:
    from types_boto3_s3.client import S3Client

# The folder holding the flask_s3 this session tests: src/ of the checkout, or
# site-packages when installed.
TIMEOUT = 60


def run(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """``python <args>`` in ``cwd``; no output of any run may hold a traceback."""
    completed = subprocess.run(
        [sys.executable, *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert "Traceback" not in completed.stdout + completed.stderr, completed.stderr
    return completed


def flask_s3_cli(
    *args: str, env: dict[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    return run("-m", "flask_s3", *args, env=env, cwd=cwd)


def test_plan_upload_plan(
    server_s3: S3Client, moto_endpoint: str, shop: Shop, clean_env: dict[str, str]
) -> None:
    env = {**clean_env, ENDPOINT_VARIABLE: moto_endpoint}
    app = str(shop.app_file)
    factory = f"{APP_MODULE}:create_app()"  # found from the working directory

    checked = flask_s3_cli("plan", "--app", app, "--check", env=env, cwd=shop.folder)
    assert checked.returncode == 1, checked.stderr
    assert table_rows(checked.stdout) == all_new()
    planned = flask_s3_cli("plan", "--app", factory, "--json", env=env, cwd=shop.folder)
    assert planned.returncode == 0, planned.stderr
    doc = check_plan_json(planned.stdout)
    assert actions(doc) == all_new()
    assert doc["bucket_exists"] is False
    assert doc["manifest"] == "none"
    assert doc["endpoint_url"] == moto_endpoint
    assert bucket_keys_or_none(server_s3) is None

    uploaded = flask_s3_cli("upload", "--app", app, env=env, cwd=shop.folder)
    assert uploaded.returncode == 0, uploaded.stderr
    summary = SUMMARY.fullmatch(uploaded.stdout.strip())
    assert summary is not None, uploaded.stdout
    assert summary.groups() == (str(len(KEYS)), f"{TOTAL_BYTES} B", "0")
    # stdout is a pipe: no progress bar, and nothing drawn over itself.
    assert "Uploading" not in uploaded.stdout + uploaded.stderr
    assert "\r" not in uploaded.stdout
    assert bucket_keys(server_s3) == sorted([*KEYS, MANIFEST])

    again = flask_s3_cli("plan", "--app", app, "--check", env=env, cwd=shop.folder)
    assert again.returncode == 0, again.stderr
    assert table_rows(again.stdout) == all_unchanged()
    planned = flask_s3_cli("plan", "--app", factory, "--json", env=env, cwd=shop.folder)
    doc = check_plan_json(planned.stdout)
    assert actions(doc) == all_unchanged()
    assert doc["bucket_exists"] is True
    assert doc["manifest"] == "flask-s3"

    shop.write("static/css/site.css", b"body { margin: 1px; }\n")
    changed = flask_s3_cli("plan", "--app", app, "--check", env=env, cwd=shop.folder)
    assert changed.returncode == 1, changed.stderr
    assert table_rows(changed.stdout) == {
        **all_unchanged(),
        "static/css/site.css": ("upload", "content changed"),
    }


def test_flask_s3_plan_and_upload(
    server_s3: S3Client, moto_endpoint: str, shop: Shop, clean_env: dict[str, str]
) -> None:
    env = {**clean_env, ENDPOINT_VARIABLE: moto_endpoint}
    target = f"{APP_MODULE}:create_app()"

    def flask_cli(*args: str) -> subprocess.CompletedProcess[str]:
        return run(
            "-m", "flask", "--app", target, "s3", *args, env=env, cwd=shop.folder
        )

    checked = flask_cli("plan", "--check")
    assert checked.returncode == 1, checked.stderr
    planned = flask_cli("plan", "--json")
    assert planned.returncode == 0, planned.stderr
    assert actions(check_plan_json(planned.stdout)) == all_new()

    uploaded = flask_cli("upload", "--quiet")
    assert uploaded.returncode == 0, uploaded.stderr
    assert uploaded.stdout == ""
    assert bucket_keys(server_s3) == sorted([*KEYS, MANIFEST])

    again = flask_cli("plan", "--check", "--json")
    assert again.returncode == 0, again.stderr
    doc = check_plan_json(again.stdout)
    assert actions(doc) == all_unchanged()
    assert doc["manifest"] == "flask-s3"


def test_plan_offline_needs_no_credentials(
    shop: Shop, clean_env: dict[str, str]
) -> None:
    env = {
        name: value
        for name, value in clean_env.items()
        if name not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
    }
    env[ENDPOINT_VARIABLE] = f"http://127.0.0.1:{closed_port()}"

    planned = flask_s3_cli(
        "plan",
        "--app",
        f"{shop.app_file}",
        "--offline",
        "--json",
        env=env,
        cwd=shop.folder,
    )
    assert planned.returncode == 0, planned.stderr
    doc = check_plan_json(planned.stdout)
    assert doc["bucket_exists"] is None
    assert doc["offline"] is True
    assert doc["manifest"] == "none"
    assert actions(doc) == all_new()

    flask_plan = run(
        "-m",
        "flask",
        "--app",
        str(shop.app_file),
        "s3",
        "plan",
        "--offline",
        env=env,
        cwd=shop.folder,
    )
    assert flask_plan.returncode == 0, flask_plan.stderr
    assert table_rows(flask_plan.stdout) == all_new()


# Errors: the documented exit code and one line on stderr


@pytest.mark.parametrize(
    ("args", "settings", "code", "hint"),
    [
        pytest.param(["plan", "--app", "nope.py"], {}, 2, None, id="missing-file"),
        pytest.param(
            ["upload", "--app", "missing_module:app"], {}, 2, None, id="missing-module"
        ),
        pytest.param(
            ["plan", "--app", "{app}"],
            {CONFIG_VARIABLE: '{"S3_URL_STYLE": "virtual"}', EXTENSION_VARIABLE: "0"},
            2,
            None,
            id="invalid-setting",
        ),
        pytest.param(
            ["upload", "--app", "{app}"],
            {CONFIG_VARIABLE: '{"S3_BUCKET_NAME": null, "USE_S3": false}'},
            2,
            None,
            id="no-bucket",
        ),
        pytest.param(
            ["plan", "--app", "{app}"],
            {ENDPOINT_VARIABLE: "{closed}"},
            3,
            True,
            id="unreachable",
        ),
        pytest.param(
            ["plan", "--app", "{app}"],
            {ENDPOINT_VARIABLE: "{moto}", "AWS_ACCESS_KEY_ID": ""},
            3,
            True,
            id="no-credentials",
        ),
        pytest.param(
            ["-m", "flask", "--app", "{app}", "s3", "plan"],
            {ENDPOINT_VARIABLE: "{moto}", "AWS_ACCESS_KEY_ID": ""},
            3,
            True,
            id="flask-no-credentials",
        ),
        pytest.param(
            ["-m", "flask", "--app", "{app}", "s3", "upload"],
            {CONFIG_VARIABLE: '{"S3_BUCKET_NAME": null, "USE_S3": false}'},
            2,
            None,
            id="flask-no-bucket",
        ),
    ],
)
def test_errors_are_one_line(
    server_s3: S3Client,
    moto_endpoint: str,
    shop: Shop,
    clean_env: dict[str, str],
    args: list[str],
    settings: dict[str, str],
    code: int,
    hint: bool | None,
) -> None:
    values = {
        "{app}": str(shop.app_file),
        "{moto}": moto_endpoint,
        "{closed}": f"http://127.0.0.1:{closed_port()}",
    }

    def filled(text: str) -> str:
        for placeholder, value in values.items():
            text = text.replace(placeholder, value)
        return text

    env = {**clean_env, **{name: filled(value) for name, value in settings.items()}}
    if env.get("AWS_ACCESS_KEY_ID") == "":
        del env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]
    command = [filled(arg) for arg in args]
    if command[0] != "-m":
        command = ["-m", "flask_s3", *command]

    result = run(*command, env=env, cwd=shop.folder)

    assert result.returncode == code, result.stderr
    line = one_error_line(result.stderr)
    assert result.stdout == ""
    if hint:
        assert UNREACHABLE_HINT in line
    if "AWS_ACCESS_KEY_ID" in settings:
        assert "credentials" in line
    assert bucket_keys_or_none(server_s3) is None


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["-m", "flask_s3", "plan", "--filter", "("], id="bad-regex"),
        pytest.param(["-m", "flask_s3", "upload"], id="no-app"),
    ],
)
def test_usage_errors_exit_2(
    shop: Shop, clean_env: dict[str, str], args: list[str]
) -> None:
    extra = ["--app", str(shop.app_file)] if "--filter" in args else []
    result = run(*args, *extra, env=clean_env, cwd=shop.folder)

    assert result.returncode == 2, result.stderr
    assert "Usage:" in result.stderr


@pytest.mark.parametrize(
    ("args", "error"),
    [
        pytest.param(
            ["-m", "flask", "--app", "nope.py", "s3", "plan"],
            "error: Could not import 'nope'. ModuleNotFoundError: No module named "
            "'nope'",
            id="flask-missing-file",
        ),
        pytest.param(
            ["-m", "flask", "--app", "missing_module:app", "s3", "upload"],
            "error: Could not import 'missing_module'. ModuleNotFoundError: No "
            "module named 'missing_module'",
            id="flask-missing-module",
        ),
    ],
)
def test_flask_s3_commands_report_an_app_that_cannot_load_in_one_line(
    shop: Shop, clean_env: dict[str, str], args: list[str], error: str
) -> None:
    """'flask s3' exists without the app (an entry point), so loading the app
    is its own step, reported as 'python -m flask_s3' reports it."""
    result = run(*args, env=clean_env, cwd=shop.folder)

    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == [error]


def test_a_bad_setting_in_create_app_is_one_line_under_flask_too(
    shop: Shop, clean_env: dict[str, str]
) -> None:
    factory = shop.folder / "bad_factory.py"
    factory.write_text(
        "from flask import Flask\n"
        "from flask_s3 import FlaskS3\n"
        "def create_app():\n"
        "    app = Flask(__name__)\n"
        "    app.config.update(S3_BUCKET_NAME='shop-assets', S3_GZIP='yes')\n"
        "    FlaskS3(app)\n"
        "    return app\n"
    )
    for command in (
        ["-m", "flask", "--app", "bad_factory:create_app", "s3", "plan"],
        ["-m", "flask_s3", "plan", "--app", "bad_factory:create_app"],
    ):
        result = run(*command, env=clean_env, cwd=shop.folder)
        assert result.returncode == 2, result.stderr
        assert result.stderr.splitlines() == [
            "error: S3_GZIP = 'yes' is invalid: expected True or False (got str)"
        ], command


def test_python_m_flask_s3_reads_flask_app_and_flaskenv(
    shop: Shop, clean_env: dict[str, str]
) -> None:
    (shop.folder / ".flaskenv").write_text(f"FLASK_APP={shop.app_file}\n")
    result = run("-m", "flask_s3", "plan", "--offline", env=clean_env, cwd=shop.folder)
    assert result.returncode == 0, result.stderr
    assert "offline: planned against an empty bucket" in result.stdout
    (shop.folder / ".flaskenv").unlink()
    with_variable = {**clean_env, "FLASK_APP": str(shop.app_file)}
    result = run(
        "-m", "flask_s3", "plan", "--offline", env=with_variable, cwd=shop.folder
    )
    assert result.returncode == 0, result.stderr


def test_version_and_summary(shop: Shop, clean_env: dict[str, str]) -> None:
    version = run("-m", "flask_s3", "--version", env=clean_env, cwd=shop.folder)
    assert version.returncode == 0
    assert version.stdout.strip() == f"Flask-S3, version {flask_s3.__version__}"
    totals = run(
        "-m",
        "flask_s3",
        "plan",
        "--app",
        str(shop.app_file),
        "--offline",
        "--summary",
        env=clean_env,
        cwd=shop.folder,
    )
    assert totals.returncode == 0, totals.stderr
    lines = totals.stdout.splitlines()
    assert lines[0].startswith("upload: ")
    assert not [line for line in lines if line.startswith(("ACTION", "upload  "))]
    helped = run("-m", "flask_s3", "upload", "--help", env=clean_env, cwd=shop.folder)
    for shown in ("--endpoint-url URL", "--filter REGEX", "FLASK_APP", "Exit codes:"):
        assert shown in helped.stdout, shown


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_progress_bar_shows_on_a_terminal(
    server_s3: S3Client, moto_endpoint: str, shop: Shop, clean_env: dict[str, str]
) -> None:
    """The other side of "quiet when not a terminal": the bar is there on one,
    on stderr (stdout stays for the summary), counting bytes, with an ETA."""
    import pty

    leader, follower = pty.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "flask_s3", "upload", "--app", str(shop.app_file)],
            env={**clean_env, ENDPOINT_VARIABLE: moto_endpoint, "TERM": "dumb"},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=follower,
        )
        os.close(follower)
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the terminal closed: the process is done
                break
            if not chunk:
                break
            shown += chunk
        assert process.wait(timeout=TIMEOUT) == 0
        assert process.stdout is not None
        summary = process.stdout.read().decode()
        process.stdout.close()
    finally:
        os.close(leader)
    text = shown.decode()
    assert "Uploading" in text
    assert "100%" in text
    assert SUMMARY.search(summary) is not None, summary


# The demo


def test_demo(clean_env: dict[str, str], tmp_path: Path) -> None:
    result = run("-m", "flask_s3", "demo", env=clean_env, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    port = re.search(r"http://127\.0\.0\.1:(\d+)", result.stdout)
    assert port is not None, result.stdout
    css = f"http://127.0.0.1:{port.group(1)}/flask-s3-demo/static/css/shop.css"
    assert css in result.stdout
    assert "-> 200 OK" in result.stdout
    assert f"GET {css} -> 200 OK" in result.stdout
    assert "Content-Type: text/css" in result.stdout


def fetch(url: str) -> tuple[int, str, str]:
    with urllib.request.urlopen(url, timeout=5) as response:
        body = response.read().decode()
        return response.status, response.headers.get("Content-Type", ""), body


def test_demo_serve(serving_demo: tuple[int, Path]) -> None:
    port, output = serving_demo

    status, content_type, page = fetch(f"http://127.0.0.1:{port}/")

    assert status == 200
    assert content_type.startswith("text/html")
    links = re.findall(
        r'href="(http://127\.0\.0\.1:\d+/flask-s3-demo/[^"]+\.css)"', page
    )
    assert links, page
    css = links[0]
    assert css.endswith("/flask-s3-demo/static/css/shop.css")
    s3_address = re.search(
        r"S3 server is running at (http://127\.0\.0\.1:\d+)", output.read_text()
    )
    assert s3_address is not None, output.read_text()
    assert css.startswith(s3_address.group(1) + "/")
    status, content_type, body = fetch(css)
    assert status == 200
    assert content_type.startswith("text/css")
    assert body
