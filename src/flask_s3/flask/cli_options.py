"""The command line's flags and exit codes, shared by ``python -m flask_s3``
and ``flask s3``. Importing this loads click only: no upload stack."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import click

EXIT_OK = 0
EXIT_FAILED = 1
"""upload: some files did not arrive. plan --check: something would be uploaded."""
EXIT_USAGE = 2
"""A bad command line, app target, setting or static file."""
EXIT_S3 = 3
"""S3 could not be used: credentials, network, permissions, bucket state."""

EPILOG = (
    "Exit codes: 0 success; 1 some files did not arrive (upload), or something "
    "would change (plan --check); 2 a bad option, app or setting; 3 S3 could "
    "not be used (credentials, network, permissions, bucket, manifest)."
)


def _check_regex(
    _: click.Context, __: click.Parameter, value: str | None
) -> str | None:
    if value is not None:
        try:
            re.compile(value)
        except re.error as exc:
            raise click.BadParameter(f"not a regular expression: {exc}") from None
    return value


def upload_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options of ``create_all``, as flags."""
    options = [
        click.option(
            "--bucket",
            "bucket_name",
            metavar="NAME",
            help="Bucket name; overrides S3_BUCKET_NAME.",
        ),
        click.option(
            "--region",
            "location",
            metavar="REGION",
            help="Bucket region; overrides S3_REGION.",
        ),
        click.option(
            "--endpoint-url",
            metavar="URL",
            help="An S3-compatible store's API; overrides S3_ENDPOINT_URL.",
        ),
        click.option(
            "--user",
            metavar="KEY_ID",
            help="AWS access key id; default: AWS_ACCESS_KEY_ID in the config, "
            "then boto3's chain (environment, profile, instance role).",
        ),
        click.option(
            "--password",
            envvar="FLASK_S3_SECRET_ACCESS_KEY",
            metavar="SECRET",
            help="AWS secret key. [env: FLASK_S3_SECRET_ACCESS_KEY, preferred]",
        ),
        click.option("--include-hidden", is_flag=True, help="Also upload dot-files."),
        click.option(
            "--filter",
            "filepath_filter_regex",
            metavar="REGEX",
            callback=_check_regex,
            help="Only files whose path in the static folder matches this regex.",
        ),
        click.option(
            "--prune",
            is_flag=True,
            help="Delete objects this tool uploaded whose files are gone (S3_PRUNE).",
        ),
        click.option(
            "--verify",
            is_flag=True,
            help="List the bucket and re-send what is missing or changed there.",
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


def plan_options(command: Callable[..., Any]) -> Callable[..., Any]:
    command = click.option(
        "--check",
        is_flag=True,
        help=f"Exit with {EXIT_FAILED} when anything would be uploaded (for CI gates).",
    )(command)
    command = click.option(
        "--json", "as_json", is_flag=True, help="Print the plan as JSON."
    )(command)
    command = click.option(
        "--summary",
        is_flag=True,
        help="Print the totals only, not a line per file.",
    )(command)
    return click.option(
        "--offline",
        is_flag=True,
        help="Plan against an empty bucket, without credentials or network.",
    )(command)


def upload_output_options(command: Callable[..., Any]) -> Callable[..., Any]:
    command = click.option(
        "--json",
        "as_json",
        is_flag=True,
        help="Print what the upload did as one JSON object.",
    )(command)
    return click.option(
        "--quiet", is_flag=True, help="No progress bar and no summary."
    )(command)
