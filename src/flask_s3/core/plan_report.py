"""The plan as a user reads it: one line per asset, totals, where it goes.

One value type serves both outputs, so ``plan`` and ``plan --json`` can never
disagree; the JSON shape is the cattrs unstructuring of `PlanReport` and is
documented in the README. ``format`` changes only when that shape breaks.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

import attrs

from flask_s3.core.bucket_survey import BucketSurvey, public_read_warnings
from flask_s3.core.conversion import converter
from flask_s3.core.cors import RULE_ID, cors_change, cors_warnings
from flask_s3.core.frozen import FrozenDict
from flask_s3.core.invalidation import invalidation_paths
from flask_s3.core.manifest import ManifestSource
from flask_s3.core.settings import RunSettings
from flask_s3.core.upload_plan import Action, UploadPlan
from flask_s3.core.urls import UrlBuilder

REPORT_FORMAT = 1


@attrs.frozen
class AssetLine:
    action: str
    reason: str
    key: str
    size: int
    content_type: str
    content_encoding: str | None
    cache_control: str | None
    integrity: str
    """What a page puts in ``integrity=""`` to pin this asset."""


@attrs.frozen
class DeleteLine:
    key: str
    reason: str


@attrs.frozen
class Total:
    count: int
    bytes: int


@attrs.frozen
class PlanReport:
    format: int
    bucket: str
    region: str | None
    endpoint_url: str | None
    offline: bool
    bucket_exists: bool | None
    """None when offline: nobody asked."""
    manifest: ManifestSource
    example_url: str | None
    totals: FrozenDict[str, Total]
    assets: tuple[AssetLine, ...]
    deletes: tuple[DeleteLine, ...]
    invalidations: tuple[str, ...]
    """CDN paths a successful upload invalidates; empty without a distribution."""
    cors_origins_added: tuple[str, ...]
    """Origins the upload adds to the bucket's CORS rule (S3_CORS_ORIGINS)."""
    warnings: tuple[str, ...]

    @property
    def has_changes(self) -> bool:
        sent = self.totals["upload"].count + self.totals["fix headers"].count
        return sent > 0 or bool(self.deletes)


def plan_report(
    plan: UploadPlan,
    run: RunSettings,
    survey: BucketSurvey,
    integrity: Mapping[str, str],
    *,
    offline: bool,
) -> PlanReport:
    """``integrity`` holds the SRI value of each local file, by its path."""
    settings = run.settings
    lines = tuple(
        AssetLine(
            action=item.action.value,
            reason=item.reason.value,
            key=item.key,
            size=item.size,
            content_type=item.spec.content_type,
            content_encoding=item.spec.content_encoding,
            cache_control=item.spec.cache_control,
            integrity=integrity[item.asset.local_path],
        )
        for item in plan.items
    )
    totals = FrozenDict(
        (
            action.value,
            Total(
                sum(1 for item in plan.items if item.action is action),
                sum(item.size for item in plan.items if item.action is action),
            ),
        )
        for action in Action
    )
    # The URL a template renders for the first file: with cache busting,
    # the versioned or hashed one.
    change = cors_change(settings.cors_origins, survey.cors)
    first = plan.items[0] if plan.items else None
    example_url = (
        UrlBuilder(settings).url(
            first.asset.root.url_path, first.asset.relative_path, digest=first.sha1
        )
        if first is not None
        else None
    )
    return PlanReport(
        format=REPORT_FORMAT,
        bucket=run.bucket,
        region=settings.region,
        endpoint_url=settings.endpoint_url,
        offline=offline,
        bucket_exists=None if offline else survey.exists,
        manifest=survey.manifest_source,
        example_url=example_url,
        totals=totals,
        assets=lines,
        deletes=tuple(
            DeleteLine(delete.key, delete.reason.value) for delete in plan.deletes
        ),
        invalidations=tuple(invalidation_paths(plan))
        if settings.cloudfront_distribution_id
        else (),
        cors_origins_added=change.added if change is not None else (),
        warnings=()
        if offline
        else (
            *public_read_warnings(survey, settings.object_acl),
            *cors_warnings(
                settings.cors_origins, survey.cors, (item.key for item in plan.items)
            ),
        ),
    )


def report_json(report: PlanReport) -> str:
    return json.dumps(converter.unstructure(report), indent=2)


def human_size(size: int) -> str:
    amount = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if amount < 1024 or unit == "GiB":
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    raise AssertionError("unreachable")


_INVISIBLE = re.compile(r"[\\\x00-\x1f\x7f-\x9f\u2028\u2029]")
_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def visible(text: str) -> str:
    """``text`` with every control character (C0, DEL, C1) and line or
    paragraph separator written as a visible escape (``\\n``, ``\\x1b``,
    ``\\u2028``), and a backslash as ``\\\\``: a file named with a newline
    would otherwise split its row, and its second half could pose as a row
    of its own; an escape sequence could rewrite the terminal's lines."""
    return _INVISIBLE.sub(lambda match: _escape(match.group()), text)


def _escape(character: str) -> str:
    if character in _ESCAPES:
        return _ESCAPES[character]
    code = ord(character)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def report_text(report: PlanReport, *, totals_only: bool = False) -> str:
    """A line per file and per delete, then the totals and where they go;
    ``totals_only`` for the totals alone (a big site has thousands of lines).
    Everything a file, the bucket or the settings named goes through
    `visible`; the JSON keeps every string exact."""
    header = (
        "ACTION",
        "REASON",
        "KEY",
        "SIZE",
        "CONTENT-TYPE",
        "ENCODING",
        "CACHE-CONTROL",
    )
    rows = [
        tuple(
            visible(cell)
            for cell in (
                line.action,
                line.reason,
                line.key,
                human_size(line.size),
                line.content_type,
                line.content_encoding or "-",
                line.cache_control or "-",
            )
        )
        for line in report.assets
    ]
    widths = [max(len(row[column]) for row in [header, *rows]) for column in range(6)]
    table = [
        "  ".join(
            cell.ljust(width) for cell, width in zip(row, [*widths, 0], strict=True)
        ).rstrip()
        for row in [header, *rows]
    ]
    where = visible(report.region or "default region")
    if report.endpoint_url:
        where += f", endpoint {visible(report.endpoint_url)}"
    table.extend(
        f"delete  {line.reason}  {visible(line.key)}" for line in report.deletes
    )
    summary = [
        "",
        *(
            f"{action}: {total.count} files, {human_size(total.bytes)}"
            for action, total in report.totals.items()
        ),
        f"bucket: {visible(report.bucket)} ({where})"
        + (", does not exist yet" if report.bucket_exists is False else "")
        + (", offline: planned against an empty bucket" if report.offline else ""),
        f"manifest: {report.manifest}",
    ]
    if report.deletes:
        summary.insert(3, f"delete: {len(report.deletes)} objects")
    if report.invalidations:
        summary.append(
            "CDN paths to invalidate: "
            + " ".join(visible(path) for path in report.invalidations)
        )
    if report.cors_origins_added:
        summary.append(
            f"CORS: the bucket's rule {RULE_ID!r} will let "
            f"{', '.join(report.cors_origins_added)} GET and HEAD"
        )
    if report.example_url:
        summary.append(f"asset URLs look like: {visible(report.example_url)}")
    summary.extend(f"warning: {visible(warning)}" for warning in report.warnings)
    if totals_only:
        return "\n".join(summary[1:])
    return "\n".join([*table, *summary])
