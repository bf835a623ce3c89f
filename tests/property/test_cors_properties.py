"""The CORS rule a run writes, over any rules a bucket may already hold.

The bucket's CORS configuration is shared and replaced whole, so the change a
run makes must keep every rule it did not write exactly as it was, must leave
every configured origin allowed, and must be a fixed point: a second run
with the same origins writes nothing.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from flask_s3.core.cors import RULE_ID, BucketCors, CorsRule, cors_change

HOSTS = st.sampled_from(
    ["shop.example", "blog.example", "127.0.0.1:5000", "a.b.example"]
)
ORIGINS = st.builds(
    lambda scheme, host: f"{scheme}://{host}", st.sampled_from(["http", "https"]), HOSTS
)
PATTERNS = st.one_of(
    ORIGINS,
    st.just("*"),
    st.builds(lambda scheme: f"{scheme}://*", st.sampled_from(["http", "https"])),
    st.just("https://*.example"),
)
RULES = st.builds(
    CorsRule,
    allowed_methods=st.lists(
        st.sampled_from(["GET", "HEAD", "PUT", "POST", "DELETE"]),
        min_size=1,
        max_size=3,
        unique=True,
    ).map(tuple),
    allowed_origins=st.lists(PATTERNS, min_size=1, max_size=3).map(tuple),
    allowed_headers=st.lists(st.sampled_from(["*", "Authorization"]), max_size=2).map(
        tuple
    ),
    expose_headers=st.lists(st.sampled_from(["ETag"]), max_size=1).map(tuple),
    max_age_seconds=st.one_of(st.none(), st.integers(0, 86400)),
    id=st.one_of(st.none(), st.sampled_from([RULE_ID, "theirs", "uploads"])),
)
CONFIGURED = st.one_of(
    st.just(("*",)),
    st.lists(ORIGINS, min_size=1, max_size=4, unique=True).map(tuple),
)


@given(rules=st.lists(RULES, max_size=4).map(tuple), origins=CONFIGURED)
def test_a_change_keeps_others_rules_allows_every_origin_and_settles(
    rules: tuple[CorsRule, ...], origins: tuple[str, ...]
) -> None:
    change = cors_change(origins, BucketCors(rules))
    if change is None:
        assert all(any(rule.allows(o) for rule in rules) for o in origins)
        return
    assert change.added
    assert all(any(rule.allows(o) for rule in change.rules) for o in origins)
    if any(rule.id == RULE_ID for rule in rules):  # the first of ours grows
        assert len(change.rules) == len(rules)
        grown = next(i for i, rule in enumerate(rules) if rule.id == RULE_ID)
        for index, (before, after) in enumerate(zip(rules, change.rules, strict=True)):
            if index != grown:
                assert after == before
        before, after = rules[grown], change.rules[grown]
        assert set(before.allowed_origins) <= set(after.allowed_origins)
        assert set(before.allowed_methods) <= set(after.allowed_methods)
        assert after.allowed_headers == before.allowed_headers
        assert after.max_age_seconds == before.max_age_seconds
    else:  # or a rule of ours joins the others, which stay as they were
        assert change.rules[:-1] == rules
        assert change.rules[-1].id == RULE_ID
    assert cors_change(origins, BucketCors(change.rules)) is None


@given(rules=st.lists(RULES, max_size=3).map(tuple), origins=CONFIGURED)
def test_unknown_rules_are_never_written_over(
    rules: tuple[CorsRule, ...], origins: tuple[str, ...]
) -> None:
    assert cors_change(origins, BucketCors(None, "AccessDenied: no")) is None
    assert cors_change(None, BucketCors(rules)) is None
