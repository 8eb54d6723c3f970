"""The four payment partners as the local stack plays them (docs/PARTNERS.md; CONTRACT.md, "Local
fakes"): one small threaded HTTP server, each partner under `/{partner_id}/…` with its own secret,
ledger (on disk) and failure modes.

A transfer is ACCEPTED and completes `settle_seconds` later, with a signed callback to its
`callback_url`; one to a closed account (a number ending in 0000) FAILS at once. Completed and
failed transfers go into the day's settlement file. The ledger is the partner's own truth: the
exactly-once tests and the `/dev/partners/{partner_id}/ledger` route read it.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from chalicelib.core import clock
from chalicelib.incentives.partners.accounts import PARTNERS, valid_account_number
from chalicelib.incentives.partners.signing import holds
from devstack.issuer import LocalIssuer
from devstack.partners.callbacks import CallbackSender, Delivery
from devstack.partners.faults import Dice, Faults, RequestFault
from devstack.partners.ledger import ACCEPTED, FAILED, KeyReused, Ledger, Row
from devstack.partners.settlement import MemorySink, SettlementWriter, Sink
from devstack.partners.timers import Timers

log = logging.getLogger("devstack.partners")

WIB = timezone(timedelta(hours=7))
# Local secrets protect nothing real; the stack hands the same map to the app (PARTNER_SECRETS).
LOCAL_SECRETS = {partner_id: f"local-{partner_id.lower()}-secret-not-a-secret" for partner_id in PARTNERS}
SETTLE_SECONDS = 2.0
LATE_CALLBACK_SECONDS = 5.0
# Longer than the app's partner timeout (10 s by default): a held request must outlast its client.
HOLD_SECONDS = 30.0
MAX_BODY_BYTES = 64 * 1024
LISTEN_BACKLOG = 256
# How soon `close` returns: the server looks for a shutdown request this often.
SHUTDOWN_POLL_SECONDS = 0.05
CLOSED_ACCOUNT_SUFFIX = "0000"
_NIK = re.compile(r"^[0-9]{16}$")


class UnknownPartnerId(KeyError):
    pass


@dataclass(frozen=True)
class Reply:
    status: int
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def dropped(self) -> bool:
        """Held past the client's timeout and closed without an answer."""
        return self.status == 0


DROPPED = Reply(0)


def refusal(status: int, code: str, message: str, fields: dict[str, str] | None = None) -> Reply:
    return Reply(status, {"error": {"code": code, "message": message, "fields": fields or {}}})


class FakePartner:
    def __init__(self, partner_id: str, secret: str, ledger: Ledger) -> None:
        self.partner_id = partner_id
        self.secret = secret.encode()
        self.ledger = ledger
        self.dice = Dice()
        self.requests = 0
        self.in_flight = 0
        self.lock = threading.Lock()


class FakePartners:
    def __init__(
        self,
        state_dir: Path,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        secrets: Mapping[str, str] = LOCAL_SECRETS,
        settlements: Sink | None = None,
        issuer: LocalIssuer | None = None,
        settle_seconds: float = SETTLE_SECONDS,
        late_callback_seconds: float = LATE_CALLBACK_SECONDS,
        hold_seconds: float = HOLD_SECONDS,
        max_concurrent: int | None = None,
        callback_attempts: int = 5,
        settlement_interval_seconds: float = 0.5,
        now: Callable[[], datetime] = clock.now,
    ) -> None:
        self.partners = {
            partner_id: FakePartner(
                partner_id, secrets[partner_id], Ledger(state_dir / f"{partner_id}.sqlite3")
            )
            for partner_id in PARTNERS
        }
        self.settle_seconds = settle_seconds
        self.late_callback_seconds = late_callback_seconds
        self.hold_seconds = hold_seconds
        self.max_concurrent = max_concurrent
        self._now = now
        self._closing = threading.Event()
        self.settlements = settlements if settlements is not None else MemorySink()
        self._writer = SettlementWriter(self.settlements, self._settled_on, settlement_interval_seconds)
        self._timers = Timers("fake-partners-timers")
        self._callbacks = CallbackSender(
            {partner_id: partner.secret for partner_id, partner in self.partners.items()},
            _token_maker(issuer),
            attempts=callback_attempts,
        )
        # The local AWS endpoint starts empty: the files of the days the ledgers already hold are
        # written again, so the bucket and the books agree after a restart too.
        self._mark_every_day()
        for partner in self.partners.values():
            for row in partner.ledger.waiting():
                self._schedule_settlement(partner, row)
        self._server = _server(self, host, port)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            args=(SHUTDOWN_POLL_SECONDS,),
            name="fake-partners",
            daemon=True,
        )
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def url_template(self) -> str:
        """What the app's `PARTNERS_URL` should be to talk to these partners."""
        return self.url + "/{partner_id}"

    @property
    def deliveries(self) -> list[Delivery]:
        return list(self._callbacks.deliveries)

    def partner(self, partner_id: str) -> FakePartner:
        if partner_id not in self.partners:
            raise UnknownPartnerId(partner_id)
        return self.partners[partner_id]

    def set_faults(self, partner_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """The faults `body` asks for, in force from now on (`{}`: healthy); the settings in force."""
        partner = self.partner(partner_id)
        faults = Faults.of(body)
        partner.dice.set(faults)
        log.info("partner %s faults: %s", partner_id, faults.as_dict())
        return faults.as_dict()

    def ledger(self, partner_id: str) -> dict[str, Any]:
        return {"transfers": [row.listed() for row in self.partner(partner_id).ledger.all()]}

    def flush(self) -> None:
        """Every settlement file level with the ledgers now: every day of every ledger written again,
        not only the marked ones, since a transfer is marked a moment after its ledger changes."""
        self._mark_every_day()
        self._writer.flush()

    def _mark_every_day(self) -> None:
        for partner in self.partners.values():
            for day in partner.ledger.days():
                self._writer.mark(partner.partner_id, day)

    def close(self) -> None:
        if self._closing.is_set():
            return
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()
        self._timers.close()
        self._callbacks.close()
        self._mark_every_day()
        self._writer.close()
        for partner in self.partners.values():
            partner.ledger.close()

    def answer(self, method: str, path: str, headers: Mapping[str, str], raw: bytes) -> Reply:
        parts = urlsplit(path).path.split("/", 2)
        partner = self.partners.get(parts[1] if len(parts) > 1 else "")
        if partner is None:
            return refusal(404, "UNKNOWN_PARTNER", "Mitra pembayaran tidak dikenal.")
        with partner.lock:
            partner.requests += 1
        faults = partner.dice.faults
        if faults.down:
            return refusal(503, "PARTNER_DOWN", "Layanan mitra sedang tidak tersedia.")
        if not holds(partner.secret, headers, raw, time.time()):
            return refusal(401, "BAD_SIGNATURE", "Tanda tangan permintaan tidak sah.")
        if not self._enter(partner):
            return Reply(
                429,
                {"error": {"code": "THROTTLED", "message": "Terlalu banyak permintaan."}},
                {"Retry-After": "1"},
            )
        try:
            return self._faulty(partner, faults, method, parts[2] if len(parts) > 2 else "", headers, raw)
        finally:
            with partner.lock:
                partner.in_flight -= 1

    def _enter(self, partner: FakePartner) -> bool:
        with partner.lock:
            if self.max_concurrent is not None and partner.in_flight >= self.max_concurrent:
                return False
            partner.in_flight += 1
            return True

    def _faulty(
        self,
        partner: FakePartner,
        faults: Faults,
        method: str,
        route: str,
        headers: Mapping[str, str],
        raw: bytes,
    ) -> Reply:
        if faults.latency_ms:
            self._closing.wait(faults.latency_ms / 1000)
        fault = partner.dice.request()
        if fault is RequestFault.TIMEOUT:
            self._closing.wait(self.hold_seconds)
            return DROPPED
        if fault is RequestFault.ERROR:
            return refusal(500, "INTERNAL_ERROR", "Kesalahan pada mitra.")
        reply = self._route(partner, method, route, headers, raw)
        if fault is RequestFault.ACCEPT_THEN_TIMEOUT:
            self._closing.wait(self.hold_seconds)
            return DROPPED
        return reply

    def _route(
        self, partner: FakePartner, method: str, route: str, headers: Mapping[str, str], raw: bytes
    ) -> Reply:
        if method == "POST" and route == "accounts/verify":
            return self._verify(partner, raw)
        if method == "POST" and route == "transfers":
            return self._transfer(partner, _header(headers, "Idempotency-Key"), raw)
        if method == "GET" and route.startswith("transfers/") and "/" not in route.removeprefix("transfers/"):
            found = partner.ledger.find(unquote(route.removeprefix("transfers/")))
            if found is None:
                return refusal(404, "NOT_FOUND", "Transfer tidak ditemukan.")
            return Reply(200, found.answer())
        return refusal(404, "UNKNOWN_ROUTE", "Alamat tidak dikenal.")

    def _verify(self, partner: FakePartner, raw: bytes) -> Reply:
        body = _json_object(raw)
        if body is None:
            return refusal(400, "MALFORMED_JSON", "Isi permintaan bukan JSON yang sah.")
        number = body.get("account_number")
        if not isinstance(number, str) or not valid_account_number(partner.partner_id, number):
            return refusal(422, "INVALID_ACCOUNT_NUMBER", "Nomor rekening tidak sesuai format mitra.")
        fields = {}
        if not isinstance(body.get("account_name"), str) or not body["account_name"].strip():
            fields["account_name"] = "Wajib diisi."
        if not isinstance(body.get("nik"), str) or not _NIK.match(body["nik"]):
            fields["nik"] = "Harus 16 angka."
        if fields:
            return refusal(422, "VALIDATION_FAILED", "Data tidak valid.", fields)
        if number.endswith(CLOSED_ACCOUNT_SUFFIX):
            return Reply(200, {"status": "REJECTED", "reason": "ACCOUNT_CLOSED"})
        return Reply(200, {"status": "VERIFIED", "account_holder": body["account_name"]})

    def _transfer(self, partner: FakePartner, key: str, raw: bytes) -> Reply:
        if not key:
            return refusal(400, "IDEMPOTENCY_KEY_REQUIRED", "Header Idempotency-Key wajib ada.")
        body = _json_object(raw)
        if body is None:
            return refusal(400, "MALFORMED_JSON", "Isi permintaan bukan JSON yang sah.")
        problem = _transfer_problem(partner.partner_id, key, body)
        if problem is not None:
            return problem
        closed = str(body["account_number"]).endswith(CLOSED_ACCOUNT_SUFFIX)
        moment = self._now()
        row = Row(
            reference=key,
            idempotency_key=key,
            request=json.dumps(body, sort_keys=True, separators=(",", ":")),
            transfer_id="",
            amount=body["amount"],
            currency=body["currency"],
            account_number=body["account_number"],
            callback_url=body["callback_url"],
            status=FAILED if closed else ACCEPTED,
            reason="ACCOUNT_CLOSED" if closed else None,
            created_at=_iso(moment),
            settle_after=None if closed else time.time() + self.settle_seconds,
            settled_at=_iso(moment) if closed else None,
            settled_day=_day(moment) if closed else None,
        )
        try:
            stored, new = partner.ledger.create(row)
        except KeyReused:
            return refusal(
                409, "IDEMPOTENCY_KEY_REUSED", "Idempotency-Key ini sudah dipakai untuk permintaan lain."
            )
        if new and closed:
            self._settled(partner, stored)
        elif new:
            self._schedule_settlement(partner, stored)
        return Reply(201 if new else 200, stored.answer())

    def _schedule_settlement(self, partner: FakePartner, row: Row) -> None:
        delay = (row.settle_after or 0.0) - time.time()
        self._timers.after(delay, lambda: self._settle(partner, row.reference))

    def _settle(self, partner: FakePartner, reference: str) -> None:
        moment = self._now()
        settled = partner.ledger.settle(reference, _iso(moment), _day(moment))
        if settled is not None:
            self._settled(partner, settled)

    def _settled(self, partner: FakePartner, row: Row) -> None:
        """A final status: into the day's settlement file, and called back (twice, late: as drawn)."""
        assert row.settled_day is not None
        self._writer.mark(partner.partner_id, row.settled_day)
        twice, late = partner.dice.callback(row.reference)
        for _ in range(2 if twice else 1):
            if late:
                self._timers.after(
                    self.late_callback_seconds, lambda: self._callbacks.send(partner.partner_id, row)
                )
            else:
                self._callbacks.send(partner.partner_id, row)

    def _settled_on(self, partner_id: str, day: str) -> list[Row]:
        return self.partners[partner_id].ledger.settled_on(day)


def _transfer_problem(partner_id: str, key: str, body: dict[str, Any]) -> Reply | None:
    number = body.get("account_number")
    if not isinstance(number, str) or not valid_account_number(partner_id, number):
        return refusal(422, "INVALID_ACCOUNT_NUMBER", "Nomor rekening tidak sesuai format mitra.")
    fields = {}
    amount = body.get("amount")
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        fields["amount"] = "Harus bilangan bulat Rupiah lebih dari 0."
    if body.get("currency") != "IDR":
        fields["currency"] = "Harus IDR."
    for name in ("reference", "account_name"):
        if not isinstance(body.get(name), str) or not body[name].strip():
            fields[name] = "Wajib diisi."
    if not isinstance(body.get("callback_url"), str) or not body["callback_url"].startswith(
        ("http://", "https://")
    ):
        fields["callback_url"] = "Harus alamat http(s)."
    if fields:
        return refusal(422, "VALIDATION_FAILED", "Data transfer tidak valid.", fields)
    if body["reference"] != key:
        return refusal(422, "REFERENCE_MISMATCH", "reference harus sama dengan Idempotency-Key.")
    return None


def _token_maker(issuer: LocalIssuer | None) -> Callable[[str], str] | None:
    if issuer is None:
        return None
    return lambda partner_id: issuer.token(
        {"role": "partner", "sub": f"partner-{partner_id.lower()}", "partner_id": partner_id}
    )


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    return ""


def _json_object(raw: bytes) -> dict[str, Any] | None:
    try:
        body = json.loads(raw)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _iso(moment: datetime) -> str:
    return moment.astimezone(WIB).isoformat(timespec="seconds")


def _day(moment: datetime) -> str:
    return moment.astimezone(WIB).date().isoformat()


def _server(partners: FakePartners, host: str, port: int) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        # Keep-alive, as a partner's real API answers: the app's client keeps a pool of connections.
        protocol_version = "HTTP/1.1"
        # A reply goes out in two writes (head, then body): with Nagle's algorithm the body would
        # wait for the client's delayed ACK of the head, 40 ms on Linux, on every answer.
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def _serve(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY_BYTES:
                self.close_connection = True  # the body was not read: the connection cannot carry another
                self._reply(refusal(413, "TOO_LARGE", "Isi permintaan terlalu besar."))
                return
            raw = self.rfile.read(length) if length else b""
            reply = partners.answer(method, self.path, dict(self.headers.items()), raw)
            if reply.dropped:
                self.close_connection = True
                return
            self._reply(reply)

        def _reply(self, reply: Reply) -> None:
            data = json.dumps(reply.body).encode() if reply.body is not None else b""
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: requests carry names and account numbers, which never go to a console."""

    class Server(ThreadingHTTPServer):
        request_queue_size = LISTEN_BACKLOG

    return Server((host, port), Handler)
