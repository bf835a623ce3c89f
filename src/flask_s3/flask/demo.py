"""``python -m flask_s3 demo``: the whole round trip on a laptop, no AWS account.

An S3 server (moto) runs on 127.0.0.1, the example shop's assets are uploaded
to it, its pages are rendered with their rewritten URLs, and one asset is
fetched back over HTTP, so a newcomer sees every step Flask-S3 takes.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import re
import socket
import sys
import time
import urllib.request
from pathlib import Path
from types import ModuleType
from typing import Any

import click
from flask import Flask

from flask_s3.flask.create_all import create_all

DEMO_BUCKET = "flask-s3-demo"
_ASSET_URL = re.compile(r'(?:href|src)="(http[^"]+)"')
_SHOWN_HEADERS = (
    "Content-Type",
    "Content-Length",
    "Cache-Control",
    "ETag",
    "Access-Control-Allow-Origin",
)


def shop_folder() -> Path:
    """The example shop: packaged into the wheel, or in the source checkout."""
    here = Path(__file__).resolve()
    for candidate in (
        here.parent.parent / "demo_shop",
        here.parents[3] / "examples" / "shop",
    ):
        if (candidate / "app.py").is_file():
            return candidate
    raise click.ClickException("the example shop is missing from this installation")


def _load_shop(folder: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "flask_s3_demo_shop", folder / "app.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _start_s3(port: int | None) -> tuple[Any, str]:
    """moto on 127.0.0.1, answering CORS from the bucket's rules only, as S3
    does (it adds ``Access-Control-Allow-Origin: *`` to everything unless told
    otherwise before it is imported), so that the browser shows what
    S3_CORS_ORIGINS does."""
    os.environ.setdefault("MOTO_DISABLE_GLOBAL_CORS", "true")
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:
        raise click.ClickException(
            "the demo needs the 'demo' extra: pip install 'Flask-S3[demo]'"
        ) from None
    port = port or _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    return server, f"127.0.0.1:{port}"


def demo_app(
    s3_address: str, *, page_origin: str, hashed_copies: bool = False
) -> Flask:
    """The shop, pointed at the local S3 server in path style over http, with
    its pages' origin allowed to read the assets across origins."""
    os.environ.pop("AWS_PROFILE", None)  # a missing profile would stop boto3
    app: Flask = _load_shop(shop_folder()).create_app(
        {
            "AWS_ACCESS_KEY_ID": "demo",
            "AWS_SECRET_ACCESS_KEY": "demo",
            "S3_BUCKET_NAME": DEMO_BUCKET,
            "S3_CDN_DOMAIN": "",
            "S3_ENDPOINT_URL": f"http://{s3_address}",
            "S3_BUCKET_DOMAIN": s3_address,
            "S3_URL_STYLE": "path",
            "S3_USE_HTTPS": False,
            "S3_REGION": "us-east-1",
            "S3_CORS_ORIGINS": [page_origin],
            **(
                {"S3_CACHE_BUSTING": "filename", "S3_FILEPATH_HEADERS": {}}
                if hashed_copies
                else {}
            ),
        }
    )
    return app


def run_demo(
    *, serve: bool, port: int, s3_port: int | None, hashed_copies: bool
) -> None:
    # Request logs of both local servers would bury the walk-through, and the
    # real-S3 advice about public access does not apply to the local server.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    logging.getLogger("flask_s3").setLevel(logging.ERROR)
    server, address = _start_s3(s3_port)
    try:
        click.echo(f"1. An S3 server is running at http://{address} (moto, in memory).")
        page_origin = f"http://127.0.0.1:{port}"
        app = demo_app(address, page_origin=page_origin, hashed_copies=hashed_copies)
        started = time.monotonic()
        result = create_all(app)
        click.echo(
            f"2. create_all(app) uploaded {len(result.uploaded)} assets to bucket "
            f"{DEMO_BUCKET!r} in {time.monotonic() - started:.2f} s:"
        )
        for key in result.uploaded:
            click.echo(f"     {key}")
        click.echo("3. The pages render with their asset URLs rewritten:")
        client = app.test_client()
        urls: list[str] = []
        for page in ("/", "/catalog/"):
            click.echo(f"     {page}")
            for url in _ASSET_URL.findall(client.get(page).get_data(as_text=True)):
                click.echo(f"       {url}")
                urls.append(url)
        # As a browser asks for a font: from the page's origin.
        request = urllib.request.Request(urls[0], headers={"Origin": page_origin})
        with urllib.request.urlopen(request, timeout=10) as response:
            click.echo(f"4. GET {urls[0]} -> {response.status} {response.reason}")
            for name in _SHOWN_HEADERS:
                click.echo(f"     {name}: {response.headers.get(name)}")
        if serve:
            click.echo(f"5. Open http://127.0.0.1:{port}/ (Ctrl-C stops the demo).")
            app.run(host="127.0.0.1", port=port)
    finally:
        server.stop()
