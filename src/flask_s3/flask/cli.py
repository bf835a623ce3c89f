"""``python -m flask_s3 plan|upload`` and ``flask s3 plan|upload``: one
implementation, two ways in.

This module is imported by every app that calls ``FlaskS3(app)``, to add the
``flask s3`` group, so it loads only click and Flask: the deploy stack (and
boto3 with it) is imported when a command runs. The app is loaded here too,
under both ways in, so that a bad setting in ``create_app`` is the same one
line and exit code 2 whichever was used.
"""

from __future__ import annotations

from typing import Any, NoReturn

import click
from flask import Flask
from flask.cli import NoAppException, ScriptInfo, load_dotenv

import flask_s3
from flask_s3.errors import SettingsError
from flask_s3.flask.cli_options import (
    EPILOG,
    EXIT_USAGE,
    plan_options,
    upload_options,
    upload_output_options,
)


def _fail(code: int, message: str) -> NoReturn:
    from flask_s3.flask.cli_runs import fail, one_line

    fail(code, one_line(message))


def _load(info: ScriptInfo, target: str) -> Flask:
    """Load the app as ``flask --app`` does. Whatever goes wrong in the user's
    module or factory (a syntax error, a bad setting) is a usage error."""
    try:
        return info.load_app()
    except SettingsError as exc:
        _fail(EXIT_USAGE, str(exc))
    except NoAppException as exc:
        first = str(exc).strip().splitlines()[0]
        cause = exc.__cause__ or exc.__context__
        why = f" {type(cause).__name__}: {cause}" if cause is not None else ""
        _fail(EXIT_USAGE, f"{first}{why}")
    except Exception as exc:
        _fail(EXIT_USAGE, f"cannot load {target}: {type(exc).__name__}: {exc}")


def _plan(app: Flask, **options: Any) -> None:
    from flask_s3.flask.cli_runs import run_plan

    run_plan(app, **options)


def _upload(app: Flask, **options: Any) -> None:
    from flask_s3.flask.cli_runs import run_upload

    run_upload(app, **options)


def _flask_app() -> Flask:
    """The app of ``flask --app X s3 ...``, loaded by its ScriptInfo."""
    info = click.get_current_context().ensure_object(ScriptInfo)
    return _load(info, info.app_import_path or "the app")


def _target_app(target: str | None) -> Flask:
    if not target:
        raise click.UsageError("no app to publish: pass --app or set FLASK_APP")
    return _load(ScriptInfo(app_import_path=target), target)


_app_option = click.option(
    "--app",
    "target",
    envvar="FLASK_APP",
    metavar="IMPORT",
    help="The app, as for 'flask --app': module:app, 'module:create_app()', "
    "path.py. [env: FLASK_APP, also read from .flaskenv]",
)


@click.group(epilog=EPILOG)
@click.version_option(flask_s3.__version__, prog_name="Flask-S3")
def main() -> None:
    """Publish a Flask app's static assets to S3."""
    load_dotenv()  # .flaskenv and .env, as 'flask' reads them (python-dotenv)


@main.command("plan", epilog=EPILOG)
@_app_option
@plan_options
@upload_options
def plan_command(target: str | None, **options: Any) -> None:
    """Show what an upload would do, writing nothing."""
    _plan(_target_app(target), **options)


@main.command("upload", epilog=EPILOG)
@_app_option
@upload_output_options
@upload_options
def upload_command(target: str | None, **options: Any) -> None:
    """Upload the app's static assets."""
    _upload(_target_app(target), **options)


@main.command("demo")
@click.option("--serve", is_flag=True, help="Keep serving the shop for a browser.")
@click.option("--port", default=5000, show_default=True, help="Port for --serve.")
@click.option(
    "--s3-port",
    type=int,
    metavar="PORT",
    help="Port of the demo's S3 server on 127.0.0.1 (default: a free one).",
)
@click.option(
    "--hashed-copies",
    "--fingerprints",
    "hashed_copies",
    is_flag=True,
    help="Use S3_CACHE_BUSTING='filename': asset names that carry a content hash.",
)
def demo_command(
    serve: bool, port: int, s3_port: int | None, hashed_copies: bool
) -> None:
    """Upload the example shop to an S3 server on 127.0.0.1 and show the result."""
    from flask_s3.flask.demo import run_demo  # moto comes with the 'demo' extra only

    run_demo(serve=serve, port=port, s3_port=s3_port, hashed_copies=hashed_copies)


s3_commands = click.Group(
    "s3", help="Publish this app's static assets to S3.", epilog=EPILOG
)


@s3_commands.command("plan", epilog=EPILOG)
@plan_options
@upload_options
def flask_plan_command(**options: Any) -> None:
    """Show what an upload would do, writing nothing."""
    _plan(_flask_app(), **options)


@s3_commands.command("upload", epilog=EPILOG)
@upload_output_options
@upload_options
def flask_upload_command(**options: Any) -> None:
    """Upload this app's static assets."""
    _upload(_flask_app(), **options)
