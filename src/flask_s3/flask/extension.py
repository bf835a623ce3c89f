"""The Flask extension object, kept compatible with Flask-S3 0.3.x's."""

from __future__ import annotations

from flask import Flask

from flask_s3.core.activation import require_bucket, switch_entries, use_s3
from flask_s3.core.settings_resolution import resolve_settings
from flask_s3.flask.cli import s3_commands
from flask_s3.flask.state import EXTENSION_NAME, S3State
from flask_s3.flask.url_for import url_for


class FlaskS3:
    """Serves the static assets of one or more Flask apps from S3."""

    def __init__(self, app: Flask | None = None) -> None:
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Resolve the settings now, so a bad config fails at start-up; route
        the templates' ``url_for`` to S3 when the extension is active; and add
        ``flask s3 plan`` / ``flask s3 upload``."""
        settings = resolve_settings(app.config)
        app.config.update(switch_entries(app.config, settings, debug=app.debug))
        require_bucket(app.config, settings)
        app.extensions[EXTENSION_NAME] = S3State(settings)
        app.cli.add_command(s3_commands)
        if use_s3(app.config, settings):
            app.jinja_env.globals["url_for"] = url_for
