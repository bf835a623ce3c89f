"""What ``plan`` and ``upload`` do once their command line is parsed: call
the deploy service, and turn its errors into one line and an exit code.

Every failure a user can cause or fix ends in one line on stderr and a
documented exit code, never a traceback: a deploy script should be able to tell
a typo in the config from an unreachable bucket. The error tree is mapped to
exit codes here, and only here.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import click
from flask import Flask

from flask_s3.core.conversion import converter
from flask_s3.core.plan_report import human_size, report_json, report_text
from flask_s3.core.upload_result import UploadResult
from flask_s3.deploy import DeployOptions, plan, prepare, publish
from flask_s3.errors import (
    FlaskS3Error,
    ManifestError,
    S3Error,
    UploadFailed,
)
from flask_s3.flask.cli_options import EXIT_FAILED, EXIT_OK, EXIT_S3, EXIT_USAGE
from flask_s3.flask.state import deploy_settings
from flask_s3.flask.static_roots import static_roots


def exit_code(error: FlaskS3Error) -> int:
    if isinstance(error, UploadFailed):
        return EXIT_FAILED
    if isinstance(error, (S3Error, ManifestError)):
        return EXIT_S3
    return EXIT_USAGE


class _EchoHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        level = "warning" if record.levelno >= logging.WARNING else "info"
        click.echo(f"{level}: {record.getMessage()}", err=True)


def _show_logs(*, quiet: bool) -> None:
    """What the service logs (a bucket created, ACLs disabled, public access
    blocked) is part of what a command has to tell, on stderr."""
    logger = logging.getLogger("flask_s3")
    if not any(isinstance(handler, _EchoHandler) for handler in logger.handlers):
        logger.addHandler(_EchoHandler())
    logger.setLevel(logging.WARNING if quiet else logging.INFO)


def fail(code: int, message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def one_line(message: object) -> str:
    return " ".join(str(message).split())


@contextmanager
def _reported(*, offline_hint: bool) -> Iterator[None]:
    hint = " (run with --offline to plan without contacting S3)" if offline_hint else ""
    try:
        yield
    except FlaskS3Error as exc:
        code = exit_code(exc)
        if code == EXIT_FAILED:
            fail(code, str(exc))
        fail(code, one_line(f"{exc}{hint}" if code == EXIT_S3 else exc))


def run_plan(
    app: Flask,
    *,
    offline: bool,
    as_json: bool,
    summary: bool,
    check: bool,
    **options: Any,
) -> None:
    _show_logs(quiet=as_json)
    with _reported(offline_hint=not offline):
        planned = plan(
            static_roots(app),
            deploy_settings(app),
            DeployOptions(**options),
            offline=offline,
        )
        report = planned.report()
    text = report_json(report) if as_json else report_text(report, totals_only=summary)
    click.echo(text)
    sys.exit(EXIT_FAILED if check and report.has_changes else EXIT_OK)


def upload_summary(result: UploadResult, bucket: str) -> str:
    """One line of what an upload did, naming only what happened."""
    parts = [
        f"uploaded {len(result.uploaded)} files ({human_size(result.bytes_uploaded)})"
    ]
    if result.fixed:
        parts.append(f"fixed the headers of {len(result.fixed)}")
    parts.append(f"skipped {len(result.skipped)} unchanged")
    if result.deleted:
        parts.append(f"deleted {len(result.deleted)}")
    line = f"{', '.join(parts)}, in {result.seconds:.1f} s, to bucket {bucket}"
    if result.invalidation_id:
        line += f"; CDN invalidation {result.invalidation_id}"
    return line


def result_json(result: UploadResult, bucket: str) -> str:
    return json.dumps({"bucket": bucket, **converter.unstructure(result)}, indent=2)


def run_upload(app: Flask, *, quiet: bool, as_json: bool, **options: Any) -> None:
    _show_logs(quiet=quiet or as_json)
    started = time.monotonic()
    bucket = options.get("bucket_name") or "?"
    with _reported(offline_hint=False), _json_of_failures(as_json, lambda: bucket):
        prepared = prepare(
            static_roots(app), deploy_settings(app), DeployOptions(**options)
        )
        bucket = prepared.run.bucket
        # Bytes, not files: one big asset must not sit at 0% until done.
        total = sum(item.size for item in prepared.plan.uploads)
        stderr = sys.stderr
        if quiet or as_json or not stderr.isatty() or not total:
            result = publish(prepared, started=started)
        else:
            with click.progressbar(
                length=total, label="Uploading", show_eta=True, file=stderr
            ) as bar:
                result = publish(prepared, started=started, progress=bar.update)
    if as_json:
        click.echo(result_json(result, bucket))
    elif not quiet:
        click.echo(upload_summary(result, bucket))


@contextmanager
def _json_of_failures(as_json: bool, bucket: Callable[[], str]) -> Iterator[None]:
    """With --json, a failed upload still prints what it did, then fails;
    ``bucket`` names the bucket the run resolved, once it has."""
    try:
        yield
    except UploadFailed as exc:
        if as_json:
            click.echo(result_json(exc.result, bucket()))
        raise
