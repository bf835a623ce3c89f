"""The core must stay importable without Flask or boto3, so it can serve workers."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import flask_s3.core

FORBIDDEN = {"flask", "werkzeug", "jinja2", "boto3", "botocore"}
CORE = Path(flask_s3.core.__file__).parent


def imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


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
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
