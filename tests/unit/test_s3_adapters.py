"""The S3 adapters' translation of S3 answers, with botocore's Stubber."""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import threading
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.response import StreamingBody
from botocore.stub import Stubber

from flask_s3.adapters.aws import (
    CHECKSUM_VARIABLE,
    Credentials,
    checksum_mode,
    describe_error,
    make_s3_client,
)
from flask_s3.adapters.bucket_survey import Surveyor
from flask_s3.adapters.manifest_store import ManifestStore
from flask_s3.adapters.objects import Objects
from flask_s3.core import resolve_settings
from flask_s3.core.bucket_survey import BucketSurvey, public_read_warnings
from flask_s3.core.manifest import Stored
from flask_s3.errors import BucketError, S3Error

NAME = "shop-assets"


@pytest.fixture
def stubbed() -> Iterator[tuple[Surveyor, Stubber]]:
    client = boto3.client("s3", region_name="eu-west-1")
    with Stubber(client) as stubber:
        yield Surveyor(client, NAME), stubber
        stubber.assert_no_pending_responses()


def head_error(
    stubber: Stubber, status: int, code: str, headers: dict[str, str] | None = None
) -> None:
    stubber.add_client_error(
        "head_bucket",
        service_error_code=code,
        http_status_code=status,
        response_meta={"HTTPHeaders": headers or {}},
        expected_params={"Bucket": NAME},
    )


def test_existing_bucket(stubbed: tuple[Surveyor, Stubber]) -> None:
    bucket, stubber = stubbed
    stubber.add_response("head_bucket", {}, {"Bucket": NAME})
    assert bucket.exists() is True


@pytest.mark.parametrize(
    ("region", "configuration"),
    [
        (
            "eu-west-1",
            {"CreateBucketConfiguration": {"LocationConstraint": "eu-west-1"}},
        ),
        ("us-east-1", {}),
        (None, {}),
    ],
)
def test_missing_bucket_is_created_with_its_location(
    stubbed: tuple[Surveyor, Stubber],
    region: str | None,
    configuration: dict[str, object],
) -> None:
    bucket, stubber = stubbed
    head_error(stubber, 404, "404")
    stubber.add_response("create_bucket", {}, {"Bucket": NAME, **configuration})
    assert bucket.exists() is False
    bucket.create(region)


def test_wrong_region_names_the_bucket_and_its_region(
    stubbed: tuple[Surveyor, Stubber],
) -> None:
    bucket, stubber = stubbed
    head_error(stubber, 301, "301", {"x-amz-bucket-region": "ap-south-1"})
    with pytest.raises(
        BucketError,
        match=r"'shop-assets' is in region 'ap-south-1'.*S3_REGION to ap-south-1",
    ):
        bucket.exists()


def test_forbidden_bucket_says_what_to_check(stubbed: tuple[Surveyor, Stubber]) -> None:
    bucket, stubber = stubbed
    head_error(stubber, 403, "403")
    with pytest.raises(BucketError) as raised:
        bucket.exists()
    message = str(raised.value)
    assert "'shop-assets'" in message
    assert "credentials" in message
    assert "s3:ListBucket" in message


def _error(code: str, operation: str = "Op", status: int = 400) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": code, "Message": f"{code} message"},
            "ResponseMetadata": {"HTTPStatusCode": status},
        },
        operation,
    )


class _Store:
    """A bucket whose survey answers are given per read: a dict is the
    answer, an exception is raised. By default, a bucket with none of the
    optional configurations, and no manifest."""

    def __init__(self, **answers: Any) -> None:
        self.answers: dict[str, Any] = {
            "get_bucket_ownership_controls": _error("OwnershipControlsNotFoundError"),
            "get_public_access_block": _error("NoSuchPublicAccessBlockConfiguration"),
            "get_bucket_policy": _error("NoSuchBucketPolicy"),
            "get_bucket_acl": {"Grants": []},
            **answers,
        }

    def head_bucket(self, **_: Any) -> dict[str, Any]:
        return {}

    def get_object(self, **_: Any) -> dict[str, Any]:
        raise _error("NoSuchKey", "GetObject", 404)

    def __getattr__(self, name: str) -> Any:
        answer = self.answers[name]

        def read(**_: Any) -> Any:
            if isinstance(answer, Exception):
                raise answer
            return answer

        return read


def survey_of(**answers: Any) -> BucketSurvey:
    return Surveyor(_Store(**answers), NAME).survey("")  # type: ignore[arg-type]


def test_acls_are_accepted_without_ownership_controls() -> None:
    survey = survey_of()
    assert survey.accepts_acls is True
    assert survey.unchecked == ()
    assert survey.blocks_public_access is False
    assert survey.policy_grants_public_read is False


@pytest.mark.parametrize(
    ("ownership", "accepts"),
    [
        ("BucketOwnerEnforced", False),
        ("BucketOwnerPreferred", True),
        ("ObjectWriter", True),
    ],
)
def test_bucket_owner_enforced_takes_no_acls(
    caplog: pytest.LogCaptureFixture, ownership: str, accepts: bool
) -> None:
    controls = {"OwnershipControls": {"Rules": [{"ObjectOwnership": ownership}]}}
    with caplog.at_level(logging.INFO, logger="flask_s3"):
        assert survey_of(get_bucket_ownership_controls=controls).accepts_acls is accepts
    explained = [
        record
        for record in caplog.records
        if "BucketOwnerEnforced" in record.getMessage()
    ]
    assert len(explained) == (0 if accepts else 1)


def test_reads_we_may_not_make_are_unknown_and_quiet() -> None:
    denied = _error("AccessDenied", status=403)
    survey = survey_of(
        get_bucket_ownership_controls=denied,
        get_public_access_block=denied,
        get_bucket_policy=denied,
        get_bucket_acl=denied,
    )
    assert survey.accepts_acls is True  # ACLs are sent as configured
    assert (
        survey.blocks_public_access,
        survey.policy_grants_public_read,
        survey.acl_grants_public_read,
    ) == (None, None, None)
    assert survey.unchecked == ()


@pytest.mark.parametrize(
    "quirk",
    [
        pytest.param(_error("NotImplemented", status=501), id="minio-501"),
        pytest.param(_error("InvalidRequest"), id="unknown-error"),
        pytest.param({"Buckets": [], "Owner": {}}, id="a-listing-instead"),
        pytest.param({"OwnershipControls": {}}, id="no-rules"),
        pytest.param(
            {"PublicAccessBlockConfiguration": {}}, id="a-listing-parsed-by-botocore"
        ),
    ],
)
def test_an_answer_not_understood_is_unknown_and_named_never_a_stop(
    quirk: Any,
) -> None:
    """A store that ignores ?ownershipControls and answers with a bucket
    listing, or answers 501: the run goes on, with one warning."""
    survey = survey_of(
        get_bucket_ownership_controls=quirk,
        get_public_access_block=quirk,
        get_bucket_policy=quirk,
        get_bucket_acl=quirk,
    )
    assert survey.exists
    assert survey.accepts_acls is True
    assert len(survey.unchecked) == 4
    assert survey.unchecked[0].startswith("Object Ownership (")
    (warning,) = [
        w for w in public_read_warnings(survey, "public-read") if "check" in w
    ]
    assert warning.startswith("could not check Object Ownership (")
    assert "the run goes on" in warning


def test_describe_error_is_one_line() -> None:
    error = ClientError(
        {"Error": {"Code": "SlowDown", "Message": "Please reduce"}}, "PutObject"
    )
    assert describe_error(error) == "SlowDown: Please reduce"
    assert (
        describe_error(FileNotFoundError(2, "No such file", "/x/a.css"))
        == "No such file: /x/a.css"
    )
    assert describe_error(RuntimeError("boom")) == "RuntimeError: boom"


def test_client_honours_region_endpoint_pool_and_standard_retries() -> None:
    settings = resolve_settings(
        {
            "S3_REGION": "eu-central-1",
            "S3_ENDPOINT_URL": "http://127.0.0.1:9000",
            "S3_UPLOAD_CONCURRENCY": 24,
            "S3_READ_TIMEOUT": 2,
            "S3_CONNECT_TIMEOUT": 1.5,
            "S3_MAX_ATTEMPTS": 2,
        }
    )
    client = make_s3_client(settings, Credentials("AKIDEXAMPLE", "secret", None))
    assert client.meta.region_name == "eu-central-1"
    assert client.meta.endpoint_url == "http://127.0.0.1:9000"
    assert client.meta.config.max_pool_connections >= 24
    assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": 2}
    assert (client.meta.config.connect_timeout, client.meta.config.read_timeout) == (
        1.5,
        2.0,
    )
    assert client.meta.config.s3["addressing_style"] == "path"
    credentials = client._get_credentials()  # type: ignore[attr-defined]
    assert (credentials.access_key, credentials.secret_key) == ("AKIDEXAMPLE", "secret")


def test_credentials_repr_hides_secrets() -> None:
    text = repr(Credentials("AKIDEXAMPLE", "very-secret", "session-secret"))
    assert "very-secret" not in text
    assert "session-secret" not in text
    assert "AKIDEXAMPLE" in text


class _BucketAppearing:
    """A client of a bucket that another run creates while the survey's reads
    are under way: the first manifest read answers NoSuchBucket."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.manifest_reads = 0

    def _error(self, code: str, operation: str) -> ClientError:
        return ClientError({"Error": {"Code": code, "Message": code}}, operation)

    def head_bucket(self, **_: Any) -> dict[str, Any]:
        return {}

    def get_object(self, **_: Any) -> dict[str, Any]:
        with self.lock:
            self.manifest_reads += 1
            first = self.manifest_reads == 1
        raise self._error("NoSuchBucket" if first else "NoSuchKey", "GetObject")

    def get_bucket_ownership_controls(self, **_: Any) -> dict[str, Any]:
        raise self._error(
            "OwnershipControlsNotFoundError", "GetBucketOwnershipControls"
        )

    def get_public_access_block(self, **_: Any) -> dict[str, Any]:
        raise self._error(
            "NoSuchPublicAccessBlockConfiguration", "GetPublicAccessBlock"
        )

    def get_bucket_policy(self, **_: Any) -> dict[str, Any]:
        raise self._error("NoSuchBucketPolicy", "GetBucketPolicy")

    def get_bucket_acl(self, **_: Any) -> dict[str, Any]:
        return {"Grants": []}

    def get_bucket_cors(self, **_: Any) -> dict[str, Any]:
        raise self._error("NoSuchCORSConfiguration", "GetBucketCors")


def test_the_survey_asks_again_when_the_bucket_appeared_meanwhile() -> None:
    """A read that saw no bucket while another run created it is repeated."""
    client = _BucketAppearing()
    survey = Surveyor(client, NAME).survey("")  # type: ignore[arg-type]
    assert survey.exists
    assert survey.manifest_source == "none"
    assert client.manifest_reads == 4  # ours and 0.3.x's, twice


def _sent_requests(client: Any) -> list[Any]:
    """Requests the client would send, answered here with an empty 200."""
    from botocore.awsrequest import AWSResponse

    sent: list[Any] = []

    class _Raw:
        def stream(self, **_: Any) -> Iterator[bytes]:
            yield b""

    def answer(request: Any, **_: Any) -> AWSResponse:
        sent.append(request)
        return AWSResponse(request.url, 200, {}, _Raw())

    client.meta.events.register("before-send.s3", answer)
    return sent


def _with_bytes(request: Any) -> Any:
    if hasattr(request.body, "read"):
        request.body.seek(0)
        request.body = request.body.read()
    return request


def _client(**config: Any) -> Any:
    settings = resolve_settings({"S3_BUCKET_NAME": NAME, **config})
    return make_s3_client(settings, Credentials("AKIDEXAMPLE", "secret-key-0123"))


@pytest.mark.parametrize(
    ("config", "environment", "expected"),
    [
        ({}, None, None),
        ({"S3_ENDPOINT_URL": "https://store.example"}, None, "when_required"),
        ({"S3_ENDPOINT_URL": "https://store.example"}, "when_supported", None),
        ({"S3_REQUEST_CHECKSUMS": "when_supported"}, None, "when_supported"),
        (
            {
                "S3_ENDPOINT_URL": "https://store.example",
                "S3_REQUEST_CHECKSUMS": "when_supported",
            },
            "when_required",
            "when_supported",
        ),
    ],
)
def test_checksum_mode(
    monkeypatch: pytest.MonkeyPatch,
    config: dict[str, str],
    environment: str | None,
    expected: str | None,
) -> None:
    if environment is None:
        monkeypatch.delenv(CHECKSUM_VARIABLE, raising=False)
    else:
        monkeypatch.setenv(CHECKSUM_VARIABLE, environment)
    settings = resolve_settings({"S3_BUCKET_NAME": NAME, **config})
    assert checksum_mode(settings) == expected


def test_another_store_gets_plain_bodies_and_an_md5_on_deletes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No aws-chunked body or CRC32 trailer a store could keep as the object,
    and DeleteObjects with the Content-MD5 such stores require."""
    monkeypatch.delenv(CHECKSUM_VARIABLE, raising=False)
    client = _client(S3_ENDPOINT_URL="https://store.example")
    sent = _sent_requests(client)
    client.put_object(Bucket=NAME, Key="a.css", Body=b"body { }")
    client.delete_objects(Bucket=NAME, Delete={"Objects": [{"Key": "a.css"}]})
    put, delete = (_with_bytes(request) for request in sent)
    assert put.body == b"body { }"
    assert "aws-chunked" not in put.headers.get("Content-Encoding", "")
    assert not [h for h in put.headers if h.lower().startswith("x-amz-checksum")]
    assert not [h for h in put.headers if h.lower() == "x-amz-trailer"]
    digest = base64.b64encode(hashlib.md5(delete.body).digest()).decode()
    sent_digest = delete.headers["Content-MD5"]
    assert (
        sent_digest.decode() if isinstance(sent_digest, bytes) else sent_digest
    ) == digest
    assert not [h for h in delete.headers if h.lower().startswith("x-amz-checksum")]


def test_another_store_gets_an_md5_on_put_bucket_acl(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """PutBucketAcl must carry a checksum too; with a canned ACL it has no
    body, and gets the MD5 of nothing rather than a CRC32 header."""
    monkeypatch.delenv(CHECKSUM_VARIABLE, raising=False)
    client = _client(S3_ENDPOINT_URL="https://store.example")
    sent = _sent_requests(client)
    client.put_bucket_acl(Bucket=NAME, ACL="public-read")
    (request,) = sent
    digest = request.headers["Content-MD5"]
    assert (digest.decode() if isinstance(digest, bytes) else digest) == (
        base64.b64encode(hashlib.md5(b"").digest()).decode()
    )
    assert not [
        h
        for h in request.headers
        if h.lower().startswith(("x-amz-checksum", "x-amz-sdk"))
    ]


@pytest.mark.parametrize(
    "config",
    [
        {},  # AWS: boto3's CRC32 trails an aws-chunked body
        {"S3_ENDPOINT_URL": "https://store.example"},
        {
            "S3_ENDPOINT_URL": "https://store.example",
            "S3_REQUEST_CHECKSUMS": "when_supported",
        },
    ],
    ids=["aws", "another store", "another store, checksums on"],
)
def test_a_small_put_sends_its_body_without_waiting_for_the_go_ahead(
    monkeypatch: pytest.MonkeyPatch, config: dict[str, str]
) -> None:
    """botocore asks every PutObject to wait for '100 Continue', a round trip
    more; a body over 1 MiB still asks, whatever its framing."""
    monkeypatch.delenv(CHECKSUM_VARIABLE, raising=False)
    client = _client(**config)
    sent = _sent_requests(client)
    client.put_object(Bucket=NAME, Key="a.css", Body=b"x" * 1024)
    client.put_object(Bucket=NAME, Key="m.json", Body=io.BytesIO(b"{}"))
    client.put_object(Bucket=NAME, Key="big.bin", Body=b"x" * (2 * 1024 * 1024))

    assert [request.headers.get("Expect") for request in sent] == [
        None,
        None,
        b"100-continue",
    ]


def test_addressing_style_follows_the_setting() -> None:
    endpoint = {"S3_ENDPOINT_URL": "https://store.example"}
    assert _client(**endpoint).meta.config.s3["addressing_style"] == "path"
    virtual = _client(**endpoint, S3_ADDRESSING_STYLE="virtual")
    assert virtual.meta.config.s3["addressing_style"] == "virtual"
    assert _client().meta.config.s3["addressing_style"] == "auto"


def test_an_acl_refused_after_another_thread_learnt_it_is_sent_again_without(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Two uploads sent with an ACL at once both get 501: the one that hears
    it second, when the first has already turned ACLs off, must still send
    again without one, not fail."""
    objects = Objects(boto3.client("s3", region_name="us-east-1"), NAME)
    item: Any = SimpleNamespace(spec=SimpleNamespace(acl="public-read"))
    sent: list[bool] = []

    def send() -> Stored:
        sent.append(objects.acls)
        if len(sent) == 1:
            objects.acls = False  # the other upload's refusal came first
            raise S3Error(
                "S3 refused PutObject",
                operation="PutObject",
                bucket=NAME,
                key="a.css",
                code="NotImplemented",
                reason="NotImplemented: no ACLs",
            )
        return Stored(1, "etag")

    with caplog.at_level(logging.WARNING, logger="flask_s3"):
        assert objects._degrading(item, send) == Stored(1, "etag")
    assert sent == [True, False]


@pytest.mark.parametrize(
    ("stored", "verdict"),
    [
        (b"body { color: red; }\n", "same"),
        (
            b"15\r\nbody { color: red; }\n\r\n0\r\n"
            b"x-amz-checksum-crc32:AAAAAA==\r\n\r\n",
            "framed",
        ),
        (b"15;chunk-signature=abc123\r\nbody { color: red; }\n\r\n", "framed"),
        (b"body { color: blue; }\n", "other"),
        (b"body { col", "other"),
    ],
    ids=["the local bytes", "checksum trailer", "signed chunks", "other", "torn"],
)
def test_a_read_back_tells_checksum_framing_from_another_writer(
    stored: bytes, verdict: str
) -> None:
    """Only framing is the store's misunderstanding; other bytes are another
    run's doing, and its marks keep the manifest from claiming them."""
    client: Any = SimpleNamespace(get_object=lambda **_: {"Body": io.BytesIO(stored)})
    item: Any = SimpleNamespace(
        key="static/a.css", sha1=hashlib.sha1(b"body { color: red; }\n").hexdigest()
    )

    assert Objects(client, NAME).read_back(item) == verdict


def _stored_read(
    body: StreamingBody, key: str, wanted: Callable[[], bool] | None = None
) -> tuple[str | None, str | None]:
    """What `ManifestStore.read` makes of an object with this body."""
    client = boto3.client("s3", region_name="eu-west-1")
    with Stubber(client) as stubber:
        stubber.add_response("get_object", {"Body": body, "ETag": '"e1"'})
        read = ManifestStore(client, NAME).read(key, wanted)
        return read.text, read.etag


def _streamed(body: bytes) -> StreamingBody:
    return StreamingBody(io.BytesIO(body), len(body))


@pytest.mark.parametrize("wanted", ["no", "raises"])
def test_a_body_the_manifest_store_leaves_unread_is_closed(wanted: str) -> None:
    """Its connection goes back at once, also when asking whether it is
    wanted failed (the other record's read did): the error's traceback would
    hold the open body until a collection found it."""

    class Body(StreamingBody):  # type: ignore[misc]
        closed_here = False

        def close(self) -> None:
            Body.closed_here = True
            super().close()

    def asked() -> bool:
        if wanted == "raises":
            raise RuntimeError("AccessDenied")
        return False

    body = b'{"/static/a.css": "0"}'
    unread = Body(io.BytesIO(body), len(body))
    if wanted == "raises":
        with pytest.raises(RuntimeError):
            _stored_read(unread, ".file-hashes", asked)
    else:
        assert _stored_read(unread, ".file-hashes", asked) == (None, '"e1"')
    assert Body.closed_here


def test_the_manifest_store_hands_over_text_not_bytes() -> None:
    """A big site's record is megabytes: parsing bytes would decode a copy
    beside them, so the store decodes and keeps no bytes."""
    body = '{"version": 2, "entries": {"static/é.css": {}}}'.encode()
    text, etag = _stored_read(_streamed(body), "m.json")

    assert (text, etag) == (body.decode(), '"e1"')


def test_the_manifest_store_reads_text_with_a_byte_order_mark() -> None:
    """JSON's own decoding of bytes took one, and a 0.3.x record edited by
    hand may have been saved with it."""
    body = '\ufeff{"/static/a.css": "0a"}'.encode()
    text, _ = _stored_read(_streamed(body), ".file-hashes")

    assert text == '{"/static/a.css": "0a"}'


@pytest.mark.parametrize(
    ("answered", "kept"),
    [("md5", True), ("framed", False), ("none", False)],
)
def test_a_manifest_write_keeps_the_etag_only_of_the_bytes_it_sent(
    answered: str, kept: bool
) -> None:
    """A store that keeps the request's checksum framing as the object
    answers the ETag of other bytes: a later read naming it would take
    them for this run's record."""
    body = b'{"version": 2}'
    framed = b"e;chunk-signature=0\r\n" + body
    etags = {
        "md5": f'"{hashlib.md5(body).hexdigest()}"',
        "framed": f'"{hashlib.md5(framed).hexdigest()}"',
        "none": None,
    }
    client = boto3.client("s3", region_name="eu-west-1")
    response = {} if etags[answered] is None else {"ETag": etags[answered]}
    with Stubber(client) as stubber:
        stubber.add_response("put_object", response)
        swapped = ManifestStore(client, NAME).swap("m.json", None, body)

    assert swapped is not None
    assert swapped.etag == (etags[answered] if kept else None)
