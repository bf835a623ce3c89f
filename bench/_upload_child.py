"""The contenders of bench/upload.py, each run as a process of its own.

A deploy step starts a fresh interpreter, so its start-up and imports are part
of what it costs; and our package and Flask-S3 0.3.3 both import as
``flask_s3``, so they can never share a process. This file therefore imports
nothing but the standard library at the top: the interpreter that runs it (the
repo's, or 0.3.3's venv) decides which ``flask_s3`` a contender gets. Each
contender prints one JSON line on stdout for the parent.

Usage: ``python _upload_child.py NAME STATIC_DIR BUCKET ENDPOINT``, NAME one of
``ours``, ``0.3.3``, ``plain-16`` and ``plain-32``.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from functools import partial
from pathlib import Path
from typing import Any

STARTED = time.perf_counter()


def _app(static: Path) -> Any:
    from flask import Flask

    return Flask("bench", static_folder=str(static), root_path=str(static.parent))


def _peak_rss_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def ours(static: Path, bucket: str, endpoint: str) -> dict[str, Any]:
    """This checkout's ``create_all``, as a deploy script would call it."""
    import flask_s3

    app = _app(static)
    app.config.update(
        S3_BUCKET_NAME=bucket, S3_ENDPOINT_URL=endpoint, S3_ONLY_MODIFIED=True
    )
    imported = time.perf_counter()
    rss_before = _peak_rss_kib()
    if os.environ.get("BENCH_PROFILE"):
        import cProfile

        profiler = cProfile.Profile(time.thread_time)
        result = profiler.runcall(flask_s3.create_all, app)
        profiler.dump_stats(os.environ["BENCH_PROFILE"])
    else:
        result = flask_s3.create_all(app)
    done = time.perf_counter()
    return {
        "module": flask_s3.__file__,
        "startup_seconds": imported - STARTED,
        "create_all_seconds": done - imported,
        "uploaded": len(result.uploaded),
        "skipped": len(result.skipped),
        "bytes_uploaded": result.bytes_uploaded,
        "peak_rss_before_kib": rss_before,
        "peak_rss_kib": _peak_rss_kib(),
    }


def flask_s3_033(static: Path, bucket: str, endpoint: str) -> dict[str, Any]:
    """Flask-S3 0.3.3's ``create_all``; it has no endpoint setting, so boto3
    finds the endpoint in ``AWS_ENDPOINT_URL_S3``, set by the parent."""
    from importlib.metadata import version

    import flask_s3

    app = _app(static)
    app.config.update(FLASKS3_BUCKET_NAME=bucket, FLASKS3_ONLY_MODIFIED=True)
    imported = time.perf_counter()
    flask_s3.create_all(app)
    done = time.perf_counter()
    return {
        "module": flask_s3.__file__,
        "versions": {name: version(name) for name in ("flask-s3", "boto3", "botocore")},
        "startup_seconds": imported - STARTED,
        "create_all_seconds": done - imported,
    }


def plain(static: Path, bucket: str, endpoint: str, threads: int) -> dict[str, Any]:
    """The least a hand-written uploader does: one client, ``threads``
    threads, one ``put_object`` per file with its bytes and a guessed
    Content-Type."""
    import mimetypes
    from concurrent.futures import ThreadPoolExecutor

    import boto3
    from botocore.config import Config

    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        config=Config(max_pool_connections=threads),
    )
    imported = time.perf_counter()
    root = static.parent

    def put(path: Path) -> None:
        client.put_object(
            Bucket=bucket,
            Key=path.relative_to(root).as_posix(),
            Body=path.read_bytes(),
            ContentType=mimetypes.guess_type(path.name)[0] or "binary/octet-stream",
        )

    files = [path for path in static.rglob("*") if path.is_file()]
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(put, files))
    done = time.perf_counter()
    return {
        "startup_seconds": imported - STARTED,
        "create_all_seconds": done - imported,
        "uploaded": len(files),
    }


CONTENDERS = {
    "ours": ours,
    "0.3.3": flask_s3_033,
    "plain-16": partial(plain, threads=16),
    "plain-32": partial(plain, threads=32),
}


def main(argv: list[str]) -> None:
    name, static, bucket, endpoint = argv
    report = CONTENDERS[name](Path(static), bucket, endpoint)
    print(json.dumps(report))


if __name__ == "__main__":
    main(sys.argv[1:])
