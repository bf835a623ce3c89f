"""Which code a benchmark measured, printed with its figures."""

from __future__ import annotations

import subprocess
from pathlib import Path


def checkout(repo: Path) -> str:
    """The commit measured, and whether src/ differs from it."""
    git = ["git", "-C", str(repo)]
    try:
        head = subprocess.run(
            [*git, "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            [*git, "status", "--porcelain", "--", "src"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "not a git checkout"
    return f"commit {head}" + (" + uncommitted changes in src/" if dirty else "")
