"""A zero-latency AWS for the import benchmarks, answered at botocore's HTTP layer.

`bench.registration` answers every request with `{}`; an import needs a little more to run at
all: S3 must serve the uploaded file by byte range and keep the report parts it is given, and
the import's own record must read back as it was saved. So this stub keeps S3 objects as files
in a directory (ranges are read from disk, so a large upload never sits in the measured process's
memory) and keeps what `PutItem` stores. Everything else gets a plausible empty answer: no item
found by `BatchGetItem`, every transaction and condition accepted, every message sent. Items
written in transactions are not kept, so duplicates are found within a chunk only (as in the
benchmark files, whose repeated rows follow their originals). The SDK still builds, signs and
parses every call.

Kept apart from `bench.registration`'s stateless stub, which measures something else.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import botocore.endpoint
from botocore.awsrequest import AWSPreparedRequest, AWSResponse

_JSON = {"x-amzn-RequestId": "stub", "Content-Type": "application/x-amz-json-1.0"}
_XML = {"x-amz-request-id": "stub", "Content-Type": "application/xml"}
_READ_BYTES = 1024 * 1024


class InMemoryBody:
    """A response body already in memory."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.data

    def read(self, amount: int | None = None) -> bytes:
        data, self.data = (self.data, b"") if amount is None else (self.data[:amount], self.data[amount:])
        return data

    def close(self) -> None:
        pass


class FileRange:
    """A response body read from a file on demand; counts what the reader took, for replaying."""

    def __init__(self, path: Path, start: int, end: int) -> None:
        self.path, self.position, self.end, self.consumed = path, start, end, 0

    def read(self, amount: int | None = None) -> bytes:
        wanted = self.end - self.position if amount is None else min(amount, self.end - self.position)
        if wanted <= 0:
            return b""
        with self.path.open("rb") as file:
            file.seek(self.position)
            data = file.read(wanted)
        self.position += len(data)
        self.consumed += len(data)
        return data

    def stream(self, **_: Any) -> Iterator[bytes]:
        while chunk := self.read(_READ_BYTES):
            yield chunk

    def close(self) -> None:
        pass


def _body_bytes(request: AWSPreparedRequest) -> bytes:
    body = request.body
    if body is None:
        return b""
    if isinstance(body, bytes | bytearray):
        return bytes(body)
    if isinstance(body, str):
        return body.encode()
    body.seek(0)
    data: bytes = body.read()
    return data


class AwsStub:
    """S3 objects under `directory`; items stored by `PutItem`; `{}` for the rest."""

    def __init__(self, directory: Path) -> None:
        self.objects = directory / "objects"
        self.uploads = directory / "multipart"
        for folder in (self.objects, self.uploads):
            folder.mkdir(parents=True, exist_ok=True)
        self.items: dict[tuple[str, str], dict[str, Any]] = {}
        self.requests = 0

    def install(self) -> None:
        """Every botocore client in this process, boto3's and PynamoDB's alike, talks to the stub."""
        stub = self

        def send(_endpoint: Any, request: AWSPreparedRequest) -> AWSResponse:
            return stub.answer(request)

        botocore.endpoint.Endpoint._send = send

    def object_path(self, key: str) -> Path:
        return self.objects / key.replace("/", "%2F")

    def put_file(self, key: str, source: Path) -> None:
        """An upload that is already there, as if an office had PUT it."""
        shutil.copyfile(source, self.object_path(key))

    def answer(self, request: AWSPreparedRequest) -> AWSResponse:
        self.requests += 1
        target = request.headers.get("X-Amz-Target")
        if target is not None:
            service, _, operation = (target.decode() if isinstance(target, bytes) else str(target)).partition(
                "."
            )
            payload = json.loads(_body_bytes(request) or b"{}")
            answer = self._dynamodb(operation, payload) if service.startswith("DynamoDB") else {}
            return AWSResponse(request.url, 200, _JSON, InMemoryBody(json.dumps(answer).encode()))
        return self._s3(request)

    # --- DynamoDB ---------------------------------------------------------------------------------

    @staticmethod
    def _key(table: str, key: dict[str, Any]) -> tuple[str, str]:
        return table, json.dumps({name: key[name] for name in ("pk", "sk", "id") if name in key})

    def _dynamodb(self, operation: str, payload: dict[str, Any]) -> dict[str, Any]:
        if operation == "PutItem":
            self.items[self._key(payload["TableName"], payload["Item"])] = payload["Item"]
            return {}
        if operation == "GetItem":
            item = self.items.get(self._key(payload["TableName"], payload["Key"]))
            return {"Item": item} if item is not None else {}
        if operation == "BatchGetItem":
            responses = {
                table: [
                    item
                    for key in request["Keys"]
                    if (item := self.items.get(self._key(table, key))) is not None
                ]
                for table, request in payload["RequestItems"].items()
            }
            return {"Responses": responses, "UnprocessedKeys": {}}
        if operation == "Query":
            return {"Items": [], "Count": 0, "ScannedCount": 0}
        return {}

    # --- S3 ---------------------------------------------------------------------------------------

    def _s3(self, request: AWSPreparedRequest) -> AWSResponse:
        url = urlsplit(request.url)
        key = unquote(url.path).lstrip("/").partition("/")[2]
        query = parse_qs(url.query, keep_blank_values=True)
        if request.method == "GET":
            return self._get(request, key)
        if request.method == "HEAD":
            path = self.object_path(key)
            if not path.exists():
                return AWSResponse(request.url, 404, _XML, InMemoryBody(b""))
            headers = {**_XML, "Content-Length": str(path.stat().st_size)}
            return AWSResponse(request.url, 200, headers, InMemoryBody(b""))
        if "uploadId" in query or "uploads" in query:
            return self._multipart(request, key, query)
        if "delete" in query:
            for chunk in _body_bytes(request).decode().split("<Key>")[1:]:
                self.object_path(chunk.partition("</Key>")[0]).unlink(missing_ok=True)
            return AWSResponse(request.url, 200, _XML, InMemoryBody(b"<DeleteResult></DeleteResult>"))
        if request.method == "PUT":
            self.object_path(key).write_bytes(_body_bytes(request))
        return AWSResponse(request.url, 200, {**_XML, "ETag": '"stub"'}, InMemoryBody(b""))

    def _multipart(self, request: AWSPreparedRequest, key: str, query: dict[str, list[str]]) -> AWSResponse:
        if "uploads" in query:
            upload_id = uuid.uuid4().hex
            (self.uploads / upload_id).mkdir()
            xml = f"<InitiateMultipartUploadResult><UploadId>{upload_id}</UploadId>"
            xml += "</InitiateMultipartUploadResult>"
            return AWSResponse(request.url, 200, _XML, InMemoryBody(xml.encode()))
        folder = self.uploads / query["uploadId"][0]
        # A replayed call names an upload the stub has completed already: it is begun again.
        folder.mkdir(exist_ok=True)
        if request.method == "PUT":
            part = folder / f"{int(query['partNumber'][0]):05d}"
            part.write_bytes(_body_bytes(request))
            return AWSResponse(request.url, 200, {**_XML, "ETag": f'"{part.name}"'}, InMemoryBody(b""))
        with self.object_path(key).open("wb") as target:
            for part in sorted(folder.iterdir()):
                with part.open("rb") as source:
                    shutil.copyfileobj(source, target)
        shutil.rmtree(folder)
        xml = '<CompleteMultipartUploadResult><ETag>"stub"</ETag></CompleteMultipartUploadResult>'
        return AWSResponse(request.url, 200, _XML, InMemoryBody(xml.encode()))

    def _get(self, request: AWSPreparedRequest, key: str) -> AWSResponse:
        path = self.object_path(key)
        if not path.exists():
            error = b"<Error><Code>NoSuchKey</Code><Message>no such key</Message></Error>"
            return AWSResponse(request.url, 404, _XML, InMemoryBody(error))
        size = path.stat().st_size
        wanted = request.headers.get("Range")
        start = 0
        if wanted is not None:
            text = wanted.decode() if isinstance(wanted, bytes) else str(wanted)
            start = int(text.removeprefix("bytes=").partition("-")[0])
            if start >= size:
                error = b"<Error><Code>InvalidRange</Code><Message>not satisfiable</Message></Error>"
                return AWSResponse(request.url, 416, _XML, InMemoryBody(error))
        headers = {**_XML, "Content-Type": "text/csv", "Content-Length": str(size - start), "ETag": '"stub"'}
        status = 200
        if wanted is not None:
            headers["Content-Range"] = f"bytes {start}-{size - 1}/{size}"
            status = 206
        return AWSResponse(request.url, status, headers, FileRange(path, start, size))
