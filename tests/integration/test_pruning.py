"""S3_PRUNE against moto: what goes, when, and what never does.

Simulated deploys of the test site with fingerprinted names: deleted files lose
their plain key at once, old fingerprinted copies outlive S3_PRUNE_KEEP deploys
and no more, objects the extension never recorded are never touched, and
nothing goes after a failed upload. Expected deletes are written out per deploy
rather than derived from the rule under test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError

import flask_s3.deploy.preparation as preparation
from flask_s3 import FlaskS3, UploadFailed, create_all
from flask_s3.adapters.objects import Objects
from flask_s3.core import SettingsError
from flask_s3.core.manifest import Manifest, ManifestEntry, Stored, serialize_manifest
from flask_s3.core.upload_plan import PlannedAsset
from tests.integration.moto_site import (
    BUCKET,
    HIDDEN_KEYS,
    MANIFEST,
    VISIBLE_KEYS,
    Site,
    body_of,
    keys_in,
    manifest_of,
    relative_of,
    sha1,
)

if TYPE_CHECKING:
    from types_boto3_s3.client import S3Client

A = "static/css/a.css"
B = "static/js/b.js"
A1 = b"/* a.css v1 */\n"
A2 = b"/* a.css version 2 */\n"
A3 = b"/* a.css, the third version */\n"
B1 = b"export const b = 1;\n"
OTHERS = [key for key in VISIBLE_KEYS if key != A]
FOREIGN = {
    "uploads/user.png": b"\x89PNG user upload",
    "static/foreign.css": b"/* put here by someone else */",
    "static/css/a.0123456789ab.css": b"/* looks fingerprinted, never recorded */",
}
"""Objects put into the bucket directly: pruning must never touch them."""
GONE = "no longer exists locally"
OLD = "hashed copy older than S3_PRUNE_KEEP deploys"


def fingerprint_of(key: str, data: bytes) -> str:
    stem, ext = key.rsplit(".", 1)
    return f"{stem}.{sha1(data)[:12]}.{ext}"


def put_foreign(client: S3Client) -> None:
    for key, data in FOREIGN.items():
        client.put_object(Bucket=BUCKET, Key=key, Body=data)


def pruning_site(site: Site, **config: Any) -> Site:
    """The test site with a.css at v1 and an extra b.js, fingerprinted, pruned."""
    site.app.config.update(S3_CACHE_BUSTING="filename", S3_PRUNE=True, **config)
    site.write(A, A1)
    site.add("static", relative_of(B), B1)
    return site


def current(site: Site, keys: list[str]) -> list[str]:
    """Each key with its current fingerprinted copy."""
    return [*keys, *(fingerprint_of(key, site.body(key)) for key in keys)]


def check_bucket(client: S3Client, recorded: set[str], *, deploys: int) -> None:
    """The bucket holds exactly the recorded keys, the foreign objects and the
    manifest; the manifest lists exactly the recorded keys."""
    assert keys_in(client) == sorted([*recorded, *FOREIGN, MANIFEST])
    manifest = manifest_of(client)
    assert sorted(manifest["entries"]) == sorted(recorded)
    assert manifest["deploys"] == deploys
    for key, data in FOREIGN.items():
        assert body_of(client, key) == data


# Three deploys


# Per S3_PRUNE_KEEP, what deploys 2 and 3 delete; "a1", "b" and "a2" stand for
# the fingerprinted copies of a.css v1, b.js and a.css v2.
THREE_DEPLOYS = {
    1: ({"b.js", "a1", "b"}, {"a2"}),
    2: ({"b.js"}, {"a1", "b"}),
    3: ({"b.js"}, set()),
}


@pytest.mark.parametrize("keep", [1, 2, 3])
def test_three_deploys_prune_deleted_files_and_old_fingerprints(
    s3: S3Client, site: Site, keep: int
) -> None:
    pruning_site(site)
    if keep != 2:
        site.app.config["S3_PRUNE_KEEP"] = keep
    named = {
        "b.js": B,
        "a1": fingerprint_of(A, A1),
        "b": fingerprint_of(B, B1),
        "a2": fingerprint_of(A, A2),
    }
    s3.create_bucket(Bucket=BUCKET)
    put_foreign(s3)

    # Deploy 1: a.css v1 and b.js.
    first = create_all(site.app)
    recorded = set(current(site, [*VISIBLE_KEYS, B]))
    assert sorted(first.uploaded) == sorted(recorded)
    assert first.deleted == ()
    check_bucket(s3, recorded, deploys=1)

    # Deploy 2: a.css v2, b.js deleted locally.
    site.write(A, A2)
    site.path(B).unlink()
    second = create_all(site.app)
    gone = {named[name] for name in THREE_DEPLOYS[keep][0]}
    assert second.deleted == tuple(sorted(gone))
    assert second.warnings == ()
    recorded = (recorded | {named["a2"]}) - gone
    check_bucket(s3, recorded, deploys=2)
    assert B not in manifest_of(s3)["entries"]

    # Deploy 3: a.css v3.
    site.write(A, A3)
    third = create_all(site.app)
    gone = {named[name] for name in THREE_DEPLOYS[keep][1]}
    assert third.deleted == tuple(sorted(gone))
    assert third.warnings == ()
    recorded = (recorded | {fingerprint_of(A, A3)}) - gone
    check_bucket(s3, recorded, deploys=3)
    # What the site names now is always there.
    assert set(current(site, VISIBLE_KEYS)) <= recorded
    assert body_of(s3, fingerprint_of(A, A3)) == A3


def test_a_fingerprint_that_becomes_current_again_is_kept(
    s3: S3Client, site: Site
) -> None:
    pruning_site(site, S3_PRUNE_KEEP=1)
    create_all(site.app)
    site.write(A, A2)
    assert create_all(site.app).deleted == (fingerprint_of(A, A1),)
    site.write(A, A1)  # reverted: v1's copy is uploaded again, v2's goes
    third = create_all(site.app)
    assert fingerprint_of(A, A1) in third.uploaded
    assert third.deleted == (fingerprint_of(A, A2),)
    assert body_of(s3, fingerprint_of(A, A1)) == A1


def test_a_run_without_uploads_is_no_deploy_and_prunes_no_fingerprint(
    s3: S3Client, site: Site
) -> None:
    pruning_site(site, S3_ONLY_MODIFIED=True)
    create_all(site.app)
    site.write(A, A2)
    create_all(site.app)
    before = manifest_of(s3)
    assert before["deploys"] == 2

    for _ in range(2):
        idle = create_all(site.app)
        assert idle.uploaded == ()
        assert idle.deleted == ()
        assert manifest_of(s3) == before
    assert fingerprint_of(A, A1) in keys_in(s3)

    # The next real deploy is number 3, and only then does v1's copy go.
    site.write(A, A3)
    third = create_all(site.app)
    assert sorted(third.uploaded) == sorted([A, fingerprint_of(A, A3)])
    assert third.deleted == (fingerprint_of(A, A1),)
    assert manifest_of(s3)["deploys"] == 3


def test_rerunning_an_unchanged_upload_keeps_the_previous_deploys_fingerprints(
    s3: S3Client, site: Site
) -> None:
    """Without S3_ONLY_MODIFIED a rerun sends every file again; files re-sent
    unchanged are no new deploy, so no fingerprinted copy goes."""
    site.app.config.update(S3_CACHE_BUSTING="filename", S3_PRUNE=True)
    v1 = site.body(A)
    create_all(site.app)  # deploy 1
    site.write(A, b"/* v2 */")
    create_all(site.app)  # deploy 2: v1's copy kept (S3_PRUNE_KEEP=2)
    assert manifest_of(s3)["deploys"] == 2

    rerun = create_all(site.app)  # nothing changed locally

    assert manifest_of(s3)["deploys"] == 2
    assert rerun.deleted == ()
    assert fingerprint_of(A, v1) in keys_in(s3)


def test_a_run_that_only_deletes_is_a_deploy(s3: S3Client, site: Site) -> None:
    """Removing a file is a new version of the site: with S3_PRUNE_KEEP=1 the
    current pages no longer use the removed file's copy, so it goes too."""
    pruning_site(site, S3_ONLY_MODIFIED=True, S3_PRUNE_KEEP=1)
    create_all(site.app)
    site.path(B).unlink()
    result = create_all(site.app)
    assert result.uploaded == ()
    assert result.deleted == tuple(sorted([B, fingerprint_of(B, B1)]))
    assert manifest_of(s3)["deploys"] == 2
    assert fingerprint_of(B, B1) not in keys_in(s3)


# What pruning never deletes


def test_hidden_files_that_exist_locally_are_never_pruned(
    s3: S3Client, site: Site
) -> None:
    site.app.config.update(S3_PRUNE=True)
    s3.create_bucket(Bucket=BUCKET)
    put_foreign(s3)
    create_all(site.app, include_hidden=True)
    every = sorted([*VISIBLE_KEYS, *HIDDEN_KEYS])
    assert sorted(manifest_of(s3)["entries"]) == every

    for version in (A2, A3):
        site.write(A, version)
        result = create_all(site.app)
        assert sorted(result.uploaded) == VISIBLE_KEYS
        assert result.deleted == ()
        assert keys_in(s3) == sorted([*every, *FOREIGN, MANIFEST])
        # Still recorded, so a hidden file deleted later is pruned then.
        assert sorted(manifest_of(s3)["entries"]) == every
    for key in HIDDEN_KEYS:
        assert body_of(s3, key) == site.body(key)

    site.path("static/.hidden.css").unlink()
    assert create_all(site.app).deleted == ("static/.hidden.css",)


def test_an_app_under_another_prefix_is_never_pruned(s3: S3Client, site: Site) -> None:
    """Two apps share the bucket under two prefixes: each prunes what its own
    manifest recorded, never the other's keys."""
    pruning_site(site, S3_PREFIX="blue", S3_PRUNE_KEEP=1)
    create_all(site.app)
    site.app.config["S3_PREFIX"] = "green"
    create_all(site.app)
    blue = [key for key in keys_in(s3) if key.startswith("blue/")]

    site.path(B).unlink()
    site.write(A, A2)
    result = create_all(site.app)

    assert result.deleted == tuple(
        sorted(
            f"green/{key}" for key in (B, fingerprint_of(A, A1), fingerprint_of(B, B1))
        )
    )
    assert [key for key in keys_in(s3) if key.startswith("blue/")] == blue
    assert f"blue/{B}" in blue


def test_pruning_with_a_path_filter_is_refused_and_deletes_nothing(
    s3: S3Client, site: Site
) -> None:
    pruning_site(site)
    create_all(site.app)
    site.path(B).unlink()
    site.write(A, A2)
    keys, manifest = keys_in(s3), manifest_of(s3)

    with pytest.raises(SettingsError) as raised:
        create_all(site.app, filepath_filter_regex=r"\.css$")

    assert raised.value.key == "S3_PRUNE"
    assert str(raised.value) == (
        "S3_PRUNE cannot be combined with filepath_filter_regex: a partial run "
        "cannot tell deleted files from filtered-out ones"
    )
    assert keys_in(s3) == keys
    assert manifest_of(s3) == manifest

    # The same from the command line, with --prune for this run only.
    site.app.config["S3_PRUNE"] = False
    FlaskS3(site.app)
    runner = site.app.test_cli_runner()
    for command in ("plan", "upload"):
        refused = runner.invoke(args=["s3", command, "--prune", "--filter", r"\.css$"])
        assert refused.exit_code == 2, refused.output
        assert "S3_PRUNE cannot be combined" in refused.output
    assert keys_in(s3) == keys
    assert manifest_of(s3) == manifest


@dataclass
class Deletes:
    """Every delete_objects call create_all's client made, as its keys; the
    keys in ``refused`` come back in the response's Errors, as S3 reports a
    key it would not delete."""

    batches: list[list[str]] = field(default_factory=list)
    refused: set[str] = field(default_factory=set)


@pytest.fixture
def deletes(monkeypatch: pytest.MonkeyPatch) -> Deletes:
    recorded = Deletes()
    original: Callable[..., Any] = preparation.make_s3_client

    def client_recording_deletes(*args: Any, **kwargs: Any) -> Any:
        client = original(*args, **kwargs)
        send = client.delete_objects

        def delete_objects(**request: Any) -> Any:
            objects = request["Delete"]["Objects"]
            recorded.batches.append([item["Key"] for item in objects])
            allowed = [item for item in objects if item["Key"] not in recorded.refused]
            response: dict[str, Any] = {}
            if allowed:
                request["Delete"] = {**request["Delete"], "Objects": allowed}
                response = send(**request)
            errors = [
                {"Key": item["Key"], "Code": "AccessDenied", "Message": "Access Denied"}
                for item in objects
                if item["Key"] in recorded.refused
            ]
            return {**response, "Errors": [*response.get("Errors", []), *errors]}

        client.delete_objects = delete_objects
        return client

    monkeypatch.setattr(preparation, "make_s3_client", client_recording_deletes)
    return recorded


def fail_uploads_of(monkeypatch: pytest.MonkeyPatch, *keys: str) -> set[str]:
    """Uploads of these keys fail as S3 refuses a PUT, until the returned set
    is cleared."""
    doomed = set(keys)
    original = Objects.upload

    def upload(self: Objects, item: PlannedAsset) -> Stored:
        if item.key in doomed:
            raise ClientError(
                {"Error": {"Code": "AccessDenied", "Message": "Access Denied"}},
                "PutObject",
            )
        return original(self, item)

    monkeypatch.setattr(Objects, "upload", upload)
    return doomed


def test_a_run_with_a_failed_upload_deletes_nothing(
    s3: S3Client, site: Site, deletes: Deletes, monkeypatch: pytest.MonkeyPatch
) -> None:
    pruning_site(site, S3_PRUNE_KEEP=1)
    create_all(site.app)
    site.path(B).unlink()
    site.write(A, A2)
    doomed = fingerprint_of(A, A2)
    failing = fail_uploads_of(monkeypatch, doomed)
    before = set(keys_in(s3))

    with pytest.raises(UploadFailed) as raised:
        create_all(site.app)

    result = raised.value.result
    assert [failure.key for failure in result.failed] == [doomed]
    assert result.deleted == ()
    assert deletes.batches == []
    assert before <= set(keys_in(s3))
    entries = manifest_of(s3)["entries"]
    for key in (B, fingerprint_of(B, B1), fingerprint_of(A, A1)):
        assert key in entries, key
    assert doomed not in entries

    failing.clear()
    retried = create_all(site.app)
    assert retried.deleted == tuple(
        sorted([B, fingerprint_of(B, B1), fingerprint_of(A, A1)])
    )
    assert body_of(s3, doomed) == A2


# Deletes that fail, and batches


def test_a_refused_delete_is_a_warning_and_is_retried_next_run(
    s3: S3Client, site: Site, deletes: Deletes
) -> None:
    pruning_site(site, S3_PRUNE_KEEP=1, S3_ONLY_MODIFIED=True)
    create_all(site.app)
    site.path(B).unlink()
    site.write(A, A2)
    deletes.refused.add(B)

    result = create_all(site.app)

    went = (fingerprint_of(A, A1), fingerprint_of(B, B1))
    assert result.deleted == went
    assert result.warnings == (
        f"could not delete {B} (AccessDenied: Access Denied); "
        "the next pruning run tries again",
    )
    assert sorted(result.uploaded) == sorted([A, fingerprint_of(A, A2)])
    assert deletes.batches == [sorted([B, *went])]
    keys = keys_in(s3)
    assert B in keys
    assert not set(went) & set(keys)
    entries = manifest_of(s3)["entries"]
    assert B in entries
    assert not set(went) & set(entries)

    deletes.refused.clear()
    retried = create_all(site.app)
    assert retried.uploaded == ()
    assert retried.deleted == (B,)
    assert retried.warnings == ()
    assert B not in keys_in(s3)
    assert B not in manifest_of(s3)["entries"]


def test_a_failed_delete_request_is_a_warning_for_each_key(
    s3: S3Client, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    pruning_site(site, S3_PRUNE_KEEP=1)
    create_all(site.app)
    site.path(B).unlink()
    original: Callable[..., Any] = preparation.make_s3_client

    def denying_client(*args: Any, **kwargs: Any) -> Any:
        client = original(*args, **kwargs)

        def delete_objects(**_: Any) -> Any:
            raise ClientError(
                {"Error": {"Code": "AccessDenied", "Message": "Access Denied"}},
                "DeleteObjects",
            )

        client.delete_objects = delete_objects
        return client

    monkeypatch.setattr(preparation, "make_s3_client", denying_client)
    result = create_all(site.app)

    doomed = sorted([B, fingerprint_of(B, B1)])
    assert result.deleted == ()
    assert result.warnings == tuple(
        f"could not delete {key} (AccessDenied: Access Denied); "
        "the next pruning run tries again"
        for key in doomed
    )
    assert set(doomed) <= set(keys_in(s3))
    assert set(doomed) <= set(manifest_of(s3)["entries"])


def test_deletes_go_in_batches_of_at_most_1000_keys(
    s3: S3Client, site: Site, deletes: Deletes
) -> None:
    site.app.config["S3_PRUNE"] = True
    stale = [f"static/old/file-{number:04}.css" for number in range(1500)]
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(
        Bucket=BUCKET,
        Key=MANIFEST,
        Body=serialize_manifest(
            Manifest(
                {
                    key: ManifestEntry(sha1(key.encode()), None, None, 1)
                    for key in stale
                },
                deploys=1,
            )
        ),
    )
    for key in stale[::100]:  # a few exist; deleting a missing key is fine too
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"old")
    put_foreign(s3)

    result = create_all(site.app)

    assert [len(batch) for batch in deletes.batches] == [1000, 500]
    assert sorted(key for batch in deletes.batches for key in batch) == stale
    assert result.deleted == tuple(stale)
    assert result.warnings == ()
    assert keys_in(s3) == sorted([*VISIBLE_KEYS, *FOREIGN, MANIFEST])
    assert sorted(manifest_of(s3)["entries"]) == VISIBLE_KEYS
    assert manifest_of(s3)["deploys"] == 2
