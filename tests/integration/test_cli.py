"""The command line in-process, through click's CliRunner, against moto over HTTP.

``python -m flask_s3 plan|upload|demo`` and ``flask --app ... s3 plan|upload``
load a small shop written into tmp_path (its settings come from environment
variables, so one module serves every case) and talk to a moto server on
127.0.0.1. The same commands run in real subprocesses in test_cli_subprocess.py,
which shares the helpers here: the shop, the plan table parser and the check of
the documented ``plan --json`` shape.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import socket
import sys
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import NoneType
from typing import TYPE_CHECKING, Any

import flask.cli
import pytest
from click.testing import CliRunner, Result

from flask_s3.adapters.objects import Objects
from flask_s3.core.manifest import Stored
from flask_s3.core.upload_plan import PlannedAsset
from flask_s3.flask.cli import main

if TYPE_CHECKING:
    from types_boto3_s3.client import S3Client

README = Path(__file__).resolve().parents[2] / "README.md"
BUCKET = "cli-shop-assets"
MANIFEST = ".flask-s3-manifest.json"
APP_MODULE = "cli_shop"
ENDPOINT_VARIABLE = "CLI_SHOP_ENDPOINT"
CONFIG_VARIABLE = "CLI_SHOP_CONFIG"
EXTENSION_VARIABLE = "CLI_SHOP_EXTENSION"

APP_SOURCE = f'''\
"""The shop of the command-line tests: an app static folder and a blueprint
with its own static folder under a url_prefix; settings from the environment."""

import json
import os

from flask import Blueprint, Flask

from flask_s3 import FlaskS3

HERE = os.path.dirname(os.path.abspath(__file__))


def create_app():
    app = Flask(__name__, root_path=HERE)
    app.config.update(
        S3_BUCKET_NAME={BUCKET!r},
        S3_ENDPOINT_URL=os.environ.get({ENDPOINT_VARIABLE!r}),
        S3_ONLY_MODIFIED=True,
        S3_HEADERS={{"Cache-Control": "public, max-age=600"}},
    )
    app.config.update(json.loads(os.environ.get({CONFIG_VARIABLE!r}, "{{}}")))
    catalog = Blueprint(
        "catalog", __name__, static_folder="catalog_static", static_url_path="/assets"
    )
    app.register_blueprint(catalog, url_prefix="/catalog")
    if os.environ.get({EXTENSION_VARIABLE!r}, "1") == "1":
        FlaskS3(app)
    return app
'''

# Local file (relative to the shop folder) -> its bytes, and the key it gets.
SHOP_FILES: dict[str, bytes] = {
    "static/css/site.css": b"body { margin: 0; }\n" * 8,
    "static/js/app.js": b"console.log('shop');\n",
    "static/img/logo.svg": b'<svg xmlns="http://www.w3.org/2000/svg"/>\n',
    "catalog_static/catalog.css": b".product { padding: 1em; }\n",
}
KEY_OF = {
    "static/css/site.css": "static/css/site.css",
    "static/js/app.js": "static/js/app.js",
    "static/img/logo.svg": "static/img/logo.svg",
    "catalog_static/catalog.css": "catalog/assets/catalog.css",
}
KEYS = sorted(KEY_OF.values())
TOTAL_BYTES = sum(len(data) for data in SHOP_FILES.values())

UNREACHABLE_HINT = "--offline"
SUMMARY = re.compile(
    r"uploaded (\d+) files \((.+)\), skipped (\d+) unchanged, in \d+\.\d s, "
    rf"to bucket {BUCKET}"
)


@dataclass
class Shop:
    folder: Path

    @property
    def app_file(self) -> Path:
        return self.folder / f"{APP_MODULE}.py"

    def write(self, local: str, data: bytes) -> None:
        (self.folder / local).write_bytes(data)


def write_shop(folder: Path) -> Shop:
    for local, data in SHOP_FILES.items():
        path = folder / local
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    (folder / f"{APP_MODULE}.py").write_text(APP_SOURCE)
    return Shop(folder)


def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on (it was free a moment ago)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


# What `plan` prints


def table_rows(text: str) -> dict[str, tuple[str, str]]:
    """The plan table as key -> (action, reason); columns are 2+ spaces apart."""
    lines = text.splitlines()
    assert re.split(r"\s{2,}", lines[0]) == [
        "ACTION",
        "REASON",
        "KEY",
        "SIZE",
        "CONTENT-TYPE",
        "ENCODING",
        "CACHE-CONTROL",
    ], text
    rows: dict[str, tuple[str, str]] = {}
    for line in lines[1:]:
        if not line:
            break
        action, reason, key, *_ = re.split(r"\s{2,}", line)
        assert key not in rows, text
        rows[key] = (action, reason)
    return rows


def documented_plan_json() -> dict[str, Any]:
    """The example under README's "### `plan --json`"."""
    section = README.read_text().split("### `plan --json`", 1)[1]
    block = re.search(r"```json\n(.*?)\n```", section, re.DOTALL)
    assert block is not None
    loaded: dict[str, Any] = json.loads(block.group(1))
    return loaded


TOP_LEVEL_TYPES: dict[str, tuple[type, ...]] = {
    "format": (int,),
    "bucket": (str,),
    "region": (str, NoneType),
    "endpoint_url": (str, NoneType),
    "offline": (bool,),
    "bucket_exists": (bool, NoneType),
    "manifest": (str,),
    "example_url": (str, NoneType),
    "totals": (dict,),
    "assets": (list,),
    "deletes": (list,),
    "invalidations": (list,),
    "cors_origins_added": (list,),
    "warnings": (list,),
}
ASSET_TYPES: dict[str, tuple[type, ...]] = {
    "action": (str,),
    "reason": (str,),
    "key": (str,),
    "size": (int,),
    "content_type": (str,),
    "content_encoding": (str, NoneType),
    "cache_control": (str, NoneType),
    "integrity": (str,),
}
MANIFEST_SOURCES = {"flask-s3", "flask-s3 0.3.x", "none"}
REASONS = {
    "new",
    "content changed",
    "upload settings changed",
    "unchanged",
    "unchanged, but S3_ONLY_MODIFIED is off",
    "hashed copy exists",
    "headers unknown (uploaded by Flask-S3 0.3.x)",
    "missing in bucket",
    "changed in bucket",
}
ACTIONS = {"upload", "fix headers", "skip"}
DELETE_REASONS = {
    "no longer exists locally",
    "hashed copy older than S3_PRUNE_KEEP deploys",
}


def _typed(value: Any, types: tuple[type, ...]) -> bool:
    # type() and not isinstance(): True must not pass for an int.
    return type(value) in types


def check_plan_json(text: str) -> dict[str, Any]:
    """Parse ``plan --json`` output and check it has exactly the documented
    shape: the README example's keys, each value's type, the value sets."""
    doc: dict[str, Any] = json.loads(text)
    documented = documented_plan_json()
    assert set(doc) == set(documented) == set(TOP_LEVEL_TYPES)
    for name, types in TOP_LEVEL_TYPES.items():
        assert _typed(doc[name], types), (name, doc[name])
    assert doc["format"] == 1
    assert doc["manifest"] in MANIFEST_SOURCES
    assert set(doc["totals"]) == set(documented["totals"]) == ACTIONS
    for total in doc["totals"].values():
        assert set(total) == {"count", "bytes"}
        assert _typed(total["count"], (int,))
        assert _typed(total["bytes"], (int,))
    documented_asset = documented["assets"][0]
    for asset in doc["assets"]:
        assert set(asset) == set(documented_asset) == set(ASSET_TYPES)
        for name, types in ASSET_TYPES.items():
            assert _typed(asset[name], types), (name, asset)
        assert asset["action"] in ACTIONS
        assert asset["reason"] in REASONS
    for action in ACTIONS:
        chosen = [asset for asset in doc["assets"] if asset["action"] == action]
        assert doc["totals"][action] == {
            "count": len(chosen),
            "bytes": sum(asset["size"] for asset in chosen),
        }
    documented_delete = documented["deletes"][0]
    for delete in doc["deletes"]:
        assert set(delete) == set(documented_delete) == {"key", "reason"}
        assert _typed(delete["key"], (str,))
        assert delete["reason"] in DELETE_REASONS
    assert all(_typed(path, (str,)) for path in doc["invalidations"])
    assert all(path.startswith("/") for path in doc["invalidations"])
    assert all(_typed(warning, (str,)) for warning in doc["warnings"])
    return doc


def actions(doc: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {asset["key"]: (asset["action"], asset["reason"]) for asset in doc["assets"]}


def all_new() -> dict[str, tuple[str, str]]:
    return dict.fromkeys(KEYS, ("upload", "new"))


def all_unchanged() -> dict[str, tuple[str, str]]:
    return dict.fromkeys(KEYS, ("skip", "unchanged"))


RETRY_LINE = re.compile(
    r"warning: S3 did not answer \w+ \(.*\); trying again \(attempt \d+\)"
)


def one_error_line(stderr: str) -> str:
    """The documented error output: one line, starting with 'error:', after a
    warning line for each retry of a request S3 did not answer."""
    lines = stderr.splitlines()
    while lines and RETRY_LINE.fullmatch(lines[0]):
        lines.pop(0)
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: "), stderr
    return lines[0]


def failure_report(stderr: str) -> tuple[str, set[str]]:
    """An upload's error line and the keys listed under it; what comes before
    it is what the run logged on its way."""
    lines = stderr.splitlines()
    errors = [n for n, line in enumerate(lines) if line.startswith("error: ")]
    assert len(errors) == 1, stderr
    logged, (first, *rest) = lines[: errors[0]], lines[errors[0] :]
    assert all(line.startswith(("info: ", "warning: ")) for line in logged), stderr
    assert all(line.startswith("  ") for line in rest), stderr
    return first, {line.strip().split(": ", 1)[0] for line in rest}


def bucket_keys(client: S3Client) -> list[str]:
    listed = client.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    return sorted(item["Key"] for item in listed)


def bucket_keys_or_none(client: S3Client) -> list[str] | None:
    if BUCKET not in [bucket["Name"] for bucket in client.list_buckets()["Buckets"]]:
        return None
    return bucket_keys(client)


# In-process runs


@pytest.fixture(autouse=True)
def _cli_isolation(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No variable of the machine reaches a command; the loggers the commands
    reconfigure, and the modules they import, are put back afterwards."""
    for name in ("FLASK_S3_SECRET_ACCESS_KEY", "FLASK_APP", "FLASK_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    for name in (ENDPOINT_VARIABLE, CONFIG_VARIABLE, EXTENSION_VARIABLE):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    # FlaskGroup sets it; set here so that monkeypatch removes it again.
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "false")
    monkeypatch.setattr(sys, "path", list(sys.path))
    loggers = [logging.getLogger(name) for name in ("flask_s3", "werkzeug")]
    saved = [(lg, lg.handlers[:], lg.level, lg.propagate) for lg in loggers]
    for module in (APP_MODULE, "flask_s3_demo_shop"):
        sys.modules.pop(module, None)
    yield
    for module in (APP_MODULE, "flask_s3_demo_shop"):
        sys.modules.pop(module, None)
    for logger, handlers, level, propagate in saved:
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate


def cli_runner() -> CliRunner:
    """stdout and stderr apart, as a shell sees them: click 8.2 does it
    always and took away the switch that click 8.1 needs for it."""
    try:
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg]
    except TypeError:
        return CliRunner()


def invoke(command: Any, *args: str, env: dict[str, str] | None = None) -> Result:
    """Run a command as a shell would; an exception escaping it would have been
    a traceback, so it fails the test with that traceback."""
    # A module imported by an earlier run would be reused with its old folder.
    sys.modules.pop(APP_MODULE, None)
    result = cli_runner().invoke(command, list(args), env=env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        assert result.exc_info is not None
        shown = "".join(traceback.format_exception(*result.exc_info))
        pytest.fail(f"{args} raised instead of exiting:\n{shown}")
    assert "Traceback" not in result.stdout + result.stderr
    return result


def s3_cli(*args: str, env: dict[str, str] | None = None) -> Result:
    """``flask <args>``, e.g. ``--app shop.py s3 plan``."""
    return invoke(flask.cli.cli, *args, env=env)


def test_plan_upload_plan(
    server_s3: S3Client, moto_endpoint: str, shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENDPOINT_VARIABLE, moto_endpoint)
    app = str(shop.app_file)

    checked = invoke(main, "plan", "--app", app, "--check")
    assert checked.exit_code == 1, checked.output
    assert table_rows(checked.stdout) == all_new()
    assert f"bucket: {BUCKET} (default region, endpoint {moto_endpoint})" in (
        checked.stdout
    )
    planned = invoke(main, "plan", "--app", app, "--json")
    assert planned.exit_code == 0, planned.output
    doc = check_plan_json(planned.stdout)
    assert actions(doc) == all_new()
    assert doc["bucket"] == BUCKET
    assert doc["endpoint_url"] == moto_endpoint
    assert doc["offline"] is False
    assert doc["bucket_exists"] is False
    assert doc["manifest"] == "none"
    assert doc["totals"]["upload"] == {"count": len(KEYS), "bytes": TOTAL_BYTES}
    assert bucket_keys_or_none(server_s3) is None  # plan wrote nothing

    uploaded = invoke(main, "upload", "--app", app)
    assert uploaded.exit_code == 0, uploaded.output
    summary = SUMMARY.fullmatch(uploaded.stdout.strip())
    assert summary is not None, uploaded.stdout
    assert summary.groups()[::2] == (str(len(KEYS)), "0")
    assert summary.group(2) == f"{TOTAL_BYTES} B"
    assert "Uploading" not in uploaded.output  # not a terminal: no progress bar
    assert bucket_keys(server_s3) == sorted([*KEYS, MANIFEST])

    again = invoke(main, "plan", "--app", app, "--check")
    assert again.exit_code == 0, again.output
    assert table_rows(again.stdout) == all_unchanged()
    doc = check_plan_json(invoke(main, "plan", "--app", app, "--json").stdout)
    assert actions(doc) == all_unchanged()
    assert doc["bucket_exists"] is True
    assert doc["manifest"] == "flask-s3"
    assert doc["totals"] == {
        "upload": {"count": 0, "bytes": 0},
        "fix headers": {"count": 0, "bytes": 0},
        "skip": {"count": len(KEYS), "bytes": TOTAL_BYTES},
    }

    shop.write("catalog_static/catalog.css", b".product { padding: 2em; }\n")
    changed = invoke(main, "plan", "--app", app, "--check")
    assert changed.exit_code == 1, changed.output
    assert table_rows(changed.stdout) == {
        **all_unchanged(),
        "catalog/assets/catalog.css": ("upload", "content changed"),
    }
    doc = check_plan_json(invoke(main, "plan", "--app", app, "--json").stdout)
    assert [key for key, (action, _) in actions(doc).items() if action == "upload"] == [
        "catalog/assets/catalog.css"
    ]


def test_flask_s3_plan_and_upload(
    server_s3: S3Client, moto_endpoint: str, shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENDPOINT_VARIABLE, moto_endpoint)
    monkeypatch.chdir(shop.folder)
    target = f"{APP_MODULE}:create_app()"

    planned = s3_cli("--app", target, "s3", "plan", "--json")
    assert planned.exit_code == 0, planned.output
    assert actions(check_plan_json(planned.stdout)) == all_new()
    checked = s3_cli("--app", target, "s3", "plan", "--check")
    assert checked.exit_code == 1, checked.output

    uploaded = s3_cli("--app", target, "s3", "upload", "--quiet")
    assert uploaded.exit_code == 0, uploaded.output
    assert uploaded.stdout == ""
    assert bucket_keys(server_s3) == sorted([*KEYS, MANIFEST])

    again = s3_cli("--app", str(shop.app_file), "s3", "plan", "--check")
    assert again.exit_code == 0, again.output
    assert table_rows(again.stdout) == all_unchanged()
    shop.write("static/js/app.js", b"console.log('changed');\n")
    uploaded = s3_cli("--app", str(shop.app_file), "s3", "upload")
    assert uploaded.exit_code == 0, uploaded.output
    summary = SUMMARY.fullmatch(uploaded.stdout.strip())
    assert summary is not None, uploaded.stdout
    assert summary.groups()[::2] == ("1", str(len(KEYS) - 1))


def test_plan_offline_needs_no_credentials(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    unreachable = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setenv(ENDPOINT_VARIABLE, unreachable)

    planned = invoke(main, "plan", "--app", str(shop.app_file), "--offline", "--json")

    assert planned.exit_code == 0, planned.output
    doc = check_plan_json(planned.stdout)
    assert doc["offline"] is True
    assert doc["bucket_exists"] is None
    assert doc["manifest"] == "none"
    assert doc["warnings"] == []
    assert doc["endpoint_url"] == unreachable
    assert actions(doc) == all_new()
    text = invoke(main, "plan", "--app", str(shop.app_file), "--offline")
    assert text.exit_code == 0, text.output
    assert "offline: planned against an empty bucket" in text.stdout
    flask_text = s3_cli("--app", str(shop.app_file), "s3", "plan", "--offline")
    assert flask_text.exit_code == 0, flask_text.output
    assert flask_text.stdout == text.stdout


def test_plan_reads_a_0_3_manifest(
    server_s3: S3Client, moto_endpoint: str, shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENDPOINT_VARIABLE, moto_endpoint)
    server_s3.create_bucket(Bucket=BUCKET)
    hashes = {
        f"/{KEY_OF[local]}": hashlib.sha1(data).hexdigest()
        for local, data in SHOP_FILES.items()
        if local != "static/js/app.js"
    }
    server_s3.put_object(Bucket=BUCKET, Key=".file-hashes", Body=json.dumps(hashes))

    planned = invoke(main, "plan", "--app", str(shop.app_file), "--json")

    assert planned.exit_code == 0, planned.output
    doc = check_plan_json(planned.stdout)
    assert doc["manifest"] == "flask-s3 0.3.x"
    assert doc["bucket_exists"] is True
    unknown = ("fix headers", "headers unknown (uploaded by Flask-S3 0.3.x)")
    assert actions(doc) == {
        **dict.fromkeys(KEYS, unknown),
        "static/js/app.js": ("upload", "new"),
    }


def test_upload_failures_exit_1_and_name_the_keys(
    server_s3: S3Client, moto_endpoint: str, shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENDPOINT_VARIABLE, moto_endpoint)
    failing = {"static/img/logo.svg", "catalog/assets/catalog.css"}
    real_upload = Objects.upload

    def flaky_upload(self: Objects, item: PlannedAsset) -> Stored:
        if item.key in failing:
            raise OSError("simulated network failure")
        return real_upload(self, item)

    with monkeypatch.context() as patched:
        patched.setattr(Objects, "upload", flaky_upload)
        failed = invoke(main, "upload", "--app", str(shop.app_file))

    assert failed.exit_code == 1, failed.output
    first, named = failure_report(failed.stderr)
    assert first.startswith("error: 2 of 4 uploads failed"), failed.stderr
    assert named == failing, failed.stderr
    assert failed.stderr.count("OSError: simulated network failure") == 2
    assert bucket_keys(server_s3) == sorted([*set(KEYS) - failing, MANIFEST])

    # The next run sends exactly what did not arrive.
    planned = invoke(main, "plan", "--app", str(shop.app_file), "--json")
    uploads = {
        key
        for key, (action, _) in actions(check_plan_json(planned.stdout)).items()
        if action == "upload"
    }
    assert uploads == failing
    retried = invoke(main, "upload", "--app", str(shop.app_file))
    assert retried.exit_code == 0, retried.output
    summary = SUMMARY.fullmatch(retried.stdout.strip())
    assert summary is not None, retried.stdout
    assert summary.groups()[::2] == ("2", "2")


def test_flask_s3_upload_failures_exit_1(
    server_s3: S3Client, moto_endpoint: str, shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENDPOINT_VARIABLE, moto_endpoint)

    def broken_upload(self: Objects, item: PlannedAsset) -> Stored:
        raise OSError("simulated network failure")

    monkeypatch.setattr(Objects, "upload", broken_upload)
    failed = s3_cli("--app", str(shop.app_file), "s3", "upload", "--quiet")

    assert failed.exit_code == 1, failed.output
    assert failed.stdout == ""
    first, named = failure_report(failed.stderr)
    assert first.startswith("error: 4 of 4 uploads failed"), failed.stderr
    assert named == set(KEYS)


# Errors: one line on stderr and the documented exit code


@pytest.mark.parametrize(
    ("args", "config", "extension"),
    [
        pytest.param(["--app", "nope.py"], {}, True, id="missing-file"),
        pytest.param(["--app", "missing_module:app"], {}, True, id="missing-module"),
        pytest.param(["--app", "{app}:nothing"], {}, True, id="missing-attribute"),
        pytest.param(
            ["--app", "{app}"],
            {"S3_URL_STYLE": "virtual"},
            False,
            id="invalid-setting",
        ),
        pytest.param(
            ["--app", "{app}"],
            {"S3_BUCKET_NAME": None, "USE_S3": False},
            True,
            id="no-bucket",
        ),
    ],
)
@pytest.mark.parametrize("command", ["plan", "upload"])
def test_usage_errors_exit_2(
    shop: Shop,
    monkeypatch: pytest.MonkeyPatch,
    command: str,
    args: list[str],
    config: dict[str, Any],
    extension: bool,
) -> None:
    monkeypatch.setenv(CONFIG_VARIABLE, json.dumps(config))
    monkeypatch.setenv(EXTENSION_VARIABLE, "1" if extension else "0")
    app = str(shop.app_file)
    args = [arg.replace("{app}", app) for arg in args]

    result = invoke(main, command, *args)

    assert result.exit_code == 2, result.output
    line = one_error_line(result.stderr)
    assert result.stdout == ""
    if "S3_URL_STYLE" in config:
        assert "S3_URL_STYLE" in line
    if "S3_BUCKET_NAME" in config:
        assert "S3_BUCKET_NAME" in line


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["plan", "--filter", "("], id="bad-regex"),
        pytest.param(["upload", "--filter", "("], id="upload-bad-regex"),
        pytest.param(["plan"], id="no-app"),
        pytest.param(["plan", "--no-such-option"], id="unknown-option"),
    ],
)
def test_bad_options_exit_2(shop: Shop, args: list[str]) -> None:
    extra = [] if args == ["plan"] else ["--app", str(shop.app_file)]
    result = invoke(main, *args, *extra)

    assert result.exit_code == 2, result.output
    assert "Usage:" in result.stderr


def test_flask_s3_no_bucket_exits_2(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        CONFIG_VARIABLE, json.dumps({"S3_BUCKET_NAME": None, "USE_S3": False})
    )
    for command in ("plan", "upload"):
        result = s3_cli("--app", str(shop.app_file), "s3", command)
        assert result.exit_code == 2, result.output
        assert "S3_BUCKET_NAME" in one_error_line(result.stderr)
    result = s3_cli("--app", str(shop.app_file), "s3", "plan", "--filter", "(")
    assert result.exit_code == 2, result.output


def test_unreachable_bucket_exits_3(
    server_s3: S3Client, shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENDPOINT_VARIABLE, f"http://127.0.0.1:{closed_port()}")

    planned = invoke(main, "plan", "--app", str(shop.app_file))
    assert planned.exit_code == 3, planned.output
    assert UNREACHABLE_HINT in one_error_line(planned.stderr)
    assert planned.stdout == ""

    # upload has no --offline to suggest.
    uploaded = s3_cli("--app", str(shop.app_file), "s3", "upload")
    assert uploaded.exit_code == 3, uploaded.output
    assert UNREACHABLE_HINT not in one_error_line(uploaded.stderr)
    assert uploaded.stdout == ""


def test_no_credentials_exit_3(
    server_s3: S3Client, moto_endpoint: str, shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv(ENDPOINT_VARIABLE, moto_endpoint)

    planned = s3_cli("--app", str(shop.app_file), "s3", "plan", "--json")
    assert planned.exit_code == 3, planned.output
    line = one_error_line(planned.stderr)
    assert "credentials" in line
    assert UNREACHABLE_HINT in line
    assert planned.stdout == ""

    uploaded = invoke(main, "upload", "--app", str(shop.app_file))
    assert uploaded.exit_code == 3, uploaded.output
    assert "credentials" in one_error_line(uploaded.stderr)
    assert bucket_keys_or_none(server_s3) is None


# The demo


def test_demo(server_s3: S3Client) -> None:
    result = invoke(main, "demo")

    assert result.exit_code == 0, result.output
    port = re.search(r"http://127\.0\.0\.1:(\d+)", result.stdout)
    assert port is not None, result.stdout
    css = f"http://127.0.0.1:{port.group(1)}/flask-s3-demo/static/css/shop.css"
    assert f"       {css}\n" in result.stdout
    assert f"GET {css} -> 200 OK" in result.stdout
    assert "Content-Type: text/css" in result.stdout
