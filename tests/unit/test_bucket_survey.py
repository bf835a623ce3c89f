from __future__ import annotations

import attrs
import pytest

from flask_s3.core.bucket_survey import (
    missing_bucket,
    policy_grants_public_read,
    public_read_warnings,
)

BUCKET = "shop-assets"


def statement(**overrides: object) -> dict[str, object]:
    return {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{BUCKET}/*",
        **overrides,
    }


@pytest.mark.parametrize(
    ("policy", "public"),
    [
        ({"Statement": [statement()]}, True),
        ({"Statement": statement()}, True),
        ({"Statement": [statement(Principal={"AWS": "*"})]}, True),
        (
            {
                "Statement": [
                    statement(
                        Principal={"AWS": ["*"]}, Action=["s3:ListBucket", "s3:*"]
                    )
                ]
            },
            True,
        ),
        ({"Statement": [statement(Resource=f"arn:aws:s3:::{BUCKET}/static/*")]}, True),
        ({"Statement": [statement(Effect="Deny")]}, False),
        ({"Statement": [statement(Principal={"AWS": "arn:aws:iam::1:root"})]}, False),
        (
            {
                "Statement": [
                    statement(Principal={"Service": "cloudfront.amazonaws.com"})
                ]
            },
            False,
        ),
        (
            {
                "Statement": [
                    statement(Condition={"StringEquals": {"aws:SourceArn": "x"}})
                ]
            },
            False,
        ),
        ({"Statement": [statement(Action="s3:PutObject")]}, False),
        ({"Statement": [statement(Resource="arn:aws:s3:::other-bucket/*")]}, False),
        ({"Statement": []}, False),
        ([], False),
    ],
)
def test_policy_grants_public_read(policy: object, public: bool) -> None:
    assert policy_grants_public_read(policy, BUCKET) is public


def readable_bucket():  # type: ignore[no-untyped-def]
    return attrs.evolve(
        missing_bucket(),
        exists=True,
        blocks_public_access=False,
        policy_grants_public_read=False,
    )


def test_missing_bucket_warns_it_will_be_created() -> None:
    [warning] = public_read_warnings(missing_bucket(), "public-read")
    assert "will be created" in warning


def test_public_acl_on_an_acl_bucket_is_readable() -> None:
    assert public_read_warnings(readable_bucket(), "public-read") == []


def test_block_public_access_warns() -> None:
    state = attrs.evolve(readable_bucket(), blocks_public_access=True)
    [warning] = public_read_warnings(state, "public-read")
    assert "Block Public Access" in warning


def test_acls_disabled_without_a_public_policy_warns() -> None:
    state = attrs.evolve(readable_bucket(), accepts_acls=False)
    [warning] = public_read_warnings(state, "public-read")
    assert warning.startswith(
        "ACLs are disabled and no bucket policy grants public read"
    )
    assert (
        public_read_warnings(
            attrs.evolve(state, policy_grants_public_read=True), "public-read"
        )
        == []
    )
    assert (
        public_read_warnings(
            attrs.evolve(state, policy_grants_public_read=None), "public-read"
        )
        == []
    )


def test_private_object_acl_without_policy_warns() -> None:
    [warning] = public_read_warnings(readable_bucket(), "private")
    assert "the object ACL is 'private'" in warning
