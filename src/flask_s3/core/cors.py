"""The bucket's CORS rules: what a run adds so that browsers may read assets
from pages on another origin.

A browser reads a font, a module script, or anything fetched with
``crossorigin`` or an ``integrity`` attribute only if the response carries
``Access-Control-Allow-Origin``, and S3 sends that header from the bucket's
CORS configuration alone. That configuration is one document shared by
everyone who uses the bucket, and S3 can only replace it whole: so a run only
ever adds origins, in a rule of its own, and writes back every other rule as
it found it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import attrs

RULE_ID = "flask-s3"
"""The ID of the rule a run writes; the only rule it ever changes."""
METHODS = ("GET", "HEAD")

CROSS_ORIGIN_SUFFIXES = (".woff", ".woff2", ".ttf", ".otf", ".eot", ".mjs")
"""Files a browser always fetches in CORS mode: web fonts and module scripts
(a ``.js`` file may be a module too, but only its ``<script>`` tag says so)."""


@attrs.frozen
class CorsRule:
    """One rule of a bucket's CORS configuration, every field S3 defines, so
    that writing the configuration back loses nothing."""

    allowed_methods: tuple[str, ...]
    allowed_origins: tuple[str, ...]
    allowed_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age_seconds: int | None = None
    id: str | None = None

    def allows(self, origin: str) -> bool:
        """Whether a page on ``origin`` may GET and HEAD through this rule;
        ``'*'`` (any origin) only through a rule for any origin."""
        if not all(method in self.allowed_methods for method in METHODS):
            return False
        if origin == "*":
            return "*" in self.allowed_origins
        return any(_matches(pattern, origin) for pattern in self.allowed_origins)


def _matches(pattern: str, origin: str) -> bool:
    """S3's origin patterns: exact, or with ``*`` standing for any text."""
    parts = (re.escape(part) for part in pattern.split("*"))
    return re.fullmatch(".*".join(parts), origin) is not None


@attrs.frozen
class BucketCors:
    """What the survey learnt of the bucket's CORS configuration."""

    rules: tuple[CorsRule, ...] | None
    """The rules; empty when there is no configuration, None when unknown."""
    problem: str | None = None
    """Why the rules are unknown, in the store's words."""
    unsupported: bool = False
    """The store does not implement bucket CORS at all."""


NO_CORS = BucketCors(rules=())


@attrs.frozen
class CorsChange:
    """The configuration a run writes: every rule it found, with its own
    rule grown by the origins that nothing allowed yet."""

    added: tuple[str, ...]
    rules: tuple[CorsRule, ...]


def cors_change(origins: Iterable[str] | None, cors: BucketCors) -> CorsChange | None:
    """None when nothing would change, or when the rules are unknown: writing
    without knowing them would replace rules someone else wrote."""
    if origins is None or cors.rules is None:
        return None
    current = cors.rules
    added = tuple(
        origin for origin in origins if not any(rule.allows(origin) for rule in current)
    )
    if not added:
        return None
    ours = next((rule for rule in current if rule.id == RULE_ID), None)
    if ours is None:
        grown = CorsRule(allowed_methods=METHODS, allowed_origins=added, id=RULE_ID)
        return CorsChange(added, (*current, grown))
    grown = attrs.evolve(
        ours,
        allowed_methods=tuple(dict.fromkeys((*ours.allowed_methods, *METHODS))),
        allowed_origins=tuple(dict.fromkeys((*ours.allowed_origins, *added))),
    )
    return CorsChange(added, tuple(grown if rule is ours else rule for rule in current))


def cors_warnings(
    origins: tuple[str, ...] | None, cors: BucketCors, keys: Iterable[str]
) -> list[str]:
    """At most one warning: S3_CORS_ORIGINS that cannot be applied, or
    assets that browsers will block because no rule lets any page read them."""
    if origins is not None:
        if cors.rules is not None:
            return []
        if cors.unsupported:
            return [
                f"the store does not implement bucket CORS ({cors.problem}), so "
                "S3_CORS_ORIGINS is not applied: allow those origins the store's way"
            ]
        return [
            f"could not read the bucket's CORS configuration ({cors.problem}), so "
            "S3_CORS_ORIGINS is not applied: Flask-S3 never replaces rules it "
            "cannot see (it needs s3:GetBucketCORS)"
        ]
    if cors.rules is None or any(
        rule.allowed_origins and "GET" in rule.allowed_methods for rule in cors.rules
    ):
        return []
    blocked = sorted(key for key in keys if key.lower().endswith(CROSS_ORIGIN_SUFFIXES))
    if not blocked:
        return []
    more = f" and {len(blocked) - 1} more" if len(blocked) > 1 else ""
    return [
        f"browsers will block {blocked[0]}{more} (web fonts and module scripts "
        "load only with CORS) and no CORS rule of the bucket lets any page read "
        "them: set S3_CORS_ORIGINS to the origins of your pages"
    ]
