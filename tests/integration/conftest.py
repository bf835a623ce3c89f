"""Fixtures for publishing real apps to moto: in-process and over real HTTP.

Nothing here talks to AWS: the in-process fixture runs under ``mock_aws`` and the
server fixture binds moto to 127.0.0.1 on a free port. The top-level conftest has
already replaced the machine's AWS setup with fake credentials.
"""

from __future__ import annotations

import functools
import math
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import botocore.loaders
import botocore.session
import pytest
import requests
from moto import mock_aws
from moto.server import ThreadedMotoServer

import flask_s3
import flask_s3.adapters.manifest_store as manifest_store
import flask_s3.deploy.preparation as preparation
from tests.conftest import FAKE_ACCESS_KEY, FAKE_SECRET_KEY
from tests.integration.moto_site import SentRequest, Site, Store, Wire, build_site
from tests.integration.test_cli import Shop, write_shop
from tests.support.aws_env import offline_aws_env
from tests.support.ports import free_port

if TYPE_CHECKING:
    from types_boto3_s3.client import S3Client


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return build_site(tmp_path / "site")


@pytest.fixture
def shop(tmp_path: Path) -> Shop:
    """The command-line tests' shop (see test_cli.py), written into tmp_path."""
    return write_shop(tmp_path / "shop")


@pytest.fixture
def s3() -> Iterator[S3Client]:
    """moto in-process: every boto3 client made inside the test is mocked."""
    with mock_aws():
        yield boto3.client("s3", region_name="us-east-1")


_shared_loader = functools.lru_cache(maxsize=None)(botocore.loaders.create_loader)


@pytest.fixture(autouse=True)
def shared_botocore_models(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every boto3 session made in an integration test reads the service
    models through one botocore data loader, shared by all of them.
    create_all makes a session per run, and parsing the models' JSON for its
    client is most of a run's time against moto; the models are only read, so
    sharing them changes nothing but the speed."""
    monkeypatch.setattr(botocore.session, "create_loader", _shared_loader)


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """One moto server over real HTTP on 127.0.0.1 for the whole session."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    # The server builds its S3 backend at the first S3 request, which can take
    # longer than the fault tests' read timeout of 0.5 s: build it now.
    boto3.client(
        "s3",
        region_name="us-east-1",
        endpoint_url=url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ).list_buckets()
    try:
        yield url
    finally:
        server.stop()


@pytest.fixture
def server_s3(moto_endpoint: str) -> S3Client:
    """A client of the moto server, with the server's state reset for this test."""
    requests.post(f"{moto_endpoint}/moto-api/reset", timeout=10).raise_for_status()
    return boto3.client("s3", region_name="us-east-1", endpoint_url=moto_endpoint)


@pytest.fixture(params=["in-process", "http"])
def store(request: pytest.FixtureRequest) -> Store:
    """The test's bucket in both places, one run each: moto in-process, and the
    moto server over real HTTP, where every request is serialised."""
    if request.param == "http":
        client = request.getfixturevalue("server_s3")
        return Store(client, request.getfixturevalue("moto_endpoint"))
    return Store(request.getfixturevalue("s3"))


def _size_of(request: Any) -> int | None:
    """How many bytes of content a request sends, found without reading it;
    over https botocore sends it aws-chunked, and says how much it holds."""
    decoded = request.headers.get("X-Amz-Decoded-Content-Length")
    if decoded is not None:
        return int(decoded)
    body = request.body
    if body is None:
        return 0
    if isinstance(body, (bytes, bytearray, str)):
        return len(body)
    try:
        start: int = body.tell()
        end: int = body.seek(0, 2)
        body.seek(start)
    except (AttributeError, OSError):
        return None
    return end - start


@pytest.fixture
def wire(monkeypatch: pytest.MonkeyPatch) -> Wire:
    recorded = Wire()
    original: Callable[..., Any] = preparation.make_s3_client

    def recording_client(*args: Any, **kwargs: Any) -> Any:
        client = original(*args, **kwargs)

        def record(request: Any, **_: Any) -> None:
            recorded.requests.append(
                SentRequest(
                    request.method,
                    request.url,
                    {
                        name: value.decode() if isinstance(value, bytes) else value
                        for name, value in request.headers.items()
                    },
                    _size_of(request),
                )
            )

        client.meta.events.register("before-send.s3", record)
        recorded.clients.append(client)
        return client

    monkeypatch.setattr(preparation, "make_s3_client", recording_client)
    return recorded


PACKAGE_ROOT = Path(flask_s3.__file__).resolve().parents[1]
"""Where the package this session imports lives, for subprocesses' PYTHONPATH."""


@pytest.fixture
def clean_env(tmp_path: Path) -> dict[str, str]:
    """The environment of every subprocess: none of the machine's AWS or Flask
    variables, fake keys, AWS config files that are empty, and this session's
    flask_s3 first on the path."""
    env = offline_aws_env(
        tmp_path / "empty-aws-config",
        FAKE_ACCESS_KEY,
        FAKE_SECRET_KEY,
        drop=("FLASK_", "CLI_SHOP_"),
    )
    env.update(PYTHONPATH=str(PACKAGE_ROOT), PYTHONUNBUFFERED="1")
    return env


@pytest.fixture
def serving_demo(
    clean_env: dict[str, str], tmp_path: Path
) -> Iterator[tuple[int, Path]]:
    """``demo --serve`` running, and its output; it is always stopped, and
    must stop."""
    port = free_port()
    output = tmp_path / "demo.out"
    with output.open("w") as stream:
        process = subprocess.Popen(
            [sys.executable, "-m", "flask_s3", "demo", "--serve", "--port", str(port)],
            env=clean_env,
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            stdout=stream,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 20
            while True:
                assert process.poll() is None, output.read_text()
                try:
                    urllib.request.urlopen(
                        f"http://127.0.0.1:{port}/", timeout=5
                    ).close()
                    break
                except (urllib.error.URLError, ConnectionError, TimeoutError):
                    if time.monotonic() > deadline:
                        pytest.fail(
                            f"the demo did not serve in 20 s:\n{output.read_text()}"
                        )
                    time.sleep(0.1)
            yield port, output
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
                pytest.fail("demo --serve did not stop when terminated")
    assert "Traceback" not in output.read_text()


@pytest.fixture
def reads_go_stale(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each manifest write reads the record itself, as where the run's
    earlier read is more than a round trip old by then. Whether it is
    depends on the machine's load: a test that counts or holds the reads
    says which case it sees."""
    monkeypatch.setattr(manifest_store, "fresh_until", lambda *_: -math.inf)


@pytest.fixture
def reads_stay_fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each manifest write swaps on the run's last read of the record: the
    survey's, then the one sent as the last uploads go out."""
    monkeypatch.setattr(manifest_store, "fresh_until", lambda *_: math.inf)
