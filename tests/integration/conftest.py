"""Fixtures of the payment tests: the fake payment partners, and the app's callback route as
partners reach it over HTTP."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.core import clock
from chalicelib.incentives import partners
from devstack.partners import LOCAL_SECRETS, FakePartners, MemorySink
from tests.conftest import ISSUER, setup_client

PARTNER_SECRETS_ID = "prakerja/local/partner-secrets"


@dataclass
class Callbacks:
    """The app's callback route as partners reach it over HTTP: each request is kept and delivered
    to the app in the test's own thread (in-process moto serves one thread at a time)."""

    url: str = ""
    waiting: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    delivered: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)

    def deliver(self, client: Client) -> list[int]:
        """Each waiting callback to the app; one whose request died is kept, with those after it,
        as a partner that got no answer would send it again."""
        with self.lock:
            taken, self.waiting = self.waiting, []
        statuses = []
        for index, (path, headers, raw) in enumerate(taken):
            try:
                statuses.append(client.http.post(path, headers=headers, body=raw).status_code)
            except BaseException:
                with self.lock:
                    self.waiting[:0] = taken[index:]
                raise
            self.delivered.append(taken[index])
        return statuses

    def replay(self, client: Client) -> list[int]:
        """Every callback delivered so far, once more (their signatures hold for five minutes)."""
        return [
            client.http.post(path, headers=headers, body=raw).status_code
            for path, headers, raw in self.delivered
        ]


@pytest.fixture
def callbacks() -> Iterator[Callbacks]:
    kept = Callbacks()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with kept.lock:
                kept.waiting.append((self.path, dict(self.headers.items()), raw))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    kept.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield kept
    server.shutdown()
    server.server_close()


@pytest.fixture
def fake(
    tmp_path: Path, client: Client, configure: Callable[..., None], callbacks: Callbacks
) -> Iterator[FakePartners]:
    partners_fake = FakePartners(
        tmp_path / "partners",
        settlements=MemorySink(),
        issuer=ISSUER,
        settle_seconds=0.02,
        late_callback_seconds=0.2,
        hold_seconds=0.6,
        callback_attempts=2,
        settlement_interval_seconds=0.05,
    )
    # As a deployed function reads them: one Secrets Manager secret holding every partner's.
    setup_client("secretsmanager").create_secret(
        Name=PARTNER_SECRETS_ID, SecretString=json.dumps(LOCAL_SECRETS)
    )
    configure(
        PARTNERS_URL=partners_fake.url_template,
        PARTNER_SECRETS_ID=PARTNER_SECRETS_ID,
        PARTNER_TIMEOUT_SECONDS="0.3",
        PARTNER_RETRIES="1",
        PARTNER_BACKOFF_SECONDS="0.01",
        PARTNER_BREAKER_FAILURES="5",
        PARTNER_BREAKER_RESET_SECONDS="60",
        PARTNER_CALLBACK_BASE_URL=callbacks.url,
    )
    partners.forget()
    yield partners_fake
    partners_fake.close()
    partners.forget()
    clock.set_now(None)
