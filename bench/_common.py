"""What every part of the upload benchmark needs: where things are, and a
refusal to report a figure of a run that did not do what it is named after."""

from __future__ import annotations

from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
CHILD = BENCH / "_upload_child.py"
"""The script every contender runs in, as a process of its own."""


def expect(condition: bool, what: str) -> None:
    """Refuse to report a figure for a run that did not do what it is named after."""
    if not condition:
        raise SystemExit(f"benchmark setup is wrong: {what}")
