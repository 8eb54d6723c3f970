"""Presigned links to the upload bucket: offices upload and download CSV files directly with S3.

The client is made on first use (most requests never touch S3). Keys never hold personal data:
they are `imports/<province>/<import id>.csv` and `results/<province>/<import id>.csv`.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from chalicelib.settings import settings

LINK_SECONDS = 15 * 60


@cache
def _client() -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client("s3", region_name=settings().region, config=Config(signature_version="s3v4"))


def upload_link(key: str) -> str:
    return str(
        _client().generate_presigned_url(
            "put_object", Params={"Bucket": settings().upload_bucket, "Key": key}, ExpiresIn=LINK_SECONDS
        )
    )


def download_link(key: str) -> str:
    return str(
        _client().generate_presigned_url(
            "get_object", Params={"Bucket": settings().upload_bucket, "Key": key}, ExpiresIn=LINK_SECONDS
        )
    )
