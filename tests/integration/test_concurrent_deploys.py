"""Two versions of one app deployed at once by two real processes (the two
CI pipelines of the issue): both planned against the same published version,
their reads of the manifest lined up by the proxy, which holds the first GET
of the manifest until the other process has asked too.

A second hold lines up the writes: the pending write that comes second is
held until the other run's settled write landed, so it is replayed onto a
record that already holds the other's claims.

Version A changed one file, version B another (and, in the pruning variant,
deleted a third that A still has). Whatever order the rest takes, each
process exits 0 or 1 without a traceback, the manifest never lists a key
whose object holds other bytes (checked against moto after every request
that changes the bucket, and at the end), and one more run of A converges.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.integration.fault_proxy import (
    FaultProxy,
    auditing_proxy,
    is_object_get,
    is_object_put,
)
from tests.integration.test_cli import (
    APP_MODULE,
    BUCKET,
    CONFIG_VARIABLE,
    ENDPOINT_VARIABLE,
    MANIFEST,
    Shop,
    write_shop,
)
from tests.integration.test_cli_subprocess import TIMEOUT, flask_s3_cli
from tests.support.http_messages import Request
from tests.support.proxy_actions import Hold

if TYPE_CHECKING:
    from types_boto3_s3.client import S3Client

APP = f"{APP_MODULE}:create_app()"
K1 = "static/css/site.css"
K2 = "static/js/app.js"
GONE = "static/img/logo.svg"
UPLOADED_ONE = re.compile(r"uploaded 1 files \(")
HOLD = 30.0
"""At most this long a first read waits for the other process's."""


def assert_honest(client: S3Client) -> None:
    """Every key the manifest lists holds the bytes of the recorded SHA-1."""
    body = client.get_object(Bucket=BUCKET, Key=MANIFEST)["Body"].read()
    for key, entry in sorted(json.loads(body)["entries"].items()):
        try:
            data = client.get_object(Bucket=BUCKET, Key=key)["Body"].read()
        except client.exceptions.NoSuchKey:
            raise AssertionError(
                f"the manifest lists {key}, not in the bucket"
            ) from None
        held = hashlib.sha1(data).hexdigest()
        assert held == entry["sha1"], (
            f"the manifest lists {key} as {entry['sha1']}, the object is {held}"
        )


def audit(client: S3Client, request: Request) -> None:
    if request.key is not None:
        assert_honest(client)


def forwarded_puts(proxy: FaultProxy, path: str) -> list[str]:
    return [seen.outcome for seen in proxy.requests("PUT") if seen.path == path]


@pytest.fixture
def proxy(moto_endpoint: str, server_s3: S3Client) -> Iterator[FaultProxy]:
    with auditing_proxy(moto_endpoint, functools.partial(audit, server_s3)) as faults:
        yield faults


def env_for(clean_env: dict[str, str], endpoint: str, prune: bool) -> dict[str, str]:
    config = {"S3_PRUNE": prune, "S3_READ_TIMEOUT": HOLD + 10}
    return {
        **clean_env,
        ENDPOINT_VARIABLE: endpoint,
        CONFIG_VARIABLE: json.dumps(config),
    }


def upload_at_once(
    shops: list[Shop], env: dict[str, str]
) -> list[subprocess.CompletedProcess[str]]:
    processes: list[subprocess.Popen[str]] = []
    try:
        for shop in shops:
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "flask_s3", "upload", "--app", APP],
                    env=env,
                    cwd=shop.folder,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            )
        done = []
        for process in processes:
            out, err = process.communicate(timeout=TIMEOUT)
            done.append(
                subprocess.CompletedProcess(process.args, process.returncode, out, err)
            )
        return done
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)


@pytest.mark.parametrize("prune", [False, True], ids=["changes", "pruning"])
def test_two_versions_deployed_at_once_keep_the_manifest_honest(
    server_s3: S3Client,
    moto_endpoint: str,
    proxy: FaultProxy,
    clean_env: dict[str, str],
    tmp_path: Path,
    prune: bool,
) -> None:
    direct = env_for(clean_env, moto_endpoint, prune)
    published = flask_s3_cli(
        "upload", "--app", APP, env=direct, cwd=write_shop(tmp_path / "v0").folder
    )
    assert published.returncode == 0, published.stderr
    one = write_shop(tmp_path / "a")
    one.write(K1, b"body { margin: 1px; }\n")
    two = write_shop(tmp_path / "b")
    two.write(K2, b"console.log('shop, version B');\n")
    if prune:
        (two.folder / GONE).unlink()
    manifest_path = f"/{BUCKET}/{MANIFEST}"
    proxy.add(
        is_object_get(MANIFEST),
        Hold(lambda: proxy.count("GET", manifest_path) >= 2, timeout=HOLD),
        times=2,
    )
    # The later pending write waits for the other run's settled one: it then
    # meets 412 and is replayed onto a record that holds the other's claims,
    # the order in which a skipped key used to be re-stamped over them.
    proxy.add(
        is_object_put(MANIFEST),
        Hold(lambda: len(forwarded_puts(proxy, manifest_path)) >= 2, timeout=HOLD),
        skip=1,
        times=1,
    )

    results = upload_at_once([one, two], env_for(clean_env, proxy.url, prune))

    for result in results:
        output = result.stdout + result.stderr
        assert "Traceback" not in output, output
        assert result.returncode in (0, 1), output
        if result.returncode == 1:
            assert "error: " in result.stderr, output
        else:
            # Each planned against v0: one changed file each, no more.
            assert UPLOADED_ONE.match(result.stdout), output
    assert proxy.audit_failures == []
    assert_honest(server_s3)
    assert "forwarded (412)" in forwarded_puts(proxy, manifest_path)

    again = flask_s3_cli("upload", "--app", APP, env=direct, cwd=one.folder)
    assert again.returncode == 0, again.stderr
    checked = flask_s3_cli("plan", "--app", APP, "--check", env=direct, cwd=one.folder)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert_honest(server_s3)
