"""One serving process of bench/serving.py: an app that renders a page of
static links, with our extension, with 0.3.3's, or with none.

Our package and 0.3.3 both import as ``flask_s3``, so this file imports only
the standard library at the top, and the interpreter that runs it decides
which ``flask_s3`` an ``ours`` or ``0.3.3`` process gets. Prints one JSON line.

Usage: ``python _serving_child.py NAME ROOT``, NAME one of ``plain``, ``ours``
and ``0.3.3``; ROOT holds the app's static folder.
"""

from __future__ import annotations

import json
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

BUCKET = "bench-bucket"
S3_ROOT = f"https://{BUCKET}.s3.amazonaws.com"
LINKS = 200
BOTO = frozenset({"boto3", "botocore", "s3transfer"})
CONFIG = {"ours": "S3_BUCKET_NAME", "0.3.3": "FLASKS3_BUCKET_NAME"}
"""The setting that names the bucket, in each extension's spelling."""


def page() -> str:
    return "\n".join(
        f"<img src=\"{{{{ url_for('static', filename='img/{i}.png') }}}}\">"
        for i in range(LINKS)
    )


def main(name: str, root: Path) -> dict[str, Any]:
    import flask

    app = flask.Flask(
        "serving", static_folder=str(root / "static"), root_path=str(root)
    )
    module = None
    if name in CONFIG:
        import flask_s3

        app.config[CONFIG[name]] = BUCKET
        flask_s3.FlaskS3(app)
        module = flask_s3.__file__
    with app.test_request_context():
        html = flask.render_template_string(page())
    loaded = {imported.partition(".")[0] for imported in sys.modules}
    return {
        "module": module,
        "s3_links": html.count(S3_ROOT),
        "boto_modules": sorted(loaded & BOTO),
        "flask": version("flask"),
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], Path(sys.argv[2]))))
