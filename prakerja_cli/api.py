"""The API as the CLI sees it: JSON over HTTP with a bearer token, errors in the contract's shape.

urllib3 rather than a client of its own: it comes with botocore, so the CLI adds nothing to talk HTTP.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote, urlencode

import urllib3

from prakerja_cli.text import masked

LOCAL_API_URL = "http://127.0.0.1:8000"
# How a server says it has no such route. The deployed API (and the local stack, from the same
# template: `infra/resources.json`, `GatewayResponses`) answers the contract's 404 with this message,
# which no route's own "not found" uses; a bare API Gateway answers 403 with `_GATEWAY_MISSING`.
MISSING_ROUTE_MESSAGE = "Alamat tidak ditemukan."
_GATEWAY_MISSING = "Missing Authentication Token"
_UPLOAD_BLOCK_BYTES = 64 * 1024


class CliError(Exception):
    """A failure the operator can act on: its text is shown as it is, and the command exits 1."""


@dataclass
class ApiError(CliError):
    """The API refused the request with the contract's error JSON."""

    status: int
    code: str
    message: str
    fields: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        lines = [f"{self.status} {self.code}: {masked(self.message)}"]
        lines += [f"  {name}: {masked(str(problem))}" for name, problem in self.fields.items()]
        return "\n".join(lines)


@dataclass
class RouteMissing(CliError):
    """The server at this address has no such route: another stage, or an older API."""

    method: str
    path: str
    status: int

    def __str__(self) -> str:
        return f"{self.method} {self.path}: server menjawab {self.status}, rute ini tidak ada di sana."


class Unreachable(CliError):
    """No HTTP answer at all."""


@dataclass(frozen=True)
class Api:
    base_url: str
    token: str | None = None
    timeout: float = 30.0
    pool: urllib3.PoolManager = field(
        # A refused connection is safe to retry whatever the method; an answer that never came is
        # not (the request may have run), so reads are not retried.
        default_factory=lambda: urllib3.PoolManager(
            retries=urllib3.Retry(connect=2, read=0, redirect=0, status=0, backoff_factor=0.2)
        )
    )

    def get(self, path: str, query: dict[str, str] | None = None) -> Any:
        return self.call("GET", path + (f"?{urlencode(query)}" if query else ""))

    def post(self, path: str, body: dict[str, Any] | None = None, *, once: bool = False) -> Any:
        """POST `body`; with `once`, under a fresh `Idempotency-Key`, so the API's answer to a
        retried request is the first one's, never a second wave or import."""
        headers = {"Idempotency-Key": str(uuid.uuid4())} if once else {}
        return self.call("POST", path, body, headers)

    def call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        sent = {"Accept": "application/json", **(headers or {})}
        if self.token:
            sent["Authorization"] = f"Bearer {self.token}"
        if body is not None:
            sent["Content-Type"] = "application/json"
        url = self.base_url.rstrip("/") + path
        try:
            answer = self.pool.request(
                method,
                url,
                body=None if body is None else json.dumps(body).encode(),
                headers=sent,
                timeout=urllib3.Timeout(connect=5.0, read=self.timeout),
            )
        except urllib3.exceptions.HTTPError as error:
            raise Unreachable(
                f"Tidak dapat menghubungi API di {self.base_url} ({type(error).__name__}). "
                "Jalankan `make run` untuk stack lokal, atau setel --api-url / PRAKERJA_API_URL."
            ) from None
        return _decoded(method, path.partition("?")[0], answer)


def _decoded(method: str, path: str, answer: urllib3.BaseHTTPResponse) -> Any:
    try:
        body = json.loads(answer.data) if answer.data else None
    except ValueError:
        body = None
    if answer.status < 400:
        return body
    error = body.get("error") if isinstance(body, dict) else None
    if _route_missing(answer.status, body, error):
        raise RouteMissing(method, path, answer.status)
    if isinstance(error, dict) and isinstance(error.get("code"), str):
        fields = error.get("fields")
        raise ApiError(
            answer.status,
            error["code"],
            str(error.get("message", "")),
            fields if isinstance(fields, dict) else {},
        )
    text = answer.data[:200].decode("utf-8", "replace").strip()
    raise ApiError(answer.status, f"HTTP_{answer.status}", text or "jawaban kosong")


def _route_missing(status: int, body: Any, error: Any) -> bool:
    if status == 404:
        return not isinstance(error, dict) or error.get("message") == MISSING_ROUTE_MESSAGE
    return status == 403 and isinstance(body, dict) and body.get("message") == _GATEWAY_MISSING


def path_of(*parts: str) -> str:
    """A path from segments, each quoted: an id typed by hand must not reach another route."""
    return "".join("/" + quote(part, safe="") for part in parts)


def _blocks(source: BinaryIO, sent: Callable[[int], None]) -> Iterator[bytes]:
    """The file in blocks, each reported once it is handed to the connection (the progress bar)."""
    while block := source.read(_UPLOAD_BLOCK_BYTES):
        yield block
        sent(len(block))


def upload(pool: urllib3.PoolManager, url: str, file: Path, sent: Callable[[int], None]) -> None:
    """PUT the file to a presigned S3 link, with its length given so that S3 takes it in one piece."""
    with file.open("rb") as source:
        try:
            answer = pool.request(
                "PUT",
                url,
                body=_blocks(source, sent),
                headers={"Content-Length": str(file.stat().st_size), "Content-Type": "text/csv"},
                timeout=urllib3.Timeout(connect=5.0, read=300.0),
                preload_content=True,
                chunked=False,
            )
        except urllib3.exceptions.HTTPError as error:
            raise Unreachable(f"Unggahan ke tautan S3 gagal ({type(error).__name__}).") from None
    if answer.status >= 300:
        code = re.search(rb"<Code>([^<]{1,80})</Code>", answer.data)
        reason = code.group(1).decode() if code else f"HTTP {answer.status}"
        raise CliError(f"S3 menolak unggahan: {reason}. Tautan berlaku sebentar; ulangi perintahnya.")
