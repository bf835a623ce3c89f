"""Every flow against moto answering as other stores do, with default settings.

A proxy in front of moto applies one quirk profile (tests/integration/stores.py)
per test: MinIO's, R2's, B2's, GCS's missing features, a router that answers a
listing to reads it does not know, a store without conditional writes. Each
flow runs as a user would, with only S3_ENDPOINT_URL (and S3_REGION for R2)
pointing at the store, and must succeed: the bucket holds the local bytes with
their Content-Types, the manifest lists only what the bucket holds, a second
run sends nothing, each degradation is said in exactly one warning per run,
and pruning deletes what it should, one key at a time where it must.

The manifest is audited after every request that changes the bucket, while
the runs go on.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from flask_s3 import S3Error, create_all
from flask_s3.core.upload_result import UploadResult
from flask_s3.errors import FlaskS3Error, UploadFailed
from tests.integration.fault_proxy import (
    INTERNAL_ERROR,
    FaultProxy,
    Predicate,
    is_object_put,
)
from tests.integration.moto_site import (
    BUCKET,
    MANIFEST,
    VISIBLE_KEYS,
    Site,
    body_of,
    build_site,
)
from tests.integration.stores import (
    DELETES,
    LISTING,
    NOT_IMPLEMENTED,
    PROFILES,
    Profile,
    assert_bucket_holds,
    assert_manifest_honest,
    bucket_call,
    hashed_key,
    local_files,
    warnings_of,
)
from tests.integration.test_faults import audit, is_asset_put
from tests.support.http_messages import Request
from tests.support.loopback_proxy import MUTATING
from tests.support.proxy_actions import Action, Rewrite
from tests.support.proxy_actions import S3Error as S3ProxyError

if TYPE_CHECKING:
    from types_boto3_s3.client import S3Client

A = "static/css/a.css"
JS = "static/js/app.js"


@pytest.fixture
def proxy(moto_endpoint: str, server_s3: S3Client) -> Iterator[FaultProxy]:
    """A proxy in front of a freshly reset moto, auditing the manifest after
    every change to the bucket."""
    proxy = FaultProxy(moto_endpoint).start()
    proxy.audit = functools.partial(audit, server_s3)
    try:
        yield proxy
    finally:
        stuck = proxy.stop()
    assert stuck == []
    assert proxy.errors == []
    assert proxy.audit_failures == []


def site_for(
    tmp_path: Path, proxy: FaultProxy, profile: Profile, **config: object
) -> Site:
    settings: dict[str, object] = {
        "S3_ENDPOINT_URL": proxy.url,
        "S3_ONLY_MODIFIED": True,
    }
    if profile.region is not None:
        settings["S3_REGION"] = profile.region
    return build_site(tmp_path / "site", **settings, **config)


def mutations(proxy: FaultProxy) -> list[str]:
    """The changes that reached the store, but for PutBucketAcl: a run that
    cannot read the bucket's ACL (old-router, r2-like) puts it again every
    time, and where it is not implemented the store refuses it."""
    return [
        f"{seen.method} {seen.path}?{seen.query}"
        for seen in proxy.requests()
        if seen.method in MUTATING
        and seen.outcome.startswith("forwarded")
        and not (seen.method == "PUT" and seen.query == "acl")
    ]


class Runs:
    """Runs of one site through one profile, each checked for its warnings."""

    def __init__(
        self,
        site: Site,
        proxy: FaultProxy,
        profile: Profile,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        self.site, self.proxy, self.profile, self.caplog = site, proxy, profile, caplog

    def run(self, *, cold: bool = False) -> UploadResult:
        self.caplog.clear()
        self.proxy.take()
        with self.caplog.at_level(logging.WARNING, logger="flask_s3"):
            result = create_all(self.site.app)
        uploads = bool(result.uploaded or result.fixed or result.deleted)
        seen = warnings_of(self.caplog.records)
        assert seen == self.profile.expected(cold=cold, uploads=uploads)
        if seen["unchecked"]:
            (message,) = [
                r.getMessage()
                for r in self.caplog.records
                if "could not check" in r.getMessage()
            ]
            for read in (
                "Object Ownership",
                "Block Public Access",
                "the bucket policy",
                "the bucket ACL",
            ):
                assert (f"{read} (" in message) == (
                    read in self.profile.survey_unknown
                ), read
        return result

    def nothing_changes(self) -> None:
        again = self.run()
        assert (again.uploaded, again.fixed, again.deleted) == ((), (), ())
        assert mutations(self.proxy) == []


@pytest.fixture(params=list(PROFILES))
def profile(request: pytest.FixtureRequest, proxy: FaultProxy) -> Profile:
    chosen = PROFILES[request.param]
    chosen.install(proxy)
    return chosen


def assert_rules_fired(proxy: FaultProxy, profile: Profile, *, pruned: bool) -> None:
    """The profile's quirks were met, not just installed (b2-like's never is
    with the default checksums; deletes only by a pruning run)."""
    for rule in proxy.rules():
        if profile is PROFILES["b2-like"] or (rule.match is DELETES and not pruned):
            assert rule.fired == 0
        else:
            assert rule.fired, rule


def test_cold_upload_no_change_and_one_changed_file(
    tmp_path: Path,
    proxy: FaultProxy,
    server_s3: S3Client,
    profile: Profile,
    caplog: pytest.LogCaptureFixture,
) -> None:
    site = site_for(tmp_path, proxy, profile)
    runs = Runs(site, proxy, profile, caplog)

    assert sorted(runs.run(cold=True).uploaded) == VISIBLE_KEYS
    assert_bucket_holds(server_s3, BUCKET, local_files(site))
    assert sorted(assert_manifest_honest(server_s3, BUCKET)) == VISIBLE_KEYS

    runs.nothing_changes()

    site.write(A, b"/* v2 */\n" + site.body(A))
    assert runs.run().uploaded == (A,)
    assert_bucket_holds(server_s3, BUCKET, local_files(site))
    assert sorted(assert_manifest_honest(server_s3, BUCKET)) == VISIBLE_KEYS

    runs.nothing_changes()
    assert_rules_fired(proxy, profile, pruned=False)


def test_hashed_copies_and_pruning(
    tmp_path: Path,
    proxy: FaultProxy,
    server_s3: S3Client,
    profile: Profile,
    caplog: pytest.LogCaptureFixture,
) -> None:
    site = site_for(
        tmp_path, proxy, profile, S3_CACHE_BUSTING="filename", S3_PRUNE=True
    )
    runs = Runs(site, proxy, profile, caplog)
    v1 = local_files(site)

    runs.run(cold=True)
    copies = {hashed_key(key, data): data for key, data in v1.items()}
    assert_bucket_holds(server_s3, BUCKET, {**v1, **copies})
    assert_manifest_honest(server_s3, BUCKET)

    # Deploy 2: a.css changes, app.js goes: its plain key is pruned at once,
    # its hashed copy and a.css's old one stay for S3_PRUNE_KEEP (2) deploys.
    a2 = b"/* v2 */\n" + v1[A]
    site.write(A, a2)
    site.path(JS).unlink()
    second = runs.run()
    assert second.deleted == (JS,)
    v2 = local_files(site)
    assert_bucket_holds(server_s3, BUCKET, {**v2, **copies, hashed_key(A, a2): a2})
    assert_manifest_honest(server_s3, BUCKET)
    assert_deleted_one_by_one(proxy, profile, [JS])

    # Deploy 3: a.css changes again; the copies last current in deploy 1 go.
    a3 = b"/* v3 */\n" + v1[A]
    site.write(A, a3)
    third = runs.run()
    assert sorted(third.deleted) == sorted(
        [hashed_key(A, v1[A]), hashed_key(JS, v1[JS])]
    )
    v3 = local_files(site)
    kept = {hashed_key(key, data): data for key, data in v3.items() if key != A}
    assert_bucket_holds(
        server_s3,
        BUCKET,
        {**v3, **kept, hashed_key(A, a2): a2, hashed_key(A, a3): a3},
    )
    assert_manifest_honest(server_s3, BUCKET)
    assert_deleted_one_by_one(proxy, profile, third.deleted)

    runs.nothing_changes()
    assert_rules_fired(proxy, profile, pruned=True)


def assert_deleted_one_by_one(
    proxy: FaultProxy, profile: Profile, keys: object
) -> None:
    """Without DeleteObjects, each key had a DELETE of its own."""
    deletes = sorted(s.path for s in proxy.requests("DELETE"))
    batches = [s.outcome for s in proxy.requests("POST") if "delete" in s.query]
    if profile.batch_delete:
        assert deletes == []
        assert batches == ["forwarded (200)"]
    else:
        assert deletes == sorted(f"/{BUCKET}/{key}" for key in keys)  # type: ignore[attr-defined]
        assert batches == ["answered 501 NotImplemented"]


# A store that keeps the checksum framing as the object


def framed(body: bytes) -> bytes:
    """What a store that does not understand aws-chunked keeps: the body
    with its chunk framing and checksum trailer."""
    return (
        f"{len(body):x}\r\n".encode()
        + body
        + b"\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n"
    )


def test_a_store_that_stores_other_bytes_stops_the_first_upload(
    tmp_path: Path,
    proxy: FaultProxy,
    server_s3: S3Client,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Every PUT is kept framed, the manifest's too (as s3rver does with
    boto3's aws-chunked bodies): the read-back names S3_REQUEST_CHECKSUMS,
    and the manifest, unreadable, claims nothing."""
    proxy.audit = None  # the manifest is not JSON any more: audited below
    proxy.add(is_object_put(), Rewrite(framed))
    site = site_for(tmp_path, proxy, Profile(rules=()))

    with pytest.raises(S3Error) as raised:
        create_all(site.app)

    assert "S3_REQUEST_CHECKSUMS" in str(raised.value)
    assert raised.value.operation == "GetObject"
    # The manifest this run wrote first is kept framed too: it claims
    # nothing, and the error says to delete it.
    size, _, rest = body_of(server_s3, MANIFEST).partition(b"\r\n")
    assert json.loads(rest[: int(size, 16)])["entries"] == {}
    assert f"delete {MANIFEST!r}" in str(raised.value)


def is_asset_get(request: Request) -> bool:
    return (
        request.method == "GET"
        and (request.key or "").startswith("static/")
        and not request.query
    )


def assert_claims_nothing_and_marks_nothing(client: S3Client) -> None:
    record = json.loads(body_of(client, MANIFEST))
    assert record["entries"] == {}
    assert record["in_flight"] == {}


def test_a_read_back_that_fails_claims_nothing_and_takes_the_marks_back(
    tmp_path: Path, proxy: FaultProxy, server_s3: S3Client
) -> None:
    """The store refuses to let the run read its first object back (an
    identity without s3:GetObject): whether the store keeps what it is sent
    is unknown, so the run stops on that error, claims none of what it sent
    and leaves no marks to hold up other runs for an hour."""
    proxy.add(is_asset_get, S3ProxyError(403, "AccessDenied", "Access Denied"))
    site = site_for(tmp_path, proxy, Profile(rules=()))

    with pytest.raises(S3Error) as raised:
        create_all(site.app)

    assert raised.value.operation == "GetObject"
    assert raised.value.code == "AccessDenied"
    assert_claims_nothing_and_marks_nothing(server_s3)


def test_a_read_back_that_fails_leaves_a_failed_upload_its_own_error(
    tmp_path: Path, proxy: FaultProxy, server_s3: S3Client
) -> None:
    """Where an upload failed too, the run stops on UploadFailed, with its
    result, as any run with a failed upload does: the read-back's error is
    its cause, and what arrived is claimed no more than in the case above."""
    proxy.add(is_asset_get, S3ProxyError(403, "AccessDenied", "Access Denied"))
    proxy.add(is_object_put(JS), INTERNAL_ERROR)
    site = site_for(tmp_path, proxy, Profile(rules=()))

    with pytest.raises(UploadFailed) as raised:
        create_all(site.app)

    assert [failure.key for failure in raised.value.result.failed] == [JS]
    assert isinstance(raised.value.__cause__, S3Error)
    assert raised.value.__cause__.code == "AccessDenied"
    assert_claims_nothing_and_marks_nothing(server_s3)


def test_a_store_that_stores_other_bytes_is_caught_when_uploads_failed_too(
    tmp_path: Path, proxy: FaultProxy, server_s3: S3Client
) -> None:
    """One upload fails and the others arrive framed: the run still stops
    on the read-back, and claims none of the framed objects."""
    proxy.audit = None  # the manifest is not JSON any more: read below
    proxy.add(is_object_put(JS), INTERNAL_ERROR)
    proxy.add(is_object_put(), Rewrite(framed))
    site = site_for(tmp_path, proxy, Profile(rules=()))

    with pytest.raises(S3Error) as raised:
        create_all(site.app)

    assert "S3_REQUEST_CHECKSUMS" in str(raised.value)
    size, _, rest = body_of(server_s3, MANIFEST).partition(b"\r\n")
    assert json.loads(rest[: int(size, 16)])["entries"] == {}


def test_an_interrupt_after_the_read_back_found_framing_claims_nothing(
    tmp_path: Path, proxy: FaultProxy, server_s3: S3Client
) -> None:
    """Ctrl-C once the first object came back framed (from a store that
    keeps the framing of assets, not of the manifest): the record of what
    arrived, which an interrupted run keeps, claims none of it."""
    proxy.add(is_asset_put, Rewrite(framed))
    site = site_for(tmp_path, proxy, Profile(rules=()), S3_UPLOAD_CONCURRENCY=1)

    def on_done(item: object, ok: bool) -> None:
        raise KeyboardInterrupt  # one at a time: this one was read back

    with pytest.raises(KeyboardInterrupt):
        create_all(site.app, on_done=on_done)

    assert_claims_nothing_and_marks_nothing(server_s3)


def test_the_read_back_goes_while_the_other_uploads_do(
    tmp_path: Path, proxy: FaultProxy
) -> None:
    """The first object that can be checked is read back as soon as it has
    arrived, not after the last upload: one upload at a time, its GET comes
    between the first two PUTs, and the run ends with the manifest."""
    site = site_for(tmp_path, proxy, Profile(rules=()), S3_UPLOAD_CONCURRENCY=1)

    create_all(site.app)

    assets = [
        (seen.method, seen.path)
        for seen in proxy.requests()
        if seen.path.startswith(f"/{BUCKET}/static/")
    ]
    assert [method for method, _ in assets[:3]] == ["PUT", "GET", "PUT"]
    assert assets[1][1] == assets[0][1]
    assert [method for method, _ in assets].count("GET") == 1
    assert proxy.requests()[-1].method == "PUT"  # the settled manifest


def test_the_b2_profile_refuses_what_botocore_sends_by_default(
    tmp_path: Path, proxy: FaultProxy, server_s3: S3Client
) -> None:
    """The b2-like profile bites: with boto3's own checksums the run fails,
    so its passing the flows above is the when_required default's doing."""
    (rule,) = PROFILES["b2-like"].install(proxy)
    site = site_for(
        tmp_path, proxy, PROFILES["b2-like"], S3_REQUEST_CHECKSUMS="when_supported"
    )

    with pytest.raises(FlaskS3Error):
        create_all(site.app)

    assert rule.fired


PAGES = "https://shop.example"


@pytest.mark.parametrize(
    ("quirk", "warning"),
    [
        ((bucket_call("GET", "cors"), NOT_IMPLEMENTED), "cors unsupported"),
        ((bucket_call("PUT", "cors"), NOT_IMPLEMENTED), "cors unsupported"),
        ((bucket_call("GET", "cors"), LISTING), "cors unknown"),
    ],
    ids=["no-cors-read", "no-cors-write", "cors-read-of-another-shape"],
)
def test_s3_cors_origins_on_a_store_without_bucket_cors_is_one_warning(
    tmp_path: Path,
    proxy: FaultProxy,
    server_s3: S3Client,
    caplog: pytest.LogCaptureFixture,
    quirk: tuple[Predicate, Action],
    warning: str,
) -> None:
    """The run goes on, says once that the origins are not applied, and
    never writes CORS rules it could not read."""
    (rule,) = Profile(rules=(quirk,)).install(proxy)
    site = site_for(tmp_path, proxy, Profile(rules=()), S3_CORS_ORIGINS=[PAGES])

    with caplog.at_level(logging.WARNING, logger="flask_s3"):
        result = create_all(site.app)
    with caplog.at_level(logging.WARNING, logger="flask_s3"):
        create_all(site.app)

    assert sorted(result.uploaded) == VISIBLE_KEYS
    assert rule.fired
    assert warnings_of(caplog.records) == {"created": 1, warning: 2}
    written = [
        seen
        for seen in proxy.requests()
        if seen.method == "PUT"
        and seen.query == "cors"
        and seen.outcome.startswith("forwarded")
    ]
    assert written == []
