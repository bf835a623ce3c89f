"""create_all when S3 misbehaves: faults injected by a proxy in front of moto.

Every run goes through `FaultProxy`, which forwards to the moto server and, on
cue, answers 500 or 503, resets the connection mid-request or mid-response,
answers after the read timeout, fails the manifest's GET or PUT, deletes the
bucket half-way, or lets a KeyboardInterrupt land. For each fault the tests
check three things:

- botocore's retries absorbed it (the proxy saw the retry) or the run reported
  it: `UploadFailed` naming exactly the keys that did not arrive, and why;
- the invariant: the manifest never lists a key whose object is missing or
  holds other bytes than the manifest's SHA-1. It is checked directly against
  moto after every request that changes the bucket, while the run goes on,
  and again at the end;
- convergence: one clean run brings the bucket to exactly the local files and
  a manifest of exactly them, and one more uploads nothing.

Timeouts and attempts are small, so a fault that is retried to the end costs
about a second.
"""

from __future__ import annotations

import faulthandler
import functools
import itertools
import logging
import re
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError
from flask import Flask

from flask_s3 import UploadFailed, create_all, errors
from flask_s3.adapters.manifest_store import ManifestStore, Swapped
from flask_s3.adapters.objects import Objects
from flask_s3.core.manifest import Stored
from flask_s3.core.upload_plan import PlannedAsset
from flask_s3.core.upload_result import UploadResult
from flask_s3.deploy.recording import MANIFEST_ATTEMPTS
from flask_s3.errors import BucketError
from tests.integration.fault_proxy import (
    INTERNAL_ERROR,
    SLOW_DOWN,
    FaultProxy,
    all_of,
    auditing_proxy,
    is_object_get,
    is_object_put,
)
from tests.integration.moto_site import (
    BUCKET,
    HIDDEN_KEYS,
    MANIFEST,
    VISIBLE_KEYS,
    Site,
    body_of,
    build_site,
    keys_in,
    manifest_of,
    sha1,
)
from tests.support.http_messages import Request
from tests.support.loopback_proxy import MUTATING
from tests.support.proxy_actions import (
    Action,
    Delay,
    Hold,
    Hook,
    ResetRequest,
    ResetResponse,
    S3Error,
)

if TYPE_CHECKING:
    from types_boto3_s3.client import S3Client

READ_TIMEOUT = 0.5
MAX_ATTEMPTS = 3
SLOW = READ_TIMEOUT + 0.5
"""How late a slow answer comes: past the read timeout, by a margin."""
HANG_AFTER = 90
"""Seconds after which a test is taken to hang: every thread's stack is
dumped and the session ends, rather than waiting forever."""

A = "static/css/a.css"
JS = "static/js/app.js"
ADMIN = "admin/assets/admin.css"
CHANGED = [A, JS, ADMIN]


@dataclass(frozen=True)
class Fault:
    action: Action
    reason: str
    """What UploadFailed says about a key that met the fault on every attempt."""
    lands: bool
    """Whether the server stores the object although the client sees a failure."""


FAULTS = {
    "500 InternalError": Fault(
        INTERNAL_ERROR,
        "InternalError: We encountered an internal error. Please try again.",
        lands=False,
    ),
    "503 SlowDown": Fault(
        SLOW_DOWN, "SlowDown: Please reduce your request rate.", lands=False
    ),
    "reset while reading the body": Fault(
        ResetRequest(),
        "ConnectionClosedError: Connection was closed before we received a "
        "valid response from endpoint URL",
        lands=False,
    ),
    "reset mid-response": Fault(
        ResetResponse(),
        "ConnectionClosedError: Connection was closed before we received a "
        "valid response from endpoint URL",
        lands=True,
    ),
    "answer after the read timeout": Fault(
        Delay(SLOW), "ReadTimeoutError: Read timeout on endpoint URL", lands=True
    ),
    "no answer at all": Fault(
        Delay(SLOW, forward=False),
        "ReadTimeoutError: Read timeout on endpoint URL",
        lands=False,
    ),
}


# Fixtures


@pytest.fixture(autouse=True)
def _hang_guard() -> Iterator[None]:
    """A test that hangs ends the session with every thread's stack, rather
    than never."""
    faulthandler.dump_traceback_later(HANG_AFTER, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


@pytest.fixture
def sigint_raises() -> Iterator[None]:
    """SIGINT raises KeyboardInterrupt in the main thread for the test's
    duration, as in an interactive shell, even when pytest was started with
    SIGINT ignored (as a background job of a script is); the old handler is
    restored after."""
    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


@pytest.fixture
def proxy(moto_endpoint: str, server_s3: S3Client) -> Iterator[FaultProxy]:
    """A fault proxy in front of a freshly reset moto, auditing the invariant
    after every change to the bucket."""
    with auditing_proxy(moto_endpoint, functools.partial(audit, server_s3)) as faults:
        yield faults
    assert faults.audit_failures == []


def settings_for(proxy: FaultProxy) -> dict[str, Any]:
    return {
        "S3_ENDPOINT_URL": proxy.url,
        "S3_CONNECT_TIMEOUT": 1,
        "S3_READ_TIMEOUT": READ_TIMEOUT,
        "S3_MAX_ATTEMPTS": MAX_ATTEMPTS,
        "S3_UPLOAD_CONCURRENCY": 4,
        "S3_ONLY_MODIFIED": True,
    }


@pytest.fixture
def shop(tmp_path: Path, proxy: FaultProxy) -> Site:
    return build_site(tmp_path / "site", **settings_for(proxy))


# What the bucket holds, read from moto directly


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def manifest_entries(client: S3Client) -> dict[str, str] | None:
    """The manifest's SHA-1 of each key, or None when there is no manifest
    (or no bucket)."""
    try:
        manifest = manifest_of(client)
    except ClientError as exc:
        if _code(exc) in ("NoSuchKey", "NoSuchBucket"):
            return None
        raise
    return {key: entry["sha1"] for key, entry in manifest["entries"].items()}


def assert_invariant(client: S3Client, only: str | None = None) -> None:
    """Every key the manifest lists (or just ``only``, if it lists it) is in
    the bucket with the manifest's SHA-1."""
    entries = manifest_entries(client) or {}
    if only is not None:
        entries = {only: entries[only]} if only in entries else {}
    for key, recorded in sorted(entries.items()):
        try:
            body = body_of(client, key)
        except ClientError as exc:
            if _code(exc) in ("NoSuchKey", "NoSuchBucket"):
                raise AssertionError(
                    f"the manifest lists {key}, which is not in the bucket"
                ) from None
            raise
        assert sha1(body) == recorded, (
            f"the manifest lists {key} with SHA-1 {recorded}, "
            f"the object holds {sha1(body)}"
        )


def audit(client: S3Client, request: Request) -> None:
    """The invariant, after a request that changed the bucket: a new object
    can only break it for its own key, anything else for any key."""
    if is_asset_put(request):
        assert_invariant(client, only=request.key)
    else:
        assert_invariant(client)


def is_asset_put(request: Request) -> bool:
    return is_object_put()(request) and request.key != MANIFEST


def local_keys(site: Site) -> list[str]:
    hidden = set(HIDDEN_KEYS)
    return sorted(key for key in site.local_by_key if key not in hidden)


def assert_matches_local(client: S3Client, *sites: Site) -> None:
    """The bucket holds exactly the sites' files with their local bytes, and a
    manifest of exactly them."""
    expected = {key: site.body(key) for site in sites for key in local_keys(site)}
    assert keys_in(client) == sorted([*expected, MANIFEST])
    for key, data in expected.items():
        assert body_of(client, key) == data, key
    assert manifest_entries(client) == {
        key: sha1(data) for key, data in expected.items()
    }


def mutations(proxy: FaultProxy) -> list[str]:
    return [
        f"{seen.method} {seen.path}?{seen.query}"
        for seen in proxy.requests()
        if seen.method in MUTATING
    ]


def puts(proxy: FaultProxy, key: str) -> int:
    return proxy.count("PUT", f"/{BUCKET}/{key}")


def gets(proxy: FaultProxy, key: str) -> int:
    return proxy.count("GET", f"/{BUCKET}/{key}")


def outcomes(proxy: FaultProxy, method: str, key: str) -> list[str]:
    """What the proxy did with each request to ``key``, in order."""
    return [
        seen.outcome
        for seen in proxy.requests(method)
        if seen.path == f"/{BUCKET}/{key}"
    ]


def is_conditional(request: Request) -> bool:
    return bool(request.header("If-Match") or request.header("If-None-Match"))


def assert_converges(
    proxy: FaultProxy, client: S3Client, site: Site, *others: Site
) -> UploadResult:
    """With no faults, one run brings the bucket to the local state and one
    more changes nothing; returns the first run's result."""
    assert proxy.audit_failures == []
    proxy.clear()
    result = create_all(site.app)
    for other in others:
        create_all(other.app)
    assert_invariant(client)
    assert_matches_local(client, site, *others)
    proxy.clear()
    for each in (site, *others):
        again = create_all(each.app)
        assert again.uploaded == ()
        assert again.failed == ()
    assert mutations(proxy) == []
    assert proxy.audit_failures == []
    return result


def change(site: Site, *keys: str) -> None:
    for key in keys:
        site.write(key, b"/* v2 */\n" + site.body(key))


def published(proxy: FaultProxy, site: Site) -> dict[str, str]:
    """Publish the site cleanly; returns the manifest's SHA-1s."""
    create_all(site.app)
    proxy.clear()
    return {key: sha1(site.body(key)) for key in local_keys(site)}


# Faults on asset PUTs


@pytest.mark.parametrize("fault", FAULTS.values(), ids=FAULTS)
def test_a_fault_on_the_first_attempt_is_absorbed_by_the_retries(
    proxy: FaultProxy, server_s3: S3Client, shop: Site, fault: Fault
) -> None:
    published(proxy, shop)
    change(shop, *CHANGED)
    for key in CHANGED[:2]:
        proxy.add(is_object_put(key), fault.action, times=1)

    result = create_all(shop.app)

    assert sorted(result.uploaded) == sorted(CHANGED)
    assert result.failed == ()
    # Each faulted key was retried: at least twice sent (more if the load made
    # an attempt time out).
    for key in CHANGED[:2]:
        assert puts(proxy, key) >= 2, key
    assert_invariant(server_s3)
    assert_matches_local(server_s3, shop)
    assert_converges(proxy, server_s3, shop)


def test_errors_on_a_first_run_are_absorbed_by_the_retries(
    proxy: FaultProxy, server_s3: S3Client, shop: Site
) -> None:
    failing = {
        A: INTERNAL_ERROR,
        JS: SLOW_DOWN,
        ADMIN: INTERNAL_ERROR,
        "static/img/logo.svg": SLOW_DOWN,
    }
    for key, fault in failing.items():
        proxy.add(is_object_put(key), fault, times=1)

    result = create_all(shop.app)

    assert sorted(result.uploaded) == VISIBLE_KEYS
    for key in failing:
        assert puts(proxy, key) >= 2, key  # retried
    assert_matches_local(server_s3, shop)
    assert_converges(proxy, server_s3, shop)


@pytest.mark.parametrize("fault", FAULTS.values(), ids=FAULTS)
def test_a_fault_on_every_attempt_fails_that_key_only(
    proxy: FaultProxy, server_s3: S3Client, shop: Site, fault: Fault
) -> None:
    before = published(proxy, shop)
    old = shop.body(A)
    change(shop, *CHANGED)
    proxy.add(is_object_put(A), fault.action)

    with pytest.raises(UploadFailed) as raised:
        create_all(shop.app)

    result = raised.value.result
    assert [failure.key for failure in result.failed] == [A]
    assert result.failed[0].reason.startswith(fault.reason)
    assert str(raised.value).splitlines() == [
        "1 of 3 uploads failed; run the upload again to retry them",
        f"  {A}: {result.failed[0].reason}",
    ]
    assert sorted(result.uploaded) == sorted(CHANGED[1:])
    assert puts(proxy, A) == MAX_ATTEMPTS
    # The manifest does not list it, even when the new bytes did arrive.
    assert body_of(server_s3, A) == (shop.body(A) if fault.lands else old)
    assert manifest_entries(server_s3) == {
        **{key: value for key, value in before.items() if key != A},
        **{key: sha1(shop.body(key)) for key in CHANGED[1:]},
    }
    assert_invariant(server_s3)
    assert assert_converges(proxy, server_s3, shop).uploaded == (A,)


def test_a_key_failing_on_a_first_run_is_left_out_of_the_manifest(
    proxy: FaultProxy, server_s3: S3Client, shop: Site
) -> None:
    proxy.add(is_object_put(JS), INTERNAL_ERROR)

    with pytest.raises(UploadFailed) as raised:
        create_all(shop.app)

    assert str(raised.value).splitlines() == [
        "1 of 8 uploads failed; run the upload again to retry them",
        f"  {JS}: InternalError: We encountered an internal error. Please try again.",
    ]
    assert puts(proxy, JS) == MAX_ATTEMPTS
    assert JS not in keys_in(server_s3)
    assert manifest_entries(server_s3) == {
        key: sha1(shop.body(key)) for key in VISIBLE_KEYS if key != JS
    }
    assert assert_converges(proxy, server_s3, shop).uploaded == (JS,)


# The manifest's GET


def test_a_manifest_unreadable_on_every_attempt_stops_the_run_before_any_upload(
    proxy: FaultProxy, server_s3: S3Client, shop: Site
) -> None:
    before = published(proxy, shop)
    change(shop, A)
    proxy.add(is_object_get(MANIFEST), INTERNAL_ERROR)

    with pytest.raises(errors.S3Error) as raised:
        create_all(shop.app)

    assert raised.value.code == "InternalError"
    assert (raised.value.operation, raised.value.key) == ("GetObject", MANIFEST)
    assert str(raised.value) == (
        f"S3 refused GetObject of {MANIFEST!r} in bucket {BUCKET!r}: "
        "InternalError: We encountered an internal error. Please try again."
    )
    assert gets(proxy, MANIFEST) == MAX_ATTEMPTS
    assert mutations(proxy) == []
    assert manifest_entries(server_s3) == before
    assert_invariant(server_s3)
    assert assert_converges(proxy, server_s3, shop).uploaded == (A,)


def test_each_retry_is_shown_as_it_happens(
    proxy: FaultProxy,
    server_s3: S3Client,
    shop: Site,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A slow or silent store must not look like a hang: a log record (a
    warning line on the command line) per retry, naming why."""
    published(proxy, shop)
    change(shop, A)
    proxy.add(is_object_get(MANIFEST), SLOW_DOWN, times=1)

    with caplog.at_level(logging.WARNING, logger="flask_s3"):
        create_all(shop.app)

    retries = [
        r.getMessage() for r in caplog.records if "trying again" in r.getMessage()
    ]
    # A loaded machine may also make a read time out: that retry is shown too.
    assert [m for m in retries if "SlowDown" in m] == [
        "S3 did not answer GetObject (SlowDown: Please reduce your request rate.); "
        "trying again (attempt 2)"
    ]
    assert all(
        re.fullmatch(r"S3 did not answer \w+ \(.+\); trying again \(attempt \d\)", m)
        for m in retries
    ), retries


def test_a_manifest_get_failing_once_is_retried(
    proxy: FaultProxy, server_s3: S3Client, shop: Site
) -> None:
    published(proxy, shop)
    change(shop, A)
    proxy.add(is_object_get(MANIFEST), SLOW_DOWN, times=1)

    assert create_all(shop.app).uploaded == (A,)
    # Read by the survey (twice: the retry), then again by the pending write:
    # a read that was retried timed botocore's back-off, not a round trip,
    # so it is not swapped on. The pending write's read names the ETag the
    # survey read, and the unchanged record comes without its body. Then
    # read for the final write, at least ahead.
    assert manifest_requests(proxy)[:4] == [
        "GET answered 503 SlowDown",
        "GET forwarded (200)",
        "GET forwarded (304)",
        "PUT forwarded (200)",
    ]
    assert gets(proxy, MANIFEST) >= 4
    assert puts(proxy, MANIFEST) >= 2
    assert_matches_local(server_s3, shop)
    assert_converges(proxy, server_s3, shop)


@pytest.mark.parametrize(
    ("reads", "read_before_uploads"),
    [("reads_go_stale", 2), ("reads_stay_fresh", 1)],
)
def test_a_manifest_reread_failing_after_a_first_run_is_reported(
    proxy: FaultProxy,
    server_s3: S3Client,
    shop: Site,
    request: pytest.FixtureRequest,
    reads: str,
    read_before_uploads: int,
) -> None:
    """The survey reads the manifest, and the pending write again where that
    read went stale; then every read for the final write fails: the one sent
    ahead as the last uploads went out, and the write's own."""
    request.getfixturevalue(reads)
    server_s3.create_bucket(Bucket=BUCKET)
    proxy.add(is_object_get(MANIFEST), INTERNAL_ERROR, skip=read_before_uploads)

    with pytest.raises(UploadFailed) as raised:
        create_all(shop.app)

    assert str(raised.value) == (
        "8 files were uploaded, but the manifest could not be written "
        "(InternalError: We encountered an internal error. Please try again.); "
        "the next run sends them again"
    )
    assert sorted(raised.value.result.uploaded) == VISIBLE_KEYS
    assert puts(proxy, MANIFEST) == 1  # the pending write: marks, no entries
    assert manifest_entries(server_s3) == {}
    assert sorted(assert_converges(proxy, server_s3, shop).uploaded) == VISIBLE_KEYS


@pytest.mark.usefixtures("reads_go_stale")
def test_a_manifest_reread_failing_before_replacing_files_stops_the_run(
    proxy: FaultProxy, server_s3: S3Client, shop: Site
) -> None:
    """The pending write reads the record again, the survey's read having
    gone stale, and that read fails."""
    before = published(proxy, shop)
    change(shop, A)
    proxy.add(is_object_get(MANIFEST), INTERNAL_ERROR, skip=1)

    with pytest.raises(errors.S3Error) as raised:
        create_all(shop.app)

    assert raised.value.code == "InternalError"
    assert mutations(proxy) == []
    assert manifest_entries(server_s3) == before
    assert assert_converges(proxy, server_s3, shop).uploaded == (A,)


@pytest.mark.parametrize(
    ("reads", "sequence"),
    [
        ("reads_stay_fresh", ["GET", "PUT", "GET", "PUT"]),
        ("reads_go_stale", ["GET", "GET", "PUT", "GET", "GET", "PUT"]),
    ],
)
def test_each_manifest_write_swaps_on_the_last_read_while_it_is_fresh(
    proxy: FaultProxy,
    shop: Site,
    request: pytest.FixtureRequest,
    reads: str,
    sequence: list[str],
) -> None:
    """The marks swap on the survey's read, and the final write on a read
    sent while the upload was under way (held here until that read was
    answered): two round trips fewer than a read before each write. A read
    gone stale by then is sent again by the write."""
    request.getfixturevalue(reads)
    published(proxy, shop)
    change(shop, A)
    patient(shop)
    read_during_upload = threading.Event()

    def read_ahead() -> bool:
        if len(outcomes(proxy, "GET", MANIFEST)) > sequence.index("PUT"):
            read_during_upload.set()
        return read_during_upload.is_set()

    proxy.add(is_object_put(A), Hold(read_ahead, timeout=5), times=1)

    assert create_all(shop.app).uploaded == (A,)
    assert read_during_upload.is_set()
    assert [entry.split()[0] for entry in manifest_requests(proxy)] == sequence


def is_bucket_acl_put(request: Request) -> bool:
    return request.method == "PUT" and request.key is None and request.query == "acl"


def test_the_bucket_acl_goes_out_while_the_run_marks_its_keys(
    proxy: FaultProxy, server_s3: S3Client, shop: Site
) -> None:
    """Held until the marks were written: sent after them, it would wait."""
    server_s3.create_bucket(Bucket=BUCKET)
    patient(shop)
    marked = threading.Event()

    def marks_written() -> bool:
        if outcomes(proxy, "PUT", MANIFEST):
            marked.set()
        return marked.is_set()

    proxy.add(is_bucket_acl_put, Hold(marks_written, timeout=5), times=1)

    assert sorted(create_all(shop.app).uploaded) == VISIBLE_KEYS
    assert marked.is_set()
    grants = server_s3.get_bucket_acl(Bucket=BUCKET)["Grants"]
    assert any(
        grant["Grantee"].get("URI", "").endswith("/AllUsers")
        and grant["Permission"] == "READ"
        for grant in grants
    )


@pytest.mark.parametrize("marks", ["written", "refused too"])
def test_a_bucket_acl_refused_stops_the_run_and_takes_its_marks_back(
    proxy: FaultProxy,
    server_s3: S3Client,
    shop: Site,
    marks: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """No upload starts, the ACL's error is the one raised (it came first
    when the two were sent one after the other), and the manifest marks
    nothing in flight, so no other run waits on this one's keys; the deploy
    does not count, so no hashed copy ages out of S3_PRUNE_KEEP for it."""
    published(proxy, shop)
    recorded = manifest_of(server_s3)
    server_s3.put_bucket_acl(Bucket=BUCKET, ACL="private")
    change(shop, A)
    proxy.add(is_bucket_acl_put, S3Error(403, "AccessDenied", "Access Denied"))
    if marks == "refused too":
        proxy.add(is_object_put(MANIFEST), INTERNAL_ERROR)

    with pytest.raises(errors.S3Error) as raised:
        create_all(shop.app)

    assert raised.value.code == "AccessDenied"
    assert raised.value.operation == "PutBucketAcl"
    assert [
        m for m in mutations(proxy) if not m.startswith("PUT /" + BUCKET + "?")
    ] == [f"PUT /{BUCKET}/{MANIFEST}?"] * (2 if marks == "written" else MAX_ATTEMPTS)
    manifest = manifest_of(server_s3)
    assert manifest["in_flight"] == {}
    assert manifest["deploys"] == recorded["deploys"]
    if marks == "written":  # A's entry went with the marks: its bytes change
        del recorded["entries"][A]
    else:
        assert "marks could not be written either" in caplog.text
    assert manifest["entries"] == recorded["entries"]
    proxy.clear()
    assert assert_converges(proxy, server_s3, shop).uploaded == (A,)


def test_a_ctrl_c_as_the_marks_land_takes_them_back(
    proxy: FaultProxy,
    server_s3: S3Client,
    shop: Site,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The marks' PUT landed and the interrupt came before its answer was
    taken in: the run cannot tell, so it reads the record and takes its
    marks back before it stops."""
    published(proxy, shop)
    recorded = manifest_of(server_s3)
    change(shop, A)
    swaps = itertools.count()
    original = ManifestStore.swap

    def swap(
        self: ManifestStore, key: str, etag: str | None, body: bytes
    ) -> Swapped | None:
        landed = original(self, key, etag, body)
        if next(swaps) == 0:
            raise KeyboardInterrupt
        return landed

    monkeypatch.setattr(ManifestStore, "swap", swap)

    with pytest.raises(KeyboardInterrupt):
        create_all(shop.app)

    assert [m for m in mutations(proxy) if "/static/" in m or "/admin/" in m] == []
    manifest = manifest_of(server_s3)
    assert manifest["in_flight"] == {}
    assert manifest["deploys"] == recorded["deploys"]
    del recorded["entries"][A]  # its bytes were about to change
    assert manifest["entries"] == recorded["entries"]
    monkeypatch.setattr(ManifestStore, "swap", original)
    assert assert_converges(proxy, server_s3, shop).uploaded == (A,)


@pytest.mark.usefixtures("sigint_raises")
def test_a_ctrl_c_while_the_bucket_acl_goes_takes_the_marks_back(
    proxy: FaultProxy, server_s3: S3Client, shop: Site
) -> None:
    """The ACL PUT is held until the marks were written, then SIGINT: the
    run stops before any upload and leaves nothing in flight."""
    server_s3.create_bucket(Bucket=BUCKET)
    patient(shop)
    main = threading.main_thread().ident
    assert main is not None

    def marked_then_interrupted() -> bool:
        if not outcomes(proxy, "PUT", MANIFEST):
            return False
        signal.pthread_kill(main, signal.SIGINT)
        return True

    proxy.add(is_bucket_acl_put, Hold(marked_then_interrupted, timeout=5), times=1)

    with pytest.raises(KeyboardInterrupt):
        create_all(shop.app)

    assert [m for m in mutations(proxy) if "/static/" in m or "/admin/" in m] == []
    assert manifest_of(server_s3)["in_flight"] == {}
    assert_converges(proxy, server_s3, shop)


def test_a_bucket_check_failing_on_every_attempt_is_a_clear_error(
    proxy: FaultProxy, server_s3: S3Client, shop: Site
) -> None:
    before = published(proxy, shop)
    change(shop, A)
    proxy.add(lambda request: request.method == "HEAD", INTERNAL_ERROR)

    with pytest.raises(BucketError) as raised:
        create_all(shop.app)

    assert str(raised.value) == (
        f"bucket {BUCKET!r} cannot be used: An error occurred (500) when calling "
        "the HeadBucket operation (reached max retries: 2): Internal Server Error"
    )
    assert proxy.count("HEAD", f"/{BUCKET}") == MAX_ATTEMPTS
    assert mutations(proxy) == []
    assert manifest_entries(server_s3) == before
    assert assert_converges(proxy, server_s3, shop).uploaded == (A,)


# The manifest's PUT


def test_a_manifest_put_failing_after_a_first_run_is_reported(
    proxy: FaultProxy, server_s3: S3Client, shop: Site
) -> None:
    # The pending write goes through; the final one fails.
    proxy.add(is_object_put(MANIFEST), INTERNAL_ERROR, skip=1)

    with pytest.raises(UploadFailed) as raised:
        create_all(shop.app)

    assert str(raised.value) == (
        "8 files were uploaded, but the manifest could not be written "
        "(InternalError: We encountered an internal error. Please try again.); "
        "the next run sends them again"
    )
    result = raised.value.result
    assert sorted(result.uploaded) == VISIBLE_KEYS
    assert result.failed == ()
    assert puts(proxy, MANIFEST) == 1 + MAX_ATTEMPTS
    assert manifest_entries(server_s3) == {}
    assert keys_in(server_s3) == sorted([MANIFEST, *VISIBLE_KEYS])
    for key in VISIBLE_KEYS:
        assert body_of(server_s3, key) == shop.body(key)
    assert sorted(assert_converges(proxy, server_s3, shop).uploaded) == VISIBLE_KEYS


def test_a_manifest_put_failing_after_replacing_files_leaves_the_earlier_record(
    proxy: FaultProxy, server_s3: S3Client, shop: Site
) -> None:
    before = published(proxy, shop)
    change(shop, A, JS)
    # The first PUT, of the record without the two keys, goes through.
    proxy.add(is_object_put(MANIFEST), INTERNAL_ERROR, skip=1)

    with pytest.raises(UploadFailed) as raised:
        create_all(shop.app)

    assert str(raised.value) == (
        "2 files were uploaded, but the manifest could not be written "
        "(InternalError: We encountered an internal error. Please try again.); "
        "the next run sends them again"
    )
    assert sorted(raised.value.result.uploaded) == sorted([A, JS])
    assert puts(proxy, MANIFEST) == 1 + MAX_ATTEMPTS
    assert manifest_entries(server_s3) == {
        key: value for key, value in before.items() if key not in (A, JS)
    }
    assert body_of(server_s3, A) == shop.body(A)
    assert_invariant(server_s3)
    assert sorted(assert_converges(proxy, server_s3, shop).uploaded) == sorted([A, JS])


def test_a_manifest_put_whose_answer_is_lost_is_reported_though_it_landed(
    proxy: FaultProxy, server_s3: S3Client, shop: Site
) -> None:
    published(proxy, shop)
    change(shop, A)
    proxy.add(is_object_put(MANIFEST), ResetResponse(), skip=1)

    with pytest.raises(UploadFailed) as raised:
        create_all(shop.app)

    assert str(raised.value).startswith(
        "1 file was uploaded, but the manifest could not be written "
        "(ConnectionClosedError: Connection was closed"
    )
    assert puts(proxy, MANIFEST) == 1 + MAX_ATTEMPTS
    # It did land: the record is complete, so the next run has nothing to do.
    assert_matches_local(server_s3, shop)
    assert assert_converges(proxy, server_s3, shop).uploaded == ()


def test_the_pending_manifest_failing_stops_the_run_before_any_upload(
    proxy: FaultProxy, server_s3: S3Client, shop: Site
) -> None:
    before = published(proxy, shop)
    change(shop, A)
    proxy.add(is_object_put(MANIFEST), INTERNAL_ERROR)

    with pytest.raises(errors.S3Error) as raised:
        create_all(shop.app)

    assert raised.value.code == "InternalError"
    assert (raised.value.operation, raised.value.key) == ("PutObject", MANIFEST)
    assert puts(proxy, MANIFEST) == MAX_ATTEMPTS
    assert puts(proxy, A) == 0
    assert manifest_entries(server_s3) == before
    assert assert_converges(proxy, server_s3, shop).uploaded == (A,)


@pytest.mark.parametrize("first_run", [True, False], ids=["first run", "later run"])
def test_a_manifest_put_whose_answer_is_lost_once_is_replayed(
    proxy: FaultProxy, server_s3: S3Client, shop: Site, first_run: bool
) -> None:
    """The PUT landed; botocore's retry, conditional on the record it replaced,
    is refused with 412, which the write takes for a race lost to another
    run: it reads the record again (its own) and writes onto it."""
    if not first_run:
        published(proxy, shop)
        change(shop, A)
    # The last manifest PUT of the run is the one whose answer is lost.
    proxy.add(
        is_object_put(MANIFEST), ResetResponse(), skip=0 if first_run else 1, times=1
    )

    result = create_all(shop.app)

    assert sorted(result.uploaded) == (VISIBLE_KEYS if first_run else [A])
    seen = outcomes(proxy, "PUT", MANIFEST)
    cut = seen.index("forwarded (200), answer cut")
    # The retry is refused; the record read back is the run's own, so the
    # replay either has nothing left to write or writes the rest.
    assert seen[cut + 1] == "forwarded (412)"
    assert seen[cut + 2 :] in ([], ["forwarded (200)"])
    assert_matches_local(server_s3, shop)
    assert_converges(proxy, server_s3, shop)


def test_a_manifest_put_refused_on_its_head_once_is_sent_again(
    proxy: FaultProxy, server_s3: S3Client, shop: Site
) -> None:
    """A manifest of 1 MiB or less goes without waiting for ``100 Continue``,
    so a store that refuses the write on its head (412) answers while the body
    is still coming, and resets the connection as it closes it with the body
    unread. Whether botocore reads the 412 (a race lost: the write reads the
    record again) or meets the reset (it sends the PUT again), the marks land
    before any upload and the run ends with a true record."""
    proxy.add(
        is_object_put(MANIFEST),
        S3Error(412, "PreconditionFailed", "not now", early=True),
        times=1,
    )

    result = create_all(shop.app)

    assert sorted(result.uploaded) == VISIBLE_KEYS
    seen = outcomes(proxy, "PUT", MANIFEST)
    assert seen[0] == "answered 412 PreconditionFailed early"
    assert set(seen[1:]) == {"forwarded (200)"}
    assert_matches_local(server_s3, shop)
    assert_converges(proxy, server_s3, shop)


@pytest.mark.parametrize("early", [False, True], ids=["after the body", "on the head"])
def test_a_manifest_that_keeps_changing_is_reported(
    proxy: FaultProxy, server_s3: S3Client, shop: Site, early: bool
) -> None:
    """``early``: see `test_a_manifest_put_refused_on_its_head_once_is_sent_again`."""
    proxy.add(
        is_object_put(MANIFEST),
        S3Error(
            412,
            "PreconditionFailed",
            "At least one of the pre-conditions you specified did not hold",
            early=early,
        ),
    )

    # The pending write never lands, so nothing is sent.
    with pytest.raises(BucketError) as raised:
        create_all(shop.app)

    assert str(raised.value) == (
        f"the manifest of bucket {BUCKET!r} kept changing under "
        "this run (other uploads running at once?); run the upload again"
    )
    # The run's own attempts; botocore's retries may add to them under load.
    assert puts(proxy, MANIFEST) >= MANIFEST_ATTEMPTS
    assert all(puts(proxy, key) == 0 for key in VISIBLE_KEYS)
    assert manifest_entries(server_s3) is None
    assert sorted(assert_converges(proxy, server_s3, shop).uploaded) == VISIBLE_KEYS


def test_a_store_without_conditional_writes_gets_plain_manifest_puts(
    proxy: FaultProxy,
    server_s3: S3Client,
    shop: Site,
    caplog: pytest.LogCaptureFixture,
) -> None:
    published(proxy, shop)
    change(shop, A)
    proxy.add(
        all_of(is_object_put(MANIFEST), is_conditional),
        S3Error(
            501,
            "NotImplemented",
            "A header you provided implies functionality that is not implemented",
        ),
    )

    with caplog.at_level(logging.WARNING, logger="flask_s3"):
        assert create_all(shop.app).uploaded == (A,)
    # The pending record is refused once, then written plainly, and so is
    # every later write of the run; the user is told once.
    assert outcomes(proxy, "PUT", MANIFEST) == [
        "answered 501 NotImplemented",
        "forwarded (200)",
        "forwarded (200)",
    ]
    warned = [r for r in caplog.records if "conditional writes" in r.getMessage()]
    assert len(warned) == 1
    assert "two deploys at once are not protected" in warned[0].getMessage()
    assert_matches_local(server_s3, shop)
    assert_converges(proxy, server_s3, shop)


@pytest.mark.usefixtures("reads_go_stale")
def test_after_the_survey_the_record_comes_whole_only_once_changed(
    proxy: FaultProxy, server_s3: S3Client, shop: Site
) -> None:
    """Each read names the ETag of the record as the run last read or wrote
    it: a big site's record is megabytes, and unchanged it comes without."""
    published(proxy, shop)
    change(shop, A)

    assert create_all(shop.app).uploaded == (A,)
    assert manifest_requests(proxy) == [
        "GET forwarded (200)",  # the survey's
        "GET forwarded (304)",  # the marks write's
        "PUT forwarded (200)",
        "GET forwarded (304)",  # sent ahead, stale by the time it is used
        "GET forwarded (304)",  # the settled write's
        "PUT forwarded (200)",
    ]
    assert_matches_local(server_s3, shop)


@pytest.mark.usefixtures("reads_go_stale")
def test_a_store_that_refuses_conditional_reads_is_read_plainly(
    proxy: FaultProxy, server_s3: S3Client, shop: Site
) -> None:
    published(proxy, shop)
    change(shop, A)
    proxy.add(
        all_of(is_object_get(MANIFEST), is_conditional),
        S3Error(400, "InvalidArgument", "Unsupported header 'If-None-Match'"),
    )

    assert create_all(shop.app).uploaded == (A,)
    # Refused once, asked again plainly, and from then on asked plainly.
    assert outcomes(proxy, "GET", MANIFEST) == [
        "forwarded (200)",
        "answered 400 InvalidArgument",
        *["forwarded (200)"] * 3,
    ]
    assert_matches_local(server_s3, shop)
    assert_converges(proxy, server_s3, shop)


# The bucket disappearing


def delete_bucket_after(client: S3Client, landed: int) -> Hook:
    """Delete the bucket, objects first, once ``landed`` asset PUTs went
    through. Hooks run in the order the PUTs are forwarded, one at a time, so
    exactly that many arrive."""
    calls = itertools.count(1)

    def run(_: Request) -> None:
        if next(calls) != landed + 1:
            return
        keys = keys_in(client)
        if keys:
            client.delete_objects(
                Bucket=BUCKET, Delete={"Objects": [{"Key": key} for key in keys]}
            )
        client.delete_bucket(Bucket=BUCKET)

    return Hook(run)


@pytest.mark.parametrize("first_run", [True, False], ids=["first run", "later run"])
def test_the_bucket_deleted_mid_run_is_reported_and_a_rerun_recreates_it(
    proxy: FaultProxy, server_s3: S3Client, shop: Site, first_run: bool
) -> None:
    if first_run:
        changed = VISIBLE_KEYS
    else:
        published(proxy, shop)
        changed = sorted(VISIBLE_KEYS)[:6]
        change(shop, *changed)
    proxy.add(is_asset_put, delete_bucket_after(server_s3, landed=3))

    with pytest.raises(UploadFailed) as raised:
        create_all(shop.app)

    result = raised.value.result
    lines = str(raised.value).splitlines()
    # The three that landed went with the bucket: none is counted as stored.
    assert lines[0] == (
        f"bucket {BUCKET!r} was deleted during the run, so none of the "
        f"{len(changed)} files sent is stored; run the upload again to create it"
    )
    assert result.uploaded == ()
    assert sorted(f.key for f in result.failed) == changed
    reasons = [failure.reason for failure in result.failed]
    assert reasons.count("the bucket was deleted during the run") == 3
    assert set(reasons) == {
        "the bucket was deleted during the run",
        "NoSuchBucket: The specified bucket does not exist",
    }
    assert lines[1:] == [f"  {f.key}: {f.reason}" for f in result.failed]
    with pytest.raises(ClientError) as gone:
        server_s3.head_bucket(Bucket=BUCKET)
    assert _code(gone.value) == "404"
    assert sorted(assert_converges(proxy, server_s3, shop).uploaded) == VISIBLE_KEYS


# Interrupted runs


def with_extra_files(site: Site, count: int = 12) -> None:
    for number in range(count):
        site.add("static", f"extra/{number:02}.css", f".x{number} {{}}\n".encode())


def assert_records_what_arrived(
    proxy: FaultProxy, client: S3Client, site: Site, before: dict[str, str]
) -> list[str]:
    """After an interrupted run that replaced every file: the manifest lists
    exactly the files that arrived, with their new SHA-1, and nothing else
    was sent. Returns the keys that did not arrive."""
    entries = manifest_entries(client)
    assert entries is not None
    sent = sorted(key for key in local_keys(site) if puts(proxy, key))
    assert sorted(entries) == sent
    assert entries == {key: sha1(site.body(key)) for key in sent}
    missing = sorted(set(local_keys(site)) - set(sent))
    assert missing, "every file arrived before the interruption"
    for key in missing:
        assert sha1(body_of(client, key)) == before[key], key
    assert_invariant(client)
    return missing


def test_a_keyboard_interrupt_keeps_the_record_of_what_arrived(
    proxy: FaultProxy, server_s3: S3Client, shop: Site
) -> None:
    with_extra_files(shop)
    before = published(proxy, shop)
    change(shop, *local_keys(shop))
    done: list[str] = []

    def on_done(item: PlannedAsset, ok: bool) -> None:
        done.append(item.key)
        if len(done) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        create_all(shop.app, on_done=on_done)

    missing = assert_records_what_arrived(proxy, server_s3, shop, before)
    assert sorted(assert_converges(proxy, server_s3, shop).uploaded) == missing


def assert_interrupted_safely(
    proxy: FaultProxy, client: S3Client, site: Site, before: dict[str, str]
) -> None:
    """Wherever an interruption landed in a run that replaced every file: the
    manifest lists only files that were sent, with their new SHA-1, and the
    files that were not sent still hold their old bytes."""
    entries = manifest_entries(client)
    assert entries is not None
    sent = {key for key in local_keys(site) if puts(proxy, key)}
    assert set(entries) <= sent
    assert entries == {key: sha1(site.body(key)) for key in entries}
    for key in sorted(set(local_keys(site)) - sent):
        assert sha1(body_of(client, key)) == before[key], key
    assert_invariant(client)


@pytest.mark.usefixtures("sigint_raises")
def test_a_sigint_during_the_uploads_leaves_a_true_record(
    proxy: FaultProxy,
    server_s3: S3Client,
    shop: Site,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A real SIGINT, delivered to the main thread as the third upload starts,
    as Ctrl-C would be; where the main thread is at that moment is up to the
    scheduler."""
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    with_extra_files(shop)
    before = published(proxy, shop)
    change(shop, *local_keys(shop))
    calls = itertools.count(1)
    original = Objects.upload
    main = threading.main_thread().ident
    assert main is not None

    def upload(self: Objects, item: PlannedAsset) -> Stored:
        if next(calls) == 3:
            signal.pthread_kill(main, signal.SIGINT)
        return original(self, item)

    monkeypatch.setattr(Objects, "upload", upload)

    with pytest.raises(KeyboardInterrupt):
        create_all(shop.app)

    monkeypatch.setattr(Objects, "upload", original)
    assert_interrupted_safely(proxy, server_s3, shop, before)
    entries = manifest_entries(server_s3) or {}
    resent = assert_converges(proxy, server_s3, shop).uploaded
    assert sorted(resent) == sorted(set(local_keys(shop)) - set(entries))


# Runs at once


def run_at_once(*sites: Site) -> list[UploadResult | BaseException]:
    start = threading.Barrier(len(sites))
    outcomes: list[UploadResult | BaseException] = [
        RuntimeError("did not finish")
    ] * len(sites)

    def run(index: int, site: Site) -> None:
        start.wait(timeout=10)
        try:
            outcomes[index] = create_all(site.app)
        except BaseException as exc:
            outcomes[index] = exc

    threads = [
        threading.Thread(target=run, args=(index, site), daemon=True)
        for index, site in enumerate(sites)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return outcomes


def assert_both_covered(
    one: UploadResult | BaseException,
    two: UploadResult | BaseException,
    changed: list[str],
) -> None:
    """Both runs succeeded, and each changed file was sent by at least one of
    them: the later run skips what the earlier one recorded in time."""
    assert isinstance(one, UploadResult), one
    assert isinstance(two, UploadResult), two
    for result in (one, two):
        assert sorted([*result.uploaded, *result.skipped]) == VISIBLE_KEYS
        assert set(result.uploaded) <= set(changed)
    assert set(one.uploaded) | set(two.uploaded) == set(changed)


def test_one_app_published_twice_at_once_into_a_missing_bucket(
    proxy: FaultProxy, server_s3: S3Client, shop: Site
) -> None:
    """Both runs find no bucket and create it, then upload the same files."""
    one, two = run_at_once(shop, shop)

    assert_both_covered(one, two, VISIBLE_KEYS)
    assert_invariant(server_s3)
    assert_matches_local(server_s3, shop)
    assert_converges(proxy, server_s3, shop)


def test_one_app_published_twice_at_once_replacing_files(
    proxy: FaultProxy, server_s3: S3Client, shop: Site
) -> None:
    published(proxy, shop)
    change(shop, *CHANGED)

    one, two = run_at_once(shop, shop)

    assert_both_covered(one, two, CHANGED)
    assert_invariant(server_s3)
    assert_matches_local(server_s3, shop)
    assert_converges(proxy, server_s3, shop)


def other_site(root: Path, proxy: FaultProxy) -> Site:
    """Another app, with other files, publishing to the same bucket and
    S3_PREFIX as the test site."""
    site = Site(Flask("other", root_path=str(root)), root)
    for number in range(6):
        site.add("static", f"other/{number}.css", f".other{number} {{}}\n".encode())
    site.app.config.update({"S3_BUCKET_NAME": BUCKET, **settings_for(proxy)})
    return site


def test_two_apps_published_at_once_keep_both_records(
    proxy: FaultProxy, server_s3: S3Client, shop: Site, tmp_path: Path
) -> None:
    other = other_site(tmp_path / "other", proxy)
    published(proxy, shop)
    create_all(other.app)
    change(shop, A, JS)
    change(other, *local_keys(other)[:3])
    proxy.clear()

    one, two = run_at_once(shop, other)

    assert isinstance(one, UploadResult), one
    assert isinstance(two, UploadResult), two
    assert sorted(one.uploaded) == sorted([A, JS])
    assert sorted(two.uploaded) == local_keys(other)[:3]
    assert_invariant(server_s3)
    assert_matches_local(server_s3, shop, other)
    assert_converges(proxy, server_s3, shop, other)


def manifest_read(proxy: FaultProxy, times: int) -> Hold:
    """Hold a request until the manifest was read ``times`` times: until moto
    answered, so that what those reads saw is settled."""
    return Hold(lambda: len(outcomes(proxy, "GET", MANIFEST)) >= times, timeout=10)


def patient(*sites: Site) -> None:
    """A held request must not time out at the client: its retry would not
    be held."""
    for site in sites:
        site.app.config["S3_READ_TIMEOUT"] = 15


def manifest_requests(proxy: FaultProxy) -> list[str]:
    return [
        f"{seen.method} {seen.outcome}"
        for seen in proxy.requests()
        if seen.path == f"/{BUCKET}/{MANIFEST}"
    ]


def race_first_writes(
    proxy: FaultProxy, server_s3: S3Client, reads_before_put: int, *sites: Site
) -> None:
    """Run the sites at once, the first manifest write held until both runs
    read the record: both succeed, true, and the second write was refused
    and replayed."""
    proxy.add(is_object_put(MANIFEST), manifest_read(proxy, reads_before_put), times=1)

    one, two = run_at_once(*sites)

    assert [entry.split()[0] for entry in manifest_requests(proxy)][
        : reads_before_put + 1
    ] == [*["GET"] * reads_before_put, "PUT"]
    assert isinstance(one, UploadResult), one
    assert isinstance(two, UploadResult), two
    assert proxy.audit_failures == []
    assert_matches_local(server_s3, *sites)
    assert "forwarded (412)" in outcomes(proxy, "PUT", MANIFEST)
    assert_converges(proxy, server_s3, *sites)


@pytest.fixture(
    params=[("reads_go_stale", 4), ("reads_stay_fresh", 2)], ids=["stale", "fresh"]
)
def reads_before_put(request: pytest.FixtureRequest) -> int:
    """How many reads of the manifest two runs make before the first write:
    each run's survey reads it, and where that read went stale by the
    pending write, the write reads it again."""
    reads, count = request.param
    request.getfixturevalue(reads)
    return int(count)


def test_two_runs_writing_their_pending_records_from_one_read(
    proxy: FaultProxy,
    server_s3: S3Client,
    shop: Site,
    tmp_path: Path,
    reads_before_put: int,
) -> None:
    """Both runs replace a file, and both read the manifest before either
    writes the record without it: the second write must not put back, with
    its old SHA-1, the entry the first removed, since the first run is about
    to upload new bytes under it (the audit would see them)."""
    other = other_site(tmp_path / "other", proxy)
    published(proxy, shop)
    create_all(other.app)
    change(shop, A)
    change(other, local_keys(other)[0])
    patient(shop, other)
    proxy.clear()
    race_first_writes(proxy, server_s3, reads_before_put, shop, other)


def test_two_first_runs_writing_their_records_from_one_read(
    proxy: FaultProxy,
    server_s3: S3Client,
    shop: Site,
    tmp_path: Path,
    reads_before_put: int,
) -> None:
    """Two first runs into an empty bucket both read the (missing) manifest
    before either writes: the second record must keep the first's keys."""
    other = other_site(tmp_path / "other", proxy)
    server_s3.create_bucket(Bucket=BUCKET)
    patient(shop, other)
    race_first_writes(proxy, server_s3, reads_before_put, shop, other)


@pytest.mark.usefixtures("sigint_raises")
def test_a_sigint_while_the_uploads_are_submitted_keeps_the_record_of_what_arrived(
    proxy: FaultProxy, server_s3, shop: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real SIGINT to the main thread while the third upload starts, when the
    main thread is usually still submitting uploads: the record still lists
    exactly what arrived, and the next run sends the rest."""
    with_extra_files(shop)
    before = published(proxy, shop)
    change(shop, *local_keys(shop))
    calls = itertools.count(1)
    original = Objects.upload
    main = threading.main_thread().ident

    def upload(self: Objects, item: PlannedAsset) -> Stored:
        if next(calls) == 3:
            signal.pthread_kill(main, signal.SIGINT)
        return original(self, item)

    monkeypatch.setattr(Objects, "upload", upload)
    with pytest.raises(KeyboardInterrupt):
        create_all(shop.app)
    monkeypatch.setattr(Objects, "upload", original)
    missing = assert_records_what_arrived(proxy, server_s3, shop, before)
    assert sorted(assert_converges(proxy, server_s3, shop).uploaded) == missing


def test_a_keyboard_interrupt_raised_in_an_upload_thread_is_re_raised(
    proxy: FaultProxy, server_s3, shop: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Objects.upload raising KeyboardInterrupt (on its 5th call, in a worker
    thread) stops the run like a Ctrl-C, rather than being counted as one
    failed upload while the others carry on. (A real Ctrl-C is delivered to
    the main thread; this is code that raises KeyboardInterrupt itself.)"""
    with_extra_files(shop)
    published(proxy, shop)
    change(shop, *local_keys(shop))
    calls = itertools.count(1)
    original = Objects.upload

    def upload(self: Objects, item: PlannedAsset) -> Stored:
        if next(calls) == 5:
            raise KeyboardInterrupt
        return original(self, item)

    monkeypatch.setattr(Objects, "upload", upload)
    # An UploadFailed instead (the interrupt counted as one failed upload)
    # propagates out of pytest.raises and fails the test.
    with pytest.raises(KeyboardInterrupt):
        create_all(shop.app)
