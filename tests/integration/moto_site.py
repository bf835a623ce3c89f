"""The test site and what the integration tests read back from a bucket.

A Flask app with static files in its own folder, in a blueprint under a
url_prefix and in a blueprint nested inside that one; helpers to list, read and
inspect what landed in S3; and a record of the requests create_all sent.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask

from flask_s3 import FlaskS3

if TYPE_CHECKING:
    from types_boto3_s3.client import S3Client

BUCKET = "flask-s3-assets"
MANIFEST = ".flask-s3-manifest.json"
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"

CSS = b"body { color: #123456; }\n" * 64
# Every local file of the test site, by the folder it lives in under tmp_path.
FILES: dict[str, bytes] = {
    "static/css/a.css": CSS,
    "static/js/app.js": b"export const answer = 42;\n" * 32,
    "static/img/logo.svg": b'<svg xmlns="http://www.w3.org/2000/svg"/>\n',
    "static/fonts/f.woff2": bytes(range(256)) * 4,
    "static/data.unknownext": b"\x00\x01 opaque \xff",
    "static/.hidden.css": b"/* hidden file */",
    "static/.well-known/security.txt": b"Contact: mailto:security@example.com\n",
    "static/css/.secret/x.css": b"/* in a hidden dir */",
    "admin_static/admin.css": b".admin { margin: 0; }\n" * 16,
    "admin_static/js/admin.js": b"console.log('admin');\n",
    "child_static/child.css": b".child { padding: 1px; }\n",
}
# The URL path Flask serves each static folder at.
SERVED_AT = {
    "static": "static",
    "admin_static": "admin/assets",
    "child_static": "admin/child/kid",
}
VISIBLE_KEYS = [
    "admin/assets/admin.css",
    "admin/assets/js/admin.js",
    "admin/child/kid/child.css",
    "static/css/a.css",
    "static/data.unknownext",
    "static/fonts/f.woff2",
    "static/img/logo.svg",
    "static/js/app.js",
]
CONTENT_TYPES = {
    "admin/assets/admin.css": "text/css",
    "admin/assets/js/admin.js": "text/javascript",
    "admin/child/kid/child.css": "text/css",
    "static/css/a.css": "text/css",
    "static/data.unknownext": "application/octet-stream",
    "static/fonts/f.woff2": "font/woff2",
    "static/img/logo.svg": "image/svg+xml",
    "static/js/app.js": "text/javascript",
}
HIDDEN_KEYS = [
    "static/.hidden.css",
    "static/.well-known/security.txt",
    "static/css/.secret/x.css",
]


def key_of(local: str) -> str:
    folder, rest = local.split("/", 1)
    return f"{SERVED_AT[folder]}/{rest}"


def relative_of(key: str) -> str:
    """The path of a key's file relative to its static folder."""
    for served in sorted(SERVED_AT.values(), key=len, reverse=True):
        if key.startswith(served + "/"):
            return key[len(served) + 1 :]
    raise KeyError(key)


def sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


@dataclass
class Site:
    """A Flask app with an app static folder, a blueprint under a url_prefix with
    its own static_url_path, and a blueprint nested inside that one."""

    app: Flask
    root: Path
    local_by_key: dict[str, Path] = field(default_factory=dict)

    def path(self, key: str) -> Path:
        return self.local_by_key[key]

    def body(self, key: str) -> bytes:
        return self.path(key).read_bytes()

    def write(self, key: str, data: bytes) -> None:
        self.path(key).write_bytes(data)

    def add(self, folder: str, relative: str, data: bytes) -> str:
        """A new file in one of the static folders; returns its key."""
        path = self.root / folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        key = key_of(f"{folder}/{relative}")
        self.local_by_key[key] = path
        return key


def build_site(root: Path, **config: Any) -> Site:
    site = Site(Flask("shop", root_path=str(root)), root)
    for local, data in FILES.items():
        folder, relative = local.split("/", 1)
        site.add(folder, relative, data)
    site.app.config.update({"S3_BUCKET_NAME": BUCKET, **config})
    admin = Blueprint(
        "admin",
        "shop",
        root_path=str(root),
        static_folder="admin_static",
        static_url_path="/assets",
    )
    child = Blueprint(
        "child",
        "shop",
        root_path=str(root),
        static_folder="child_static",
        static_url_path="/kid",
    )
    admin.register_blueprint(child, url_prefix="/child")
    site.app.register_blueprint(admin, url_prefix="/admin")
    return site


@dataclass
class SentRequest:
    method: str
    url: str
    headers: dict[str, str]
    body_size: int | None = None
    """The bytes of the body (None: a stream that cannot tell)."""

    @property
    def access_key(self) -> str:
        authorization = self.headers["Authorization"]
        return authorization.split("Credential=", 1)[1].split("/", 1)[0]


@dataclass
class Wire:
    """What create_all's own client sent, recorded as each request leaves."""

    requests: list[SentRequest] = field(default_factory=list)
    clients: list[Any] = field(default_factory=list)

    def to(self, key: str) -> list[SentRequest]:
        return [
            request
            for request in self.requests
            if request.method == "PUT"
            and request.url.split("?", 1)[0].endswith("/" + key)
        ]

    @property
    def bucket_acl_puts(self) -> list[SentRequest]:
        """PutBucketAcl requests, host-style (``/?acl``) or path-style."""
        return [
            request
            for request in self.requests
            if request.method == "PUT"
            and urlsplit(request.url).query == "acl"
            and urlsplit(request.url).path.strip("/") in ("", BUCKET)
        ]


def keys_in(client: S3Client, bucket: str = BUCKET) -> list[str]:
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return sorted(item["Key"] for page in pages for item in page.get("Contents", []))


def body_of(client: S3Client, key: str, bucket: str = BUCKET) -> bytes:
    return client.get_object(Bucket=bucket, Key=key)["Body"].read()


def manifest_of(
    client: S3Client, key: str = MANIFEST, bucket: str = BUCKET
) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(body_of(client, key, bucket))
    return loaded


def stored(client: S3Client, key: str, bucket: str = BUCKET) -> dict[str, Any]:
    """What the manifest records of the bucket's answer for an object."""
    head = client.head_object(Bucket=bucket, Key=key)
    return {"size": head["ContentLength"], "etag": head["ETag"].strip('"')}


def plan_of(app: Flask, *options: str) -> dict[str, Any]:
    """``flask s3 plan --json`` of an app, as a deploy script reads it."""
    if "s3" not in app.extensions:
        FlaskS3(app)
    planned = app.test_cli_runner().invoke(args=["s3", "plan", "--json", *options])
    assert planned.exit_code == 0, planned.output
    loaded: dict[str, Any] = json.loads(planned.stdout)
    return loaded


def plan_actions(doc: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """A plan's assets as key -> (action, reason)."""
    return {asset["key"]: (asset["action"], asset["reason"]) for asset in doc["assets"]}


@dataclass
class Store:
    """Where a test's bucket lives: moto in-process, or a moto server over
    HTTP that each app must be pointed at."""

    client: S3Client
    endpoint_url: str | None = None

    def serve(self, app: Flask) -> Flask:
        if self.endpoint_url is not None:
            app.config["S3_ENDPOINT_URL"] = self.endpoint_url
        return app


def grants(acl: Any) -> list[tuple[str, str]]:
    """An ACL's grants as (grantee, permission), with the owner named 'owner'."""
    owner = acl["Owner"]["ID"]
    named = []
    for grant in acl["Grants"]:
        grantee = grant["Grantee"]
        who = grantee.get("URI") or grantee.get("ID")
        named.append(("owner" if who == owner else who, grant["Permission"]))
    return sorted(named)


OWNER_ONLY = [("owner", "FULL_CONTROL")]
PUBLIC_READ = sorted([("owner", "FULL_CONTROL"), (ALL_USERS, "READ")])
