"""``create_all``: publish an app's static assets, with 0.3.x's signature.

The app does not have to be running: the static folders and the URL paths they
are served at are read from its URL map, which exists once blueprints are
registered. Everything else is the deploy service's.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from flask import Flask

# The deploy service first: it brings boto3 in with the collector paused.
from flask_s3.deploy import DeployOptions, S3ClientFactory, prepare, publish
from flask_s3.flask.state import deploy_settings
from flask_s3.flask.static_roots import static_roots

if TYPE_CHECKING:
    from flask_s3.adapters.upload_pool import OnDone
    from flask_s3.core.upload_result import UploadResult


def create_all(
    app: Flask,
    user: str | None = None,
    password: str | None = None,
    bucket_name: str | None = None,
    location: str | None = None,
    include_hidden: bool = False,
    filepath_filter_regex: str | None = None,
    put_bucket_acl: bool = True,
    *,
    verify: bool = False,
    on_done: OnDone | None = None,
    s3_client: S3ClientFactory | None = None,
) -> UploadResult:
    """Upload every static asset of ``app`` and its registered blueprints.

    Raises `flask_s3.UploadFailed` listing the keys that did not arrive; they
    are left out of the manifest, so running it again sends exactly those.
    Every error it raises is a `flask_s3.FlaskS3Error`. With ``verify``, the
    bucket is listed and what is missing or changed there is sent again.
    ``s3_client`` builds
    the boto3 client from the settings and credentials, for a session
    configured your own way.
    """
    started = time.monotonic()
    options = DeployOptions(
        user,
        password,
        bucket_name,
        location,
        include_hidden,
        filepath_filter_regex,
        put_bucket_acl,
        verify=verify,
    )
    prepared = prepare(
        static_roots(app), deploy_settings(app), options, s3_client=s3_client
    )
    return publish(prepared, started=started, on_done=on_done)
