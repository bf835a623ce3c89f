"""Times Flask-S3 0.3.3's ``url_for`` for bench/url_for.py, in 0.3.3's own venv.

0.3.3 imports as ``flask_s3`` like our package does, so it runs in a process of
its own with the interpreter of bench/.venvs/flask-s3-0.3.3; this file must
never import our package. It also times ``flask.url_for`` on the same calls,
the yardstick that lets the parent compare two processes. Prints one JSON
object on stdout.
"""

from __future__ import annotations

import json
import sys
import tempfile
from functools import partial
from importlib.metadata import version
from pathlib import Path
from typing import Any

import flask
from _timing import Case, seconds_per_call

import flask_s3

FILENAME = "css/app.css"
BUCKET = "bench-bucket"


def _make_app(root: Path) -> flask.Flask:
    static = root / "static"
    admin_static = root / "admin_static"
    for folder in (static, admin_static):
        (folder / "css").mkdir(parents=True)
        (folder / FILENAME).write_text("body { color: #333; }\n")
    app = flask.Flask("peer", static_folder=str(static), root_path=str(root))
    app.config["FLASKS3_BUCKET_NAME"] = BUCKET
    admin = flask.Blueprint(
        "admin", "peer", static_folder=str(admin_static), root_path=str(root)
    )
    app.register_blueprint(admin, url_prefix="/admin")
    flask_s3.FlaskS3(app)
    return app


def main() -> None:
    if flask_s3.__version__ != (0, 3, 3):
        raise SystemExit(f"expected Flask-S3 0.3.3, imported {flask_s3.__file__}")
    calls: dict[str, tuple[str, dict[str, Any]]] = {
        "static": ("static", {"filename": FILENAME}),
        "query": ("static", {"filename": FILENAME, "version": "3"}),
        "blueprint": ("admin.static", {"filename": FILENAME}),
    }
    sides = {"0.3.3": flask_s3.url_for, "flask": flask.url_for}
    with tempfile.TemporaryDirectory() as tmp:
        app = _make_app(Path(tmp))
        cases = {
            f"{side} {name}": Case(
                partial(func, endpoint, **values), app.test_request_context
            )
            for name, (endpoint, values) in calls.items()
            for side, func in sides.items()
        }
        with app.test_request_context():
            urls = {name: str(case.func()) for name, case in cases.items()}
        timings = seconds_per_call(cases)
    json.dump(
        {
            "module": flask_s3.__file__,
            "versions": {
                "python": sys.version.split()[0],
                "flask": version("flask"),
                "werkzeug": version("werkzeug"),
                "flask-s3": version("flask-s3"),
            },
            "urls": urls,
            "timings": timings,
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
