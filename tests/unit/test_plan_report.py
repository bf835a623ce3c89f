"""The plan as text: one row per file, whatever the file is called."""

from __future__ import annotations

import json

import attrs
import pytest

from flask_s3.core import resolve_settings
from flask_s3.core.bucket_survey import missing_bucket
from flask_s3.core.manifest import Manifest
from flask_s3.core.plan_report import (
    DeleteLine,
    PlanReport,
    plan_report,
    report_json,
    report_text,
    visible,
)
from flask_s3.core.settings import BucketName, RunSettings
from flask_s3.core.static_assets import Asset, StaticRoot
from flask_s3.core.upload_plan import LocalFile, plan_uploads

SHA1 = "0123456789abcdef0123456789abcdef01234567"
ROOT = StaticRoot("/srv/static", "/static")
FORGED = "upload  new  static/forged.js  1 B  text/javascript  -  -"
"""What the second half of a name with a newline would pose as."""
NAMES = {
    f"a.css\n{FORGED}": f"a.css\\n{FORGED}",
    "b\r.css": "b\\r.css",
    "c\x1b[2J.css": "c\\x1b[2J.css",
    "d\x00\x07\x7f.css": "d\\x00\\x07\\x7f.css",
    "e\x85\x9b.css": "e\\x85\\x9b.css",
    "f\u2028g\u2029.css": "f\\u2028g\\u2029.css",
    "h\t.css": "h\\t.css",
    "back\\slash.css": "back\\\\slash.css",
}


def report_of(*names: str, deletes: tuple[str, ...] = ()) -> PlanReport:
    settings = resolve_settings({"S3_BUCKET_NAME": "shop-assets"})
    local = [LocalFile(Asset(f"static/{name}", ROOT, name), SHA1, 1) for name in names]
    plan = plan_uploads(settings, local, Manifest(), acl="public-read")
    run = RunSettings(settings, BucketName("shop-assets"))
    integrity = {file.asset.local_path: "sha384-..." for file in local}
    report = plan_report(plan, run, missing_bucket(), integrity, offline=True)
    return attrs.evolve(
        report, deletes=tuple(DeleteLine(key, "not local") for key in deletes)
    )


@pytest.mark.parametrize(("name", "shown"), NAMES.items(), ids=repr)
def test_a_control_character_in_a_name_is_shown_escaped(name: str, shown: str) -> None:
    assert visible(name) == shown
    text = report_text(report_of(name, deletes=(f"static/old-{name}",)))
    assert f"static/{shown}" in text
    assert f"delete  not local  static/old-{shown}" in text.splitlines()


def test_a_name_with_a_newline_cannot_forge_a_row() -> None:
    names = sorted(NAMES)
    text = report_text(report_of(*names, deletes=tuple(names)))
    lines = text.splitlines()
    assert all(char.isprintable() for line in lines for char in line)
    rows = [line for line in lines if line.startswith("upload ")]
    assert len(rows) == len(names)
    assert not any(line.startswith(FORGED) for line in lines)
    deletes = [line for line in lines if line.startswith("delete  ")]
    assert len(deletes) == len(names)


def test_the_json_keeps_names_exact() -> None:
    names = sorted(NAMES)
    report = report_of(*names, deletes=tuple(names))
    shown = json.loads(report_json(report))
    assert [line["key"] for line in shown["assets"]] == [
        f"static/{name}" for name in names
    ]
    assert [line["key"] for line in shown["deletes"]] == names
