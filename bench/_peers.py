"""The virtualenvs the peers run in: Flask-S3 0.3.3 and the AWS CLI.

0.3.3 imports as ``flask_s3`` like us, so it can share neither a process nor
an environment with this checkout; the AWS CLI is no dependency of ours. Both
are installed with pip on the first run under bench/.venvs/, and both
benchmarks share the 0.3.3 venv.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from _common import BENCH, REPO

PEER_VENV = BENCH / ".venvs" / "flask-s3-0.3.3"
AWSCLI_VENV = BENCH / ".venvs" / "awscli"


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_venv(venv: Path, requirements: list[str]) -> Path:
    """Create or update a venv; a marker file skips pip once it matches."""
    marker = venv / "bench-requirements.txt"
    wanted = "\n".join(requirements) + "\n"
    python = venv_python(venv)
    if python.exists() and marker.exists() and marker.read_text() == wanted:
        return python
    print(f"setting up {venv.relative_to(REPO)} ...", file=sys.stderr)
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            *requirements,
        ],
        check=True,
    )
    marker.write_text(wanted)
    return python


def version_in(python: Path, distribution: str) -> str:
    return subprocess.run(
        [
            str(python),
            "-E",
            "-s",
            "-c",
            "import sys; from importlib.metadata import version; "
            "print(version(sys.argv[1]))",
            distribution,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".")[:3] if part.isdigit())


def ensure_peer() -> Path:
    """The 0.3.3 venv's Python, with Flask and Werkzeug pinned to ours so that
    only the extension differs."""
    from importlib.metadata import version

    python = ensure_venv(
        PEER_VENV,
        [
            "Flask-S3==0.3.3",
            "six",
            f"flask=={version('flask')}",
            f"werkzeug=={version('werkzeug')}",
        ],
    )
    # AWS_ENDPOINT_URL_S3 is how 0.3.3 reaches the proxy; older botocore would
    # ignore it and try the real S3.
    if version_tuple(version_in(python, "botocore")) < (1, 31, 57):
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "-U", "boto3>=1.28.57"],
            check=True,
        )
    return python


def ensure_awscli() -> Path:
    ensure_venv(AWSCLI_VENV, ["awscli"])
    return AWSCLI_VENV / ("Scripts/aws.cmd" if os.name == "nt" else "bin/aws")
