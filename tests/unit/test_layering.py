"""The layers: flask -> deploy -> adapters -> core, and what each may import.

The core must stay importable without Flask or boto3, so it can serve
workers; a web worker that only serves pages must not pay for boto3.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import flask_s3.core

FORBIDDEN = {"flask", "werkzeug", "jinja2", "boto3", "botocore"}
CORE = Path(flask_s3.core.__file__).parent
PACKAGE = CORE.parent
BOTO = ("boto3", "botocore", "s3transfer")
# What each layer of flask_s3 may not import, by its own package name.
BELOW = {
    "core": {"adapters", "deploy", "flask"},
    "adapters": {"deploy", "flask"},
    "deploy": {"flask"},
}


def imported_modules(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


def imported_roots(path: Path) -> set[str]:
    return {module.split(".")[0] for module in imported_modules(path)}


def test_each_layer_imports_only_the_layers_below_it() -> None:
    for layer, forbidden in BELOW.items():
        for module in sorted((PACKAGE / layer).glob("*.py")):
            layers = {
                name.split(".")[1]
                for name in imported_modules(module)
                if name.startswith("flask_s3.") and name.count(".") >= 1
            }
            assert not layers & forbidden, f"{layer}/{module.name}: {layers}"


def run_python(script: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def test_serving_pages_loads_no_boto() -> None:
    """FlaskS3(app) and rendering templates (integrity pins included), in a
    fresh interpreter."""
    script = textwrap.dedent(
        f"""
        import os, sys, tempfile, flask
        from flask_s3 import FlaskS3
        root = tempfile.mkdtemp()
        os.mkdir(os.path.join(root, "static"))
        with open(os.path.join(root, "static", "a.css"), "w") as css:
            css.write("body {{}}")
        app = flask.Flask("shop", root_path=root)
        app.config.update(S3_BUCKET_NAME="shop-assets", S3_CACHE_BUSTING=True)
        FlaskS3(app)
        with app.test_request_context():
            page = (
                "{{{{ url_for('static', filename='a.css') }}}}"
                "{{{{ integrity('static', filename='a.css') }}}}"
            )
            assert "sha384-" in flask.render_template_string(page)
        loaded = (m for m in sys.modules if m.split(".")[0] in {BOTO!r})
        print(",".join(sorted(loaded)))
        """
    )
    assert run_python(script) == ""


def test_importing_the_core_reads_no_file_of_the_machine() -> None:
    """The media types ship with the package: /etc/mime.types is never read."""
    script = textwrap.dedent(
        """
        import sys
        opened = []
        def record(event, args):
            if event == "open":
                opened.append(str(args[0]))
        sys.addaudithook(record)
        import flask_s3.core, flask_s3.core.upload_spec, flask_s3.core.upload_plan
        from flask_s3.core.media_types import media_type
        media_type("a.css")
        print(",".join(path for path in opened if "mime" in path))
        """
    )
    assert run_python(script) == ""


def test_core_modules_import_no_framework() -> None:
    modules = sorted(CORE.glob("*.py"))
    assert len(modules) >= 5
    for module in modules:
        assert not imported_roots(module) & FORBIDDEN, module.name


def test_importing_the_core_loads_no_framework() -> None:
    script = (
        "import sys, flask_s3.core\n"
        f"loaded = sorted(set({sorted(FORBIDDEN)!r}) & set(sys.modules))\n"
        "print(','.join(loaded))\n"
    )
    assert run_python(script) == ""
