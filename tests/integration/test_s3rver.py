"""Every flow against s3rver, a second real S3 server, over HTTP and HTTPS.

Moto is kinder than any real store; s3rver (Node) is another implementation
with gaps of its own: no bucket ACLs, no Block Public Access, no policies, a
listing where S3 answers ?ownershipControls, and If-None-Match / If-Match on
PUT silently ignored. The app is configured as a user would: S3_ENDPOINT_URL
and S3_BUCKET_NAME, credentials in the environment, and over HTTPS the
self-signed certificate's CA in AWS_CA_BUNDLE (which botocore reads). After
every run the bucket holds the local bytes with their Content-Types, the
manifest lists only what the bucket holds, and the URLs the app's templates
render fetch those bytes from s3rver, anonymously.

Skipped, with the reason, when s3rver is not installed
(.ci/install-test-servers installs it).
"""

from __future__ import annotations

import itertools
import json
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import render_template_string

from flask_s3 import FlaskS3, ManifestError, S3Error, UploadFailed, create_all
from flask_s3.core import resolve_settings
from flask_s3.core.upload_result import UploadResult
from flask_s3.deploy import DeployOptions, plan
from flask_s3.flask.static_roots import static_roots
from tests.integration.moto_site import (
    CONTENT_TYPES,
    MANIFEST,
    SERVED_AT,
    VISIBLE_KEYS,
    Site,
    body_of,
    build_site,
    relative_of,
)
from tests.integration.stores import (
    MISSING_S3RVER,
    S3RVER_KEY,
    Profile,
    S3rver,
    assert_bucket_holds,
    assert_manifest_honest,
    hashed_key,
    key_of_url,
    local_files,
    plain_key,
    running_s3rver,
    s3rver_binary,
    warnings_of,
)

A = "static/css/a.css"
JS = "static/js/app.js"
S3RVER = Profile(
    rules=(),
    survey_unknown=(
        "Object Ownership",
        "Block Public Access",
        "the bucket policy",
        "the bucket ACL",
    ),
    bucket_acl=False,
)
"""What s3rver 3.7 lacks, as observed: each survey read is answered in a
way we do not understand (a listing for ?ownershipControls, 501 for
?publicAccessBlock and ?acl, 405 for ?policy), and PutBucketAcl is 501. It
takes x-amz-acl and If-None-Match on PUT without a word, and ignores them."""
_buckets = itertools.count(1)


@pytest.fixture(scope="session", params=["http", "https"])
def s3rver(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[S3rver]:
    binary = s3rver_binary()
    if binary is None:
        pytest.skip(MISSING_S3RVER)
    directory = tmp_path_factory.mktemp(f"s3rver-{request.param}")
    with running_s3rver(binary, directory, tls=request.param == "https") as server:
        yield server


@pytest.fixture
def store(s3rver: S3rver, monkeypatch: pytest.MonkeyPatch) -> S3rver:
    """s3rver, with its account's keys in the environment and, over HTTPS,
    its certificate's CA where botocore looks for one."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", S3RVER_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", S3RVER_KEY)
    if s3rver.ca_bundle is not None:
        monkeypatch.setenv("AWS_CA_BUNDLE", str(s3rver.ca_bundle))
    return s3rver


@pytest.fixture
def bucket() -> str:
    """A bucket of its own for each test: s3rver keeps its data all session."""
    return f"flask-s3-{next(_buckets)}"


def site_for(root: Path, store: S3rver, bucket: str, **config: Any) -> Site:
    """The test site with only the endpoint and the bucket set for URLs (and
    the deploy knobs a flow needs)."""
    return build_site(
        root,
        S3_ENDPOINT_URL=store.url,
        S3_BUCKET_NAME=bucket,
        S3_ONLY_MODIFIED=True,
        **config,
    )


def endpoint_of(key: str) -> str:
    """The static endpoint that serves a key of the test site."""
    if key.startswith(SERVED_AT["child_static"] + "/"):
        return "admin.child.static"
    if key.startswith(SERVED_AT["admin_static"] + "/"):
        return "admin.static"
    return "static"


def assert_urls_fetch(site: Site, store: S3rver, bucket: str, *, hashed: bool) -> None:
    """The URLs the app's templates render point at s3rver (path style, the
    endpoint's scheme and port), and fetch each local file's bytes with its
    Content-Type, anonymously."""
    FlaskS3(site.app)
    files = local_files(site)
    template = "\n".join(
        f"{{{{ url_for({endpoint_of(key)!r}, filename={relative_of(key)!r}) }}}}"
        for key in files
    )
    with site.app.test_request_context():
        urls = render_template_string(template).split("\n")
    for (key, data), url in zip(files.items(), urls, strict=True):
        assert url.startswith(f"{store.url}/{bucket}/"), url
        expected = hashed_key(key, data) if hashed else key
        assert key_of_url(url, bucket) == expected
        body, content_type = store.fetch(url)
        assert body == data, url
        assert content_type == CONTENT_TYPES[plain_key(expected)], url


class Runs:
    def __init__(self, site: Site, caplog: pytest.LogCaptureFixture) -> None:
        self.site, self.caplog = site, caplog

    def run(self, *, cold: bool = False) -> UploadResult:
        self.caplog.clear()
        with self.caplog.at_level(logging.WARNING, logger="flask_s3"):
            result = create_all(self.site.app)
        uploads = bool(result.uploaded or result.fixed or result.deleted)
        assert warnings_of(self.caplog.records) == S3RVER.expected(
            cold=cold, uploads=uploads
        )
        return result

    def nothing_changes(self) -> None:
        again = self.run()
        assert (again.uploaded, again.fixed, again.deleted) == ((), (), ())


def test_plan_cold_upload_no_change_and_one_changed_file(
    tmp_path: Path, store: S3rver, bucket: str, caplog: pytest.LogCaptureFixture
) -> None:
    site = site_for(tmp_path / "site", store, bucket)
    client = store.client()

    before = plan(
        static_roots(site.app), resolve_settings(site.app.config), DeployOptions()
    ).report()
    assert before.bucket_exists is False
    assert before.totals["upload"].count == len(VISIBLE_KEYS)
    assert before.example_url is not None
    assert before.example_url.startswith(f"{store.url}/{bucket}/")

    runs = Runs(site, caplog)
    assert sorted(runs.run(cold=True).uploaded) == VISIBLE_KEYS
    assert_bucket_holds(client, bucket, local_files(site))
    assert sorted(assert_manifest_honest(client, bucket)) == VISIBLE_KEYS
    assert_urls_fetch(site, store, bucket, hashed=False)

    after = plan(
        static_roots(site.app), resolve_settings(site.app.config), DeployOptions()
    ).report()
    assert after.bucket_exists is True
    assert after.manifest == "flask-s3"
    assert not after.has_changes
    runs.nothing_changes()

    site.write(A, b"/* v2 */\n" + site.body(A))
    assert runs.run().uploaded == (A,)
    assert_bucket_holds(client, bucket, local_files(site))
    assert sorted(assert_manifest_honest(client, bucket)) == VISIBLE_KEYS
    assert_urls_fetch(site, store, bucket, hashed=False)
    runs.nothing_changes()


def test_the_cors_rule_lets_the_pages_origin_read_the_assets(
    tmp_path: Path, store: S3rver, bucket: str, caplog: pytest.LogCaptureFixture
) -> None:
    """s3rver answers an Origin from the bucket's rules, as S3 does: the
    rule the upload wrote is one it understands."""
    pages = "https://shop.example"
    site = site_for(tmp_path / "site", store, bucket, S3_CORS_ORIGINS=[pages])

    with caplog.at_level(logging.WARNING, logger="flask_s3"):
        create_all(site.app)

    assert "cors blocked" not in warnings_of(caplog.records)
    font = f"{store.url}/{bucket}/static/fonts/f.woff2"
    assert store.allowed_origin(font, pages) == pages
    assert store.allowed_origin(font, "https://elsewhere.example") is None
    rules = store.client().get_bucket_cors(Bucket=bucket)["CORSRules"]
    assert [(r.get("ID"), r["AllowedOrigins"]) for r in rules] == [
        ("flask-s3", [pages])
    ]


def test_hashed_copies_and_pruning(
    tmp_path: Path, store: S3rver, bucket: str, caplog: pytest.LogCaptureFixture
) -> None:
    site = site_for(
        tmp_path / "site", store, bucket, S3_CACHE_BUSTING="filename", S3_PRUNE=True
    )
    client = store.client()
    runs = Runs(site, caplog)
    v1 = local_files(site)
    copies = {hashed_key(key, data): data for key, data in v1.items()}

    runs.run(cold=True)
    assert_bucket_holds(client, bucket, {**v1, **copies})
    assert_manifest_honest(client, bucket)
    assert_urls_fetch(site, store, bucket, hashed=True)

    a2 = b"/* v2 */\n" + v1[A]
    site.write(A, a2)
    site.path(JS).unlink()
    assert runs.run().deleted == (JS,)
    assert_bucket_holds(
        client, bucket, {**local_files(site), **copies, hashed_key(A, a2): a2}
    )
    assert_manifest_honest(client, bucket)
    assert_urls_fetch(site, store, bucket, hashed=True)

    a3 = b"/* v3 */\n" + v1[A]
    site.write(A, a3)
    assert sorted(runs.run().deleted) == sorted(
        [hashed_key(A, v1[A]), hashed_key(JS, v1[JS])]
    )
    v3 = local_files(site)
    kept = {hashed_key(key, data): data for key, data in v3.items() if key != A}
    assert_bucket_holds(
        client, bucket, {**v3, **kept, hashed_key(A, a2): a2, hashed_key(A, a3): a3}
    )
    assert_manifest_honest(client, bucket)
    assert_urls_fetch(site, store, bucket, hashed=True)
    runs.nothing_changes()


def test_two_first_deploys_at_once(
    tmp_path: Path, store: S3rver, bucket: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Two checkouts of one release deploy to a bucket that does not exist
    yet, at the same moment: both create it (s3rver answers the second
    BucketAlreadyExists), both succeed, and the bucket and manifest are true.
    s3rver ignores the conditions on manifest writes, so a write may be lost:
    the manifest may then know less, never more, and the next run completes
    it."""
    sites = [site_for(tmp_path / f"site{n}", store, bucket) for n in (1, 2)]
    start = threading.Barrier(2)
    results: list[UploadResult | BaseException] = []

    def deploy(site: Site) -> None:
        start.wait()
        try:
            results.append(create_all(site.app))
        except BaseException as exc:  # reported below, in the test's thread
            results.append(exc)

    with caplog.at_level(logging.WARNING, logger="flask_s3"):
        threads = [threading.Thread(target=deploy, args=(s,)) for s in sites]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert len(results) == 2
    client = store.client()
    assert_bucket_holds(client, bucket, local_files(sites[0]))
    try:
        json.loads(body_of(client, MANIFEST, bucket))
    except ValueError as exc:
        # The two PUTs of the manifest were interleaved into one file: the
        # next run must refuse it, and say how to recover.
        with pytest.raises(ManifestError, match="delete it"):
            create_all(sites[0].app)
        pytest.xfail(
            "s3rver 3.7 overwrites an object in place, not atomically: two "
            f"manifest PUTs at once left a mix of both ({exc})"
        )
    assert set(assert_manifest_honest(client, bucket)) <= set(VISIBLE_KEYS)
    # A run that read the manifest while the other one was writing it.
    torn = [result for result in results if torn_read(result) is not None]
    assert [r for r in results if not isinstance(r, UploadResult)] == torn
    seen = warnings_of(caplog.records)
    # s3rver answers InternalError to a GET of an object another PUT is
    # rewriting in place; botocore's retry (a documented warning) reads it whole.
    assert set(seen) <= {"created", "unchecked", "bucket acl", "retry", "cors blocked"}
    # A run stopped by a torn read before the uploads (in the survey, or in
    # its pending write, after its bucket ACL attempt) may or may not have
    # tried the ACL; every run that went on did.
    stopped_early = [r for r in torn if not isinstance(r, UploadFailed)]
    assert 2 - len(stopped_early) <= seen["bucket acl"] <= 2

    Runs(sites[0], caplog).run()  # sends whatever a lost write forgot
    assert sorted(assert_manifest_honest(client, bucket)) == VISIBLE_KEYS
    for site in sites:
        Runs(site, caplog).nothing_changes()
    assert_urls_fetch(sites[1], store, bucket, hashed=False)
    if torn:
        # Everything above held; only "both succeed" did not, for s3rver's
        # reason: it overwrites a key in place, so a GET during another PUT
        # of the same key reads a truncated or mixed body.
        pytest.xfail(
            "s3rver 3.7 overwrites an object in place, not atomically: a run "
            "read the manifest while the other run was writing it and stopped "
            f"({torn_read(torn[0])})"
        )


def torn_read(result: object) -> Exception | None:
    """The error a run stopped on when it read an object while the other
    run's PUT was rewriting it in place: the manifest cut short (s3rver
    announced the old length) or not JSON, directly (its survey) or under
    UploadFailed (its manifest write); or the asset its read-back check
    fetched, cut short the same way; or a GET s3rver failed with
    InternalError on every try, having caught the object half rewritten."""
    if isinstance(result, UploadFailed):
        result = result.__cause__
    if isinstance(result, ManifestError) and "is not valid" in str(result):
        return result
    if (
        isinstance(result, S3Error)
        and result.operation == "GetObject"
        and ("IncompleteRead" in str(result) or result.code == "InternalError")
    ):
        return result
    return None


def test_botocore_checksums_are_caught_by_the_read_back(
    tmp_path: Path, store: S3rver, bucket: str
) -> None:
    """With boto3's own checksums (when_supported), over HTTP botocore sends
    a CRC32 header s3rver ignores, and the run succeeds; over HTTPS it sends
    aws-chunked bodies with trailers, which s3rver keeps as the objects (the
    manifest too): the read-back stops the first upload, naming
    S3_REQUEST_CHECKSUMS and the manifest to delete."""
    site = site_for(
        tmp_path / "site", store, bucket, S3_REQUEST_CHECKSUMS="when_supported"
    )
    client = store.client()
    if store.ca_bundle is None:
        assert sorted(create_all(site.app).uploaded) == VISIBLE_KEYS
        assert_bucket_holds(client, bucket, local_files(site))
        assert_manifest_honest(client, bucket)
        return
    with pytest.raises(S3Error) as raised:
        create_all(site.app)
    message = str(raised.value)
    assert "S3_REQUEST_CHECKSUMS" in message
    assert f"delete {MANIFEST!r}" in message
    framed = body_of(client, raised.value.key or "", bucket)
    assert framed != site.body(raised.value.key or "")
