"""The upload bucket: presigned links for offices to upload and download CSV files directly with
S3, and the files the programme reads there (imports, partners' settlement files).

The client is made on first use (most requests never touch S3). Keys never hold personal data:
they are `imports/<province>/<import id>.csv`, `results/<province>/<import id>.csv`,
`settlements/<partner>/<day>.csv` and `reconciliation/<partner>/<day>.csv`.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Any

from chalicelib.core.settings import settings

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


def size_and_version(key: str) -> tuple[int, str | None]:
    """The object's size and its version (None where the bucket keeps no versions)."""
    head = _client().head_object(Bucket=settings().upload_bucket, Key=key)
    version = head.get("VersionId")
    return int(head["ContentLength"]), None if version in (None, "null") else str(version)


def lines_from(key: str, offset: int, version: str | None = None) -> Iterator[bytes]:
    """The object's lines from byte `offset` on, each with its line end, streamed (never read whole);
    of that `version` of it, if given, whatever was uploaded over it since."""
    from botocore.exceptions import ClientError

    request = {"Bucket": settings().upload_bucket, "Key": key, "Range": f"bytes={offset}-"}
    if version is not None:
        request["VersionId"] = version
    try:
        answer = _client().get_object(**request)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "InvalidRange":
            return iter(())  # the offset is the end of the object: nothing is left
        raise
    return answer["Body"].iter_lines(chunk_size=64 * 1024, keepends=True)  # type: ignore[no-any-return]


def listing(prefix: str) -> dict[str, str]:
    """The objects under `prefix`, each with its ETag (which changes when the object is rewritten)."""
    found: dict[str, str] = {}
    pages = (
        _client().get_paginator("list_objects_v2").paginate(Bucket=settings().upload_bucket, Prefix=prefix)
    )
    for page in pages:
        found.update({entry["Key"]: entry["ETag"].strip('"') for entry in page.get("Contents", [])})
    return found


def put(key: str, data: bytes, content_type: str = "text/csv; charset=utf-8") -> None:
    _client().put_object(Bucket=settings().upload_bucket, Key=key, Body=data, ContentType=content_type)


class DeleteFailed(RuntimeError):
    """S3 answered 200 but kept some of the objects (`Errors` in its answer), e.g. for want of permission."""


def delete(keys: list[str]) -> None:
    for start in range(0, len(keys), 1000):
        objects = [{"Key": key} for key in keys[start : start + 1000]]
        answer = _client().delete_objects(Bucket=settings().upload_bucket, Delete={"Objects": objects})
        if answer.get("Errors"):
            first = answer["Errors"][0]
            raise DeleteFailed(
                f"S3 kept {len(answer['Errors'])} object(s), e.g. {first.get('Key')}: {first.get('Code')}"
            )


# S3 refuses multipart parts under 5 MiB (except the last), so parts are gathered to this size.
_PART_BYTES = 8 * 1024 * 1024


def concatenate(sources: list[str], target: str, head: bytes = b"") -> None:
    """`head` and the `sources` in order, as one object; memory stays within one part."""
    client, bucket = _client(), settings().upload_bucket
    buffer, upload_id = bytearray(head), None
    parts: list[dict[str, Any]] = []
    for source in sources:
        buffer += client.get_object(Bucket=bucket, Key=source)["Body"].read()
        if len(buffer) >= _PART_BYTES:
            if upload_id is None:
                upload_id = client.create_multipart_upload(Bucket=bucket, Key=target, ContentType="text/csv")[
                    "UploadId"
                ]
            number = len(parts) + 1
            answer = client.upload_part(
                Bucket=bucket, Key=target, UploadId=upload_id, PartNumber=number, Body=bytes(buffer)
            )
            parts.append({"PartNumber": number, "ETag": answer["ETag"]})
            buffer = bytearray()
    if upload_id is None:
        put(target, bytes(buffer))
        return
    if buffer:
        number = len(parts) + 1
        answer = client.upload_part(
            Bucket=bucket, Key=target, UploadId=upload_id, PartNumber=number, Body=bytes(buffer)
        )
        parts.append({"PartNumber": number, "ETag": answer["ETag"]})
    client.complete_multipart_upload(
        Bucket=bucket, Key=target, UploadId=upload_id, MultipartUpload={"Parts": parts}
    )
