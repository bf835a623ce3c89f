"""CloudFront, through boto3: one invalidation per upload run."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from flask_s3.adapters.aws import Credentials, request_config, session_for
from flask_s3.core.settings import Settings

if TYPE_CHECKING:
    from types_boto3_cloudfront.client import CloudFrontClient


def make_cloudfront_client(
    settings: Settings, credentials: Credentials
) -> CloudFrontClient:
    return session_for(credentials).client(
        "cloudfront", region_name="us-east-1", config=request_config(settings)
    )


class Distribution:
    def __init__(self, client: CloudFrontClient, distribution_id: str) -> None:
        self.client = client
        self.distribution_id = distribution_id

    def invalidate(self, paths: list[str]) -> str:
        """Start an invalidation and return its id, without waiting for it:
        CloudFront takes minutes, and the upload is already complete."""
        response = self.client.create_invalidation(
            DistributionId=self.distribution_id,
            InvalidationBatch={
                "Paths": {"Quantity": len(paths), "Items": paths},
                "CallerReference": f"flask-s3-{time.time_ns()}",
            },
        )
        return response["Invalidation"]["Id"]
