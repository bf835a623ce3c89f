"""The Flask extension object, kept compatible with Flask-S3 0.3.x's.

Importing it, and serving pages with it, costs no boto3: the ``flask s3``
commands load the upload stack only when they run.
"""

from __future__ import annotations

import os
import sys
import warnings

from flask import Flask

import flask_s3
from flask_s3.core.activation import require_bucket, switch_entries
from flask_s3.core.settings_resolution import (
    deprecations,
    misspellings,
    resolve_settings,
)
from flask_s3.errors import DeprecatedSetting, UnknownSetting
from flask_s3.flask.cli import s3_commands
from flask_s3.flask.integrity import integrity
from flask_s3.flask.state import EXTENSION_NAME, ExtensionState
from flask_s3.flask.url_for import url_for

_PACKAGE = os.path.dirname(flask_s3.__file__)


class FlaskS3:
    """Serves the static assets of one or more Flask apps from S3."""

    def __init__(self, app: Flask | None = None) -> None:
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Resolve the settings now, so a bad config fails at start-up; route
        the templates' ``url_for`` to S3 when the extension is active, give
        them ``integrity``, and add ``flask s3 plan`` / ``flask s3 upload``."""
        settings = resolve_settings(app.config)
        for message in deprecations(app.config):
            warnings.warn(message, DeprecatedSetting, stacklevel=_callers_level())
        for message in misspellings(app.config):
            warnings.warn(message, UnknownSetting, stacklevel=_callers_level())
        switch = switch_entries(app.config, settings, debug=app.debug)
        app.config.update(switch)
        require_bucket(app.config, settings)
        app.extensions[EXTENSION_NAME] = ExtensionState(settings, switch)
        app.cli.add_command(s3_commands)
        # Always: the switch is read on every call, so turning it on after an
        # inactive or debug start reaches the templates too.
        app.jinja_env.globals["url_for"] = url_for
        app.jinja_env.globals["integrity"] = integrity


def _callers_level() -> int:
    """The stack level of the first frame outside this package, so that a
    warning points at the app's own line (``FlaskS3(app)``), wherever in the
    package the call came from."""
    frame = sys._getframe(1)
    level = 1
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return level
