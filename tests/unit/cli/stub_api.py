"""A stand-in for the API on a free loopback port: canned answers per method and path, and a record
of every request, so the CLI's formatting and error paths are tested without the local stack."""

from __future__ import annotations

import json
import threading
from collections import defaultdict, deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parents[3]


def missing_route_answer() -> tuple[int, Any]:
    """What the deployed API (and the local stack) answer a path no route has with, from the template."""
    template = json.loads((PROJECT / "infra" / "resources.json").read_text(encoding="utf-8"))
    responses = template["Resources"]["RestAPI"]["Properties"]["GatewayResponses"]
    answer = responses["MISSING_AUTHENTICATION_TOKEN"]
    return int(answer["StatusCode"]), json.loads(answer["ResponseTemplates"]["application/json"])


MISSING_ROUTE = missing_route_answer()


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class StubApi:
    url: str
    # Answers for (method, path with query) are given in turn; the last one stays for later requests.
    answers: dict[tuple[str, str], deque[tuple[int, Any]]] = field(default_factory=lambda: defaultdict(deque))
    received: list[Received] = field(default_factory=list)

    def answer(self, method: str, path: str, *answers: tuple[int, Any]) -> None:
        self.answers[(method, path)].extend(answers)

    def requests_to(self, method: str, path: str) -> list[Received]:
        return [sent for sent in self.received if (sent.method, sent.path) == (method, path)]

    def reply(self, method: str, path: str) -> tuple[int, Any]:
        waiting = self.answers.get((method, path))
        if not waiting:
            return MISSING_ROUTE
        return waiting.popleft() if len(waiting) > 1 else waiting[0]


@contextmanager
def stub_api() -> Iterator[StubApi]:
    stub: StubApi

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            stub.received.append(Received(self.command, self.path, dict(self.headers.items()), body))
            status, answer = stub.reply(self.command, self.path)
            raw = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_GET(self) -> None:
            self._handle()

        def do_POST(self) -> None:
            self._handle()

        def do_PUT(self) -> None:
            self._handle()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    stub = StubApi(f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()
