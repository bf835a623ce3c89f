"""``python -m flask_s3 plan|upload`` and ``flask s3 plan|upload``: one
implementation, two ways in.

Every failure a user can cause or fix ends in one line on stderr and a
documented exit code, never a traceback: a deploy script should be able to tell
a typo in the config from an unreachable bucket.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import click
from botocore.exceptions import BotoCoreError, ClientError
from flask import Flask, current_app
from flask.cli import AppGroup, NoAppException, ScriptInfo

from flask_s3.adapters.s3_bucket import BucketError, describe_error
from flask_s3.adapters.static_files import UnreadableFile
from flask_s3.core.bucket_state import missing_bucket
from flask_s3.core.manifest import ManifestError
from flask_s3.core.plan_report import human_size, plan_report, report_json, report_text
from flask_s3.core.settings_resolution import SettingsError
from flask_s3.core.static_assets import DuplicateKey
from flask_s3.core.upload_result import UploadFailed
from flask_s3.core.urls import UnsafeFilename
from flask_s3.flask.create_all import (
    UploadOptions,
    local_state,
    open_bucket,
    plan_against,
    prepare,
    run_settings,
    survey,
    upload,
)

EXIT_OK = 0
EXIT_FAILED = 1
"""upload: some files did not arrive. plan --check: something would be uploaded."""
EXIT_USAGE = 2
"""A bad command line, app target, setting or static file."""
EXIT_S3 = 3
"""S3 could not be used: credentials, network, permissions, bucket state."""


class _EchoHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        level = "warning" if record.levelno >= logging.WARNING else "info"
        click.echo(f"{level}: {record.getMessage()}", err=True)


def _show_logs(*, quiet: bool) -> None:
    """What create_all logs (a bucket created, ACLs disabled, public access
    blocked) is part of what a command has to tell, on stderr."""
    logger = logging.getLogger("flask_s3")
    if not any(isinstance(handler, _EchoHandler) for handler in logger.handlers):
        logger.addHandler(_EchoHandler())
    logger.setLevel(logging.WARNING if quiet else logging.INFO)


def _fail(code: int, message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def _one_line(message: object) -> str:
    return " ".join(str(message).split())


@contextmanager
def _reported(*, offline_hint: bool) -> Iterator[None]:
    """Turn the errors users can fix into one line and an exit code."""
    hint = " (run with --offline to plan without contacting S3)" if offline_hint else ""
    try:
        yield
    except UploadFailed as exc:
        _fail(EXIT_FAILED, str(exc))
    except (ManifestError, BucketError) as exc:
        _fail(EXIT_S3, _one_line(f"{exc}{hint}"))
    except ClientError as exc:
        reason = describe_error(exc)
        _fail(EXIT_S3, _one_line(f"S3 refused a request: {reason}{hint}"))
    except BotoCoreError as exc:
        reason = describe_error(exc)
        _fail(EXIT_S3, _one_line(f"S3 is not reachable as configured: {reason}{hint}"))
    except (SettingsError, DuplicateKey, UnsafeFilename, UnreadableFile) as exc:
        _fail(EXIT_USAGE, _one_line(exc))


def _check_regex(
    _: click.Context, __: click.Parameter, value: str | None
) -> str | None:
    if value is not None:
        try:
            re.compile(value)
        except re.error as exc:
            raise click.BadParameter(f"not a regular expression: {exc}") from None
    return value


def _upload_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options of ``create_all``, as flags."""
    options = [
        click.option(
            "--bucket", "bucket_name", help="Bucket name; overrides S3_BUCKET_NAME."
        ),
        click.option(
            "--region", "location", help="Bucket region; overrides S3_REGION."
        ),
        click.option(
            "--user", help="AWS access key id; default: config, then boto3's chain."
        ),
        click.option(
            "--password",
            envvar="FLASK_S3_SECRET_ACCESS_KEY",
            help="AWS secret key; prefer the FLASK_S3_SECRET_ACCESS_KEY variable.",
        ),
        click.option("--include-hidden", is_flag=True, help="Also upload dot-files."),
        click.option(
            "--filter",
            "filepath_filter_regex",
            callback=_check_regex,
            help="Only files whose path in the static folder matches this regex.",
        ),
        click.option(
            "--prune",
            is_flag=True,
            help="Delete objects this tool uploaded whose files are gone (S3_PRUNE).",
        ),
        click.option(
            "--no-bucket-acl",
            "put_bucket_acl",
            flag_value=False,
            default=True,
            help="Leave the bucket's ACL alone.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _plan_options(command: Callable[..., Any]) -> Callable[..., Any]:
    command = click.option(
        "--check",
        is_flag=True,
        help=f"Exit with {EXIT_FAILED} when anything would be uploaded (for CI gates).",
    )(command)
    command = click.option(
        "--json", "as_json", is_flag=True, help="Print the plan as JSON."
    )(command)
    return click.option(
        "--offline",
        is_flag=True,
        help="Plan against an empty bucket, without credentials or network.",
    )(command)


def run_plan(
    app: Flask, *, offline: bool, as_json: bool, check: bool, **options: Any
) -> None:
    _show_logs(quiet=as_json)
    upload_options = UploadOptions(**options)
    with _reported(offline_hint=not offline):
        settings = run_settings(app, upload_options)
        if offline:
            local = local_state(app, settings, upload_options)
            state = missing_bucket()
        else:
            bucket = open_bucket(settings, upload_options)
            local, state = survey(app, settings, upload_options, bucket)
        plan = plan_against(settings, local, state)
        report = plan_report(plan, settings, state, offline=offline)
    click.echo(report_json(report) if as_json else report_text(report))
    sys.exit(EXIT_FAILED if check and report.has_changes else EXIT_OK)


def run_upload(app: Flask, *, quiet: bool, **options: Any) -> None:
    _show_logs(quiet=quiet)
    started = time.monotonic()
    with _reported(offline_hint=False):
        prepared = prepare(app, UploadOptions(**options))
        uploads = prepared.plan.uploads
        if quiet or not sys.stdout.isatty() or not uploads:
            result = upload(prepared, started=started)
        else:
            with click.progressbar(length=len(uploads), label="Uploading") as bar:
                result = upload(
                    prepared, started=started, on_done=lambda *_: bar.update(1)
                )
    if not quiet:
        sent = human_size(result.bytes_uploaded)
        click.echo(
            f"uploaded {len(result.uploaded)} files ({sent}), skipped "
            f"{len(result.skipped)} unchanged, in {result.seconds:.1f} s, "
            f"to bucket {prepared.settings.bucket_name}"
        )


def _load(target: str) -> Flask:
    """Load the app as ``flask --app`` does. Whatever goes wrong in the user's
    module or factory (a syntax error, a bad setting) is a usage error."""
    try:
        return ScriptInfo(app_import_path=target).load_app()
    except SettingsError as exc:
        _fail(EXIT_USAGE, _one_line(exc))
    except NoAppException as exc:
        first = str(exc).strip().splitlines()[0]
        cause = exc.__cause__ or exc.__context__
        why = f" {type(cause).__name__}: {cause}" if cause is not None else ""
        _fail(EXIT_USAGE, _one_line(f"{first}{why}"))
    except Exception as exc:
        _fail(
            EXIT_USAGE, _one_line(f"cannot load {target}: {type(exc).__name__}: {exc}")
        )


_app_option = click.option(
    "--app",
    "target",
    required=True,
    metavar="TARGET",
    help="The app, as for 'flask --app': module:app, module:create_app(), path.py.",
)


@click.group()
def main() -> None:
    """Publish a Flask app's static assets to S3."""


@main.command("plan")
@_app_option
@_plan_options
@_upload_options
def plan_command(target: str, **options: Any) -> None:
    """Show what an upload would do, writing nothing."""
    run_plan(_load(target), **options)


@main.command("upload")
@_app_option
@click.option("--quiet", is_flag=True, help="No progress bar and no summary.")
@_upload_options
def upload_command(target: str, **options: Any) -> None:
    """Upload the app's static assets."""
    run_upload(_load(target), **options)


@main.command("demo")
@click.option("--serve", is_flag=True, help="Keep serving the shop for a browser.")
@click.option("--port", default=5000, show_default=True, help="Port for --serve.")
@click.option(
    "--fingerprints",
    is_flag=True,
    help="Use S3_CACHE_BUSTING='filename': content-fingerprinted asset names.",
)
def demo_command(serve: bool, port: int, fingerprints: bool) -> None:
    """Upload the example shop to an S3 server on 127.0.0.1 and show the result."""
    from flask_s3.flask.demo import run_demo  # moto comes with the 'demo' extra only

    run_demo(serve=serve, port=port, fingerprints=fingerprints)


s3_commands = AppGroup("s3", help="Publish this app's static assets to S3.")


@s3_commands.command("plan")
@_plan_options
@_upload_options
def flask_plan_command(**options: Any) -> None:
    """Show what an upload would do, writing nothing."""
    run_plan(current_app._get_current_object(), **options)  # type: ignore[attr-defined]


@s3_commands.command("upload")
@click.option("--quiet", is_flag=True, help="No progress bar and no summary.")
@_upload_options
def flask_upload_command(**options: Any) -> None:
    """Upload this app's static assets."""
    run_upload(current_app._get_current_object(), **options)  # type: ignore[attr-defined]
