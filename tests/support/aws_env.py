"""The environment of a subprocess that must only ever reach a loopback S3.

A test or a benchmark that picked up the machine's AWS setup (a profile, an
endpoint, an HTTP proxy, real keys) could upload to a real bucket, or time a
real endpoint; and a stray PYTHONPATH could import another ``flask_s3``.
"""

from __future__ import annotations

import os
from pathlib import Path


def offline_aws_env(
    empty_config: Path,
    access_key: str,
    secret_key: str,
    *,
    drop: tuple[str, ...] = (),
) -> dict[str, str]:
    """``os.environ`` without its AWS_*, PYTHON* and ``drop`` variables or an
    HTTP proxy, with these fake keys, AWS config files that are empty (so
    ~/.aws is never read), and no instance metadata."""
    empty_config.write_text("")
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("AWS_", "PYTHON", *drop))
        and name.lower() not in ("http_proxy", "https_proxy", "all_proxy")
    }
    env.update(
        AWS_ACCESS_KEY_ID=access_key,
        AWS_SECRET_ACCESS_KEY=secret_key,
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=str(empty_config),
        AWS_SHARED_CREDENTIALS_FILE=str(empty_config),
        AWS_EC2_METADATA_DISABLED="true",
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
    )
    return env
