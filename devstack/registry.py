"""The civil registry (Dukcapil) as the local stack plays it, over the adapter's HTTP interface.

Deterministic, as the contract's "Local fakes" says: a NIK whose last four digits are 9999 is
rejected, every other well-formed NIK is verified. It counts the lookups it answers, so tests
can check that pacing and retries ask no more than they should.
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_NIK = re.compile(r"^\d{16}$")


class FakeRegistry:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.lookups = 0
        self.failing = False
        self.api_keys: list[str | None] = []
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    request = json.loads(self.rfile.read(length))
                except json.JSONDecodeError:
                    self._answer(400, {"error": "malformed"})
                    return
                if self.path != "/verify" or not isinstance(request, dict):
                    self._answer(404, {"error": "unknown"})
                    return
                if registry.failing:
                    self._answer(503, {"error": "unavailable"})
                    return
                registry.lookups += 1
                registry.api_keys.append(self.headers.get("X-Api-Key"))
                self._answer(200, registry.answer(str(request.get("nik", ""))))

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: lookups carry NIKs, which never go to a console."""

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-registry", daemon=True)
        self._thread.start()

    @staticmethod
    def answer(nik: str) -> dict[str, Any]:
        if not _NIK.match(nik):
            return {"verified": False, "reason": "NIK_MALFORMED"}
        if nik.endswith("9999"):
            return {"verified": False, "reason": "NIK_REJECTED"}
        return {"verified": True}

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
