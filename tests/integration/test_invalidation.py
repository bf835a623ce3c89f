"""S3_CLOUDFRONT_DISTRIBUTION_ID against moto's CloudFront: which paths a run
invalidates, how they are spelled, what a failed invalidation costs, and that
``plan`` shows it all (and the deletes) before anything happens.

Paths are read back from the invalidations moto recorded, and expected paths
are written out literally.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.exceptions import ClientError

import flask_s3
from flask_s3 import FlaskS3, UploadFailed, create_all
from flask_s3.adapters.cloudfront import Distribution
from flask_s3.adapters.objects import Objects
from flask_s3.core.manifest import Stored
from flask_s3.core.upload_plan import PlannedAsset
from tests.integration.moto_site import (
    BUCKET,
    VISIBLE_KEYS,
    Site,
    body_of,
    keys_in,
    manifest_of,
    sha1,
)

if TYPE_CHECKING:
    from types_boto3_s3.client import S3Client

A = "static/css/a.css"
A2 = b"/* a.css version 2 */\n"


def fingerprint_of(key: str, data: bytes) -> str:
    stem, ext = key.rsplit(".", 1)
    return f"{stem}.{sha1(data)[:12]}.{ext}"


@dataclass
class Cdn:
    """A distribution in moto, and the invalidations it received."""

    client: Any
    id: str

    def ids(self) -> list[str]:
        listed = self.client.list_invalidations(DistributionId=self.id)
        return [item["Id"] for item in listed["InvalidationList"].get("Items", [])]

    def paths(self, invalidation_id: str) -> list[str]:
        invalidation = self.client.get_invalidation(
            DistributionId=self.id, Id=invalidation_id
        )["Invalidation"]
        paths = invalidation["InvalidationBatch"]["Paths"]
        items: list[str] = paths.get("Items", [])
        assert paths["Quantity"] == len(items)
        return items

    def only_paths(self) -> list[str]:
        """The paths of the one invalidation there must be."""
        ids = self.ids()
        assert len(ids) == 1, ids
        return self.paths(ids[0])


@pytest.fixture
def cdn(s3: S3Client) -> Cdn:
    """A distribution with the bucket as its origin, inside the s3 fixture's mock."""
    client = boto3.client("cloudfront", region_name="us-east-1")
    created = client.create_distribution(
        DistributionConfig={
            "CallerReference": "flask-s3-tests",
            "Origins": {
                "Quantity": 1,
                "Items": [
                    {
                        "Id": "bucket",
                        "DomainName": f"{BUCKET}.s3.amazonaws.com",
                        "S3OriginConfig": {"OriginAccessIdentity": ""},
                    }
                ],
            },
            "DefaultCacheBehavior": {
                "TargetOriginId": "bucket",
                "ViewerProtocolPolicy": "redirect-to-https",
                "MinTTL": 0,
                "ForwardedValues": {
                    "QueryString": False,
                    "Cookies": {"Forward": "none"},
                },
            },
            "Comment": "flask-s3 tests",
            "Enabled": True,
        }
    )
    return Cdn(client, created["Distribution"]["Id"])


def cdn_site(site: Site, cdn: Cdn, **config: Any) -> Site:
    site.app.config.update(S3_CLOUDFRONT_DISTRIBUTION_ID=cdn.id, **config)
    return site


def add_extras(site: Site, count: int) -> list[str]:
    """``count`` more files in static/extra; returns their keys."""
    return [
        site.add("static", f"extra/file-{number:02}.css", f"/* {number} */".encode())
        for number in range(count)
    ]


# Which paths


@pytest.mark.parametrize("only_modified", [False, True])
@pytest.mark.parametrize("cache_busting", ["filename", False])
def test_a_changed_file_invalidates_its_plain_path_only(
    s3: S3Client, site: Site, cdn: Cdn, cache_busting: Any, only_modified: bool
) -> None:
    cdn_site(site, cdn, S3_CACHE_BUSTING=cache_busting, S3_ONLY_MODIFIED=only_modified)

    first = create_all(site.app)  # all new: nothing was ever cached
    assert first.invalidation_id is None
    assert first.warnings == ()
    assert cdn.ids() == []

    site.write(A, A2)
    second = create_all(site.app)
    assert second.invalidation_id is not None
    assert cdn.ids() == [second.invalidation_id]
    assert cdn.paths(second.invalidation_id) == ["/static/css/a.css"]
    assert second.warnings == ()
    if cache_busting:
        assert fingerprint_of(A, A2) in second.uploaded

    third = create_all(site.app)  # unchanged, sent again or not
    assert third.invalidation_id is None
    assert cdn.ids() == [second.invalidation_id]


def test_a_header_change_invalidates_every_plain_path(
    s3: S3Client, site: Site, cdn: Cdn
) -> None:
    cdn_site(site, cdn, S3_CACHE_BUSTING="filename", S3_ONLY_MODIFIED=True)
    create_all(site.app)
    site.app.config["S3_HEADERS"] = {"X-Team": "web"}

    result = create_all(site.app)

    assert sorted(result.uploaded) == VISIBLE_KEYS  # fingerprinted copies stay
    assert cdn.only_paths() == [
        "/admin/assets/admin.css",
        "/admin/assets/js/admin.js",
        "/admin/child/kid/child.css",
        "/static/css/a.css",
        "/static/data.unknownext",
        "/static/fonts/f.woff2",
        "/static/img/logo.svg",
        "/static/js/app.js",
    ]


@pytest.mark.parametrize("cache_busting", ["filename", False])
def test_a_header_change_invalidates_every_plain_path_as_one_wildcard(
    s3: S3Client, site: Site, cdn: Cdn, cache_busting: Any
) -> None:
    cdn_site(site, cdn, S3_CACHE_BUSTING=cache_busting)
    add_extras(site, 16)
    create_all(site.app)

    site.app.config["S3_HEADERS"] = {"Cache-Control": "max-age=60"}
    everywhere = create_all(site.app)
    assert everywhere.invalidation_id is not None
    # 24 paths in /static and /admin: their common folder is the root.
    assert cdn.paths(everywhere.invalidation_id) == ["/*"]

    site.app.config["S3_FILEPATH_HEADERS"] = {"^extra/": {"X-Extra": "yes"}}
    extra_only = create_all(site.app)
    assert extra_only.invalidation_id is not None
    assert cdn.paths(extra_only.invalidation_id) == ["/static/extra/*"]
    assert len(cdn.ids()) == 2


@pytest.mark.parametrize("count", [15, 16])
def test_fifteen_paths_are_listed_and_sixteen_are_a_wildcard(
    s3: S3Client, site: Site, cdn: Cdn, count: int
) -> None:
    cdn_site(site, cdn, S3_CACHE_BUSTING="filename")
    extras = add_extras(site, 16)
    create_all(site.app)
    for key in extras[:count]:
        site.write(key, b"/* changed */ " + key.encode())

    result = create_all(site.app)

    assert result.invalidation_id is not None
    expected = (
        [f"/static/extra/file-{number:02}.css" for number in range(15)]
        if count == 15
        else ["/static/extra/*"]
    )
    assert cdn.only_paths() == expected


def test_pruned_plain_keys_are_invalidated_and_fingerprints_never(
    s3: S3Client, site: Site, cdn: Cdn
) -> None:
    cdn_site(site, cdn, S3_CACHE_BUSTING="filename", S3_PRUNE=True, S3_PRUNE_KEEP=1)
    app_js = "static/js/app.js"
    old_js = fingerprint_of(app_js, site.body(app_js))
    old_a = fingerprint_of(A, site.body(A))
    create_all(site.app)
    site.path(app_js).unlink()
    site.write(A, A2)

    result = create_all(site.app)

    assert result.deleted == tuple(sorted([old_a, app_js, old_js]))
    assert cdn.only_paths() == ["/static/css/a.css", "/static/js/app.js"]

    site.path("static/img/logo.svg").unlink()  # a run that only deletes
    deleting = create_all(site.app)
    assert "static/img/logo.svg" in deleting.deleted
    assert cdn.paths(deleting.invalidation_id or "") == ["/static/img/logo.svg"]


@pytest.mark.parametrize(("prefix", "root"), [("", "/"), ("Deploy/v2", "/Deploy/v2/")])
def test_paths_are_percent_quoted_keys(
    s3: S3Client, site: Site, cdn: Cdn, prefix: str, root: str
) -> None:
    cdn_site(site, cdn, S3_CACHE_BUSTING="filename", S3_PREFIX=prefix)
    spaced = site.add("static", "img/tea pot+1.png", b"\x89PNG tea pot")
    accented = site.add("static", "css/caf\u00e9.css", "/* caf\u00e9 */".encode())
    create_all(site.app)
    site.write(spaced, b"\x89PNG another pot")
    site.write(accented, b"/* changed */")

    create_all(site.app)

    assert cdn.only_paths() == [
        f"{root}static/css/caf%C3%A9.css",
        f"{root}static/img/tea%20pot%2B1.png",
    ]


def test_paths_are_the_url_paths_on_a_cdn_domain_with_a_path(
    s3: S3Client, site: Site, cdn: Cdn
) -> None:
    """The CDN caches what browsers ask for: the URL path, '/assets' included."""
    cdn_site(site, cdn, S3_CDN_DOMAIN="cdn.example.com/assets/", S3_PREFIX="v2")
    FlaskS3(site.app)
    create_all(site.app)
    site.write(A, A2)
    with site.app.test_request_context():
        url = flask_s3.url_for("static", filename="css/a.css")
    planned = site.app.test_cli_runner().invoke(args=["s3", "plan", "--json"])

    create_all(site.app)

    assert url == "https://cdn.example.com/assets/v2/static/css/a.css"
    assert json.loads(planned.stdout)["invalidations"] == [urlsplit(url).path]
    assert cdn.only_paths() == [urlsplit(url).path]


# A failed invalidation


def deny_invalidations(monkeypatch: pytest.MonkeyPatch) -> None:
    def invalidate(self: Distribution, paths: list[str]) -> str:
        raise ClientError(
            {"Error": {"Code": "AccessDenied", "Message": "User is not authorized"}},
            "CreateInvalidation",
        )

    monkeypatch.setattr(Distribution, "invalidate", invalidate)


@pytest.mark.parametrize(
    ("how", "why"),
    [
        (
            "missing distribution",
            "NoSuchDistribution: The specified distribution does not exist.",
        ),
        ("access denied", "AccessDenied: User is not authorized"),
    ],
)
def test_a_failed_invalidation_is_a_warning_and_the_upload_still_counts(
    s3: S3Client,
    site: Site,
    cdn: Cdn,
    monkeypatch: pytest.MonkeyPatch,
    how: str,
    why: str,
) -> None:
    cdn_site(site, cdn, S3_CACHE_BUSTING="filename", S3_ONLY_MODIFIED=True)
    if how == "missing distribution":
        site.app.config["S3_CLOUDFRONT_DISTRIBUTION_ID"] = "E0NOSUCHDIST"
    else:
        deny_invalidations(monkeypatch)
    create_all(site.app)
    site.write(A, A2)

    result = create_all(site.app)

    assert result.invalidation_id is None
    assert result.warnings == (
        f"the CDN invalidation of 1 paths failed ({why}); "
        "the upload itself is complete",
    )
    assert sorted(result.uploaded) == sorted([A, fingerprint_of(A, A2)])
    assert result.failed == ()
    entries = manifest_of(s3)["entries"]
    assert entries[A]["sha1"] == sha1(A2)
    assert fingerprint_of(A, A2) in entries
    assert body_of(s3, A) == A2
    assert cdn.ids() == []


# plan shows it first


def snapshot(client: S3Client) -> dict[str, tuple[str, bytes]]:
    return {
        key: (client.head_object(Bucket=BUCKET, Key=key)["ETag"], body_of(client, key))
        for key in keys_in(client)
    }


def test_plan_lists_deletes_and_cdn_paths_and_changes_nothing(
    s3: S3Client, site: Site, cdn: Cdn
) -> None:
    cdn_site(
        site, cdn, S3_CACHE_BUSTING="filename", S3_ONLY_MODIFIED=True, S3_PRUNE_KEEP=1
    )
    FlaskS3(site.app)
    app_js = "static/js/app.js"
    old_js = fingerprint_of(app_js, site.body(app_js))
    old_a = fingerprint_of(A, site.body(A))
    create_all(site.app)
    site.path(app_js).unlink()
    site.write(A, A2)
    before = snapshot(s3)
    runner = site.app.test_cli_runner()

    unpruned = runner.invoke(args=["s3", "plan", "--json"])
    pruned = runner.invoke(args=["s3", "plan", "--json", "--prune"])
    checked = runner.invoke(args=["s3", "plan", "--check", "--prune"])

    assert unpruned.exit_code == 0, unpruned.output
    doc = json.loads(unpruned.stdout)
    assert doc["deletes"] == []
    assert doc["invalidations"] == ["/static/css/a.css"]
    assert pruned.exit_code == 0, pruned.output
    doc = json.loads(pruned.stdout)
    expected_deletes = [
        {"key": old_a, "reason": "hashed copy older than S3_PRUNE_KEEP deploys"},
        {
            "key": old_js,
            "reason": "hashed copy older than S3_PRUNE_KEEP deploys",
        },
        {"key": app_js, "reason": "no longer exists locally"},
    ]
    assert doc["deletes"] == expected_deletes
    assert doc["invalidations"] == ["/static/css/a.css", "/static/js/app.js"]
    assert {
        asset["key"]: asset["reason"]
        for asset in doc["assets"]
        if asset["action"] == "upload"
    } == {A: "content changed", fingerprint_of(A, A2): "new"}
    assert checked.exit_code == 1, checked.output
    assert f"delete  no longer exists locally  {app_js}" in checked.stdout
    assert "delete: 3 objects" in checked.stdout
    assert "CDN paths to invalidate: /static/css/a.css /static/js/app.js" in (
        checked.stdout
    )
    assert snapshot(s3) == before  # plan wrote and deleted nothing
    assert cdn.ids() == []

    # The upload then does what the plan said.
    site.app.config["S3_PRUNE"] = True
    result = create_all(site.app)
    assert list(result.deleted) == [delete["key"] for delete in expected_deletes]
    assert result.invalidation_id is not None
    assert cdn.paths(result.invalidation_id) == doc["invalidations"]
    assert sorted(result.uploaded) == sorted([A, fingerprint_of(A, A2)])
    entries = manifest_of(s3)["entries"]
    assert not {app_js, old_a, old_js} & set(entries)
    assert not {app_js, old_a, old_js} & set(keys_in(s3))
    assert sorted(entries) == sorted(
        [
            *(key for key in VISIBLE_KEYS if key != app_js),
            *(
                fingerprint_of(key, site.body(key))
                for key in VISIBLE_KEYS
                if key != app_js
            ),
        ]
    )


def test_changes_of_a_failed_run_are_invalidated_then_and_on_the_retry(
    s3: S3Client, site: Site, cdn: Cdn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The next run sees the file as unchanged, so this run must tell the CDN."""
    site.app.config.update(S3_CLOUDFRONT_DISTRIBUTION_ID=cdn.id, S3_ONLY_MODIFIED=True)
    create_all(site.app)
    site.write(A, b"/* v2 */")
    site.write("static/img/logo.svg", b"<svg/>")
    original = Objects.upload

    def upload(self: Objects, item: PlannedAsset) -> Stored:
        if item.key == "static/img/logo.svg":
            raise ClientError(
                {"Error": {"Code": "AccessDenied", "Message": "no"}}, "PutObject"
            )
        return original(self, item)

    monkeypatch.setattr(Objects, "upload", upload)
    with pytest.raises(UploadFailed) as failed:
        create_all(site.app)
    assert cdn.only_paths() == ["/static/css/a.css"]
    assert failed.value.result.invalidation_id == cdn.ids()[0]
    assert manifest_of(s3)["unsettled"] == ["static/img/logo.svg"]

    # The retry sends logo.svg as new (its entry went with the failure), yet
    # the CDN may still hold the old one: it is invalidated, then settled.
    monkeypatch.setattr(Objects, "upload", original)
    retry = create_all(site.app)
    assert retry.uploaded == ("static/img/logo.svg",)
    assert cdn.paths(retry.invalidation_id or "") == ["/static/img/logo.svg"]
    assert manifest_of(s3)["unsettled"] == []
    assert create_all(site.app).invalidation_id is None
