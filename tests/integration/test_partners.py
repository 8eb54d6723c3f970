"""The partners' client against the fake partners, in-process on free ports: every duplicate case
of paying exactly once, signatures both ways, the circuit breaker, callbacks, settlement files and
a ledger that survives a restart (docs/PARTNERS.md)."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import jwt
import pytest
from moto import mock_aws

from chalicelib.incentives.partners import (
    PartnerClient,
    PartnerNotConfigured,
    PartnerRefused,
    PartnerTimeout,
    PartnerUnavailable,
    TransferStatus,
    UnknownPartner,
    client_for,
    forget,
    read_callback,
    verify_callback,
)
from chalicelib.incentives.partners.signing import signed_headers
from devstack.issuer import ISSUER as ISSUER_NAME
from devstack.partners import LOCAL_SECRETS, FakePartners, S3Sink
from devstack.partners.settlement import MemorySink
from tests.conftest import ISSUER
from tests.integration.test_devstack import free_port

NIK = "3171234501900001"
OVO_ACCOUNT = "081234567890"
CLOSED_OVO_ACCOUNT = "081234560000"
BNI_ACCOUNT = "0123456789"
CLIENT_TIMEOUT = 0.3
HOLD = 1.0
RETRIES = 2
BREAKER_FAILURES = 5
SETTLE = 0.05
LATE = 0.4


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Receiver:
    """The programme's callback route, played by a tiny server that answers as it is told."""

    url: str
    received: list[Received] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return list(self.received)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            state.received.append(Received(dict(self.headers.items()), body, time.time()))
            self.send_response(state.answers.pop(0) if state.answers else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/v1/partner/payments/p-INCENTIVE-1/status"
    yield state
    server.shutdown()
    server.server_close()


def start_fake(directory: Path, sink: Any = None, **options: Any) -> FakePartners:
    return FakePartners(
        directory,
        settlements=sink or MemorySink(),
        issuer=ISSUER,
        settle_seconds=SETTLE,
        late_callback_seconds=LATE,
        hold_seconds=HOLD,
        callback_attempts=3,
        settlement_interval_seconds=0.05,
        **options,
    )


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[FakePartners]:
    partners = start_fake(tmp_path / "partners")
    yield partners
    partners.close()


@pytest.fixture
def use(configure: Callable[..., None]) -> Iterator[Callable[..., None]]:
    """Point the app's settings at a fake: `use(fake, PARTNER_RETRIES="0")`."""

    def apply(partners: FakePartners, **overrides: str) -> None:
        configure(
            **{
                "PARTNERS_URL": partners.url_template,
                "PARTNER_SECRETS": json.dumps(LOCAL_SECRETS),
                "PARTNER_TIMEOUT_SECONDS": str(CLIENT_TIMEOUT),
                "PARTNER_RETRIES": str(RETRIES),
                "PARTNER_BACKOFF_SECONDS": "0.01",
                "PARTNER_BREAKER_FAILURES": str(BREAKER_FAILURES),
                "PARTNER_BREAKER_RESET_SECONDS": "30",
                **overrides,
            }
        )
        forget()

    yield apply
    forget()


@pytest.fixture
def ovo(fake: FakePartners, use: Callable[..., None]) -> PartnerClient:
    use(fake)
    return client_for("OVO")


def send(client: PartnerClient, reference: str, amount: int = 600_000, account: str = OVO_ACCOUNT) -> Any:
    return client.send_transfer(reference, amount, account, "Siti Rahayu", "http://127.0.0.1:9/callback")


def ledger(fake: FakePartners, partner_id: str = "OVO") -> list[dict[str, Any]]:
    transfers: list[dict[str, Any]] = fake.ledger(partner_id)["transfers"]
    return transfers


def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


# Accounts


def test_an_open_account_is_verified_and_a_closed_one_is_rejected(ovo: PartnerClient) -> None:
    verified = ovo.verify_account(OVO_ACCOUNT, "Siti Rahayu", NIK)
    closed = ovo.verify_account(CLOSED_OVO_ACCOUNT, "Siti Rahayu", NIK)

    assert verified.verified
    assert verified.account_holder == "Siti Rahayu"
    assert not closed.verified
    assert closed.reason == "ACCOUNT_CLOSED"


def test_an_account_number_of_another_partners_shape_is_refused_by_the_partner(ovo: PartnerClient) -> None:
    with pytest.raises(PartnerRefused) as refused:
        ovo.verify_account(BNI_ACCOUNT, "Siti Rahayu", NIK)

    assert (refused.value.status, refused.value.code) == (422, "INVALID_ACCOUNT_NUMBER")


# Transfers


def test_a_transfer_is_accepted_then_completes_with_a_signed_callback(
    fake: FakePartners, use: Callable[..., None], receiver: Receiver
) -> None:
    use(fake)
    ovo = client_for("OVO")

    accepted = ovo.send_transfer("p1-INCENTIVE-1-A1", 600_000, OVO_ACCOUNT, "Siti Rahayu", receiver.url)
    [callback] = receiver.wait_for(1)

    assert (accepted.status, accepted.amount, accepted.reference) == (
        TransferStatus.ACCEPTED,
        600_000,
        "p1-INCENTIVE-1-A1",
    )
    assert verify_callback("OVO", callback.headers, callback.body, time.time())
    paid = read_callback(callback.body)
    assert (paid.status, paid.reference, paid.transfer_id, paid.amount, paid.currency) == (
        "PAID",
        "p1-INCENTIVE-1-A1",
        accepted.transfer_id,
        600_000,
        "IDR",
    )
    token = callback.headers["Authorization"].removeprefix("Bearer ")
    key = jwt.PyJWKClient(ISSUER.jwks_url).get_signing_key_from_jwt(token)
    claims = jwt.decode(token, key.key, algorithms=["RS256"], issuer=ISSUER_NAME)
    assert (claims["role"], claims["partner_id"]) == ("partner", "OVO")
    completed = ovo.transfer("p1-INCENTIVE-1-A1")
    assert completed is not None
    assert completed.status is TransferStatus.COMPLETED


def test_a_transfer_to_a_closed_account_fails_at_once_with_account_closed(
    fake: FakePartners, ovo: PartnerClient
) -> None:
    failed = send(ovo, "p2-INCENTIVE-1-A1", account=CLOSED_OVO_ACCOUNT)

    assert (failed.status, failed.reason) == (TransferStatus.FAILED, "ACCOUNT_CLOSED")
    assert [(row["status"], row["reason"]) for row in ledger(fake)] == [("FAILED", "ACCOUNT_CLOSED")]


def test_an_inquiry_about_a_reference_the_partner_never_saw_is_none(ovo: PartnerClient) -> None:
    assert ovo.transfer("never-sent-A1") is None


# Exactly once: every duplicate case


def test_the_same_key_resent_after_a_timeout_makes_one_transfer(
    fake: FakePartners, ovo: PartnerClient
) -> None:
    fake.set_faults("OVO", {"timeout": 1})
    with pytest.raises(PartnerTimeout):
        send(ovo, "p3-INCENTIVE-1-A1")
    fake.set_faults("OVO", {})

    assert ovo.transfer("p3-INCENTIVE-1-A1") is None
    resent = send(ovo, "p3-INCENTIVE-1-A1")
    again = send(ovo, "p3-INCENTIVE-1-A1")

    assert resent.transfer_id == again.transfer_id
    assert [row["reference"] for row in ledger(fake)] == ["p3-INCENTIVE-1-A1"]


def test_the_same_key_resent_after_accept_then_timeout_gets_the_transfer_made(
    fake: FakePartners, ovo: PartnerClient
) -> None:
    fake.set_faults("OVO", {"accept_then_timeout": 1})
    with pytest.raises(PartnerTimeout):
        send(ovo, "p4-INCENTIVE-1-A1")
    fake.set_faults("OVO", {})

    asked = ovo.transfer("p4-INCENTIVE-1-A1")
    resent = send(ovo, "p4-INCENTIVE-1-A1")

    assert asked is not None
    assert resent.transfer_id == asked.transfer_id
    assert [(row["reference"], row["amount"]) for row in ledger(fake)] == [("p4-INCENTIVE-1-A1", 600_000)]


def test_a_500_is_sent_again_with_the_same_key_and_then_resent_makes_one_transfer(
    fake: FakePartners, ovo: PartnerClient
) -> None:
    fake.set_faults("OVO", {"error": 1})
    with pytest.raises(PartnerUnavailable) as unavailable:
        send(ovo, "p5-INCENTIVE-1-A1")
    assert unavailable.value.status == 500
    assert fake.partners["OVO"].requests == 1 + RETRIES
    assert ledger(fake) == []
    fake.set_faults("OVO", {})

    send(ovo, "p5-INCENTIVE-1-A1")
    send(ovo, "p5-INCENTIVE-1-A1")

    assert [row["reference"] for row in ledger(fake)] == ["p5-INCENTIVE-1-A1"]


def test_a_500_now_and_then_is_absorbed_by_the_retries(fake: FakePartners, ovo: PartnerClient) -> None:
    fake.set_faults("OVO", {"error": 0.3, "seed": 5})

    transfers = [send(ovo, f"p6-{n}-INCENTIVE-1-A1") for n in range(10)]

    assert len({transfer.transfer_id for transfer in transfers}) == 10
    assert len(ledger(fake)) == 10
    assert fake.partners["OVO"].requests > 10


def test_the_same_key_sent_concurrently_from_two_threads_makes_one_transfer(
    fake: FakePartners, ovo: PartnerClient
) -> None:
    fake.set_faults("OVO", {"latency_ms": 100})
    start = threading.Barrier(2)
    answers: list[Any] = []

    def racer() -> None:
        start.wait()
        answers.append(send(ovo, "p7-INCENTIVE-1-A1"))

    threads = [threading.Thread(target=racer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(answers) == 2
    assert answers[0].transfer_id == answers[1].transfer_id
    assert [row["reference"] for row in ledger(fake)] == ["p7-INCENTIVE-1-A1"]


def test_a_key_reused_with_another_body_is_refused_and_changes_nothing(
    fake: FakePartners, ovo: PartnerClient
) -> None:
    first = send(ovo, "p8-INCENTIVE-1-A1", amount=600_000)

    with pytest.raises(PartnerRefused) as refused:
        send(ovo, "p8-INCENTIVE-1-A1", amount=650_000)

    assert (refused.value.status, refused.value.code) == (409, "IDEMPOTENCY_KEY_REUSED")
    assert ledger(fake) == [
        {
            "reference": "p8-INCENTIVE-1-A1",
            "idempotency_key": "p8-INCENTIVE-1-A1",
            "amount": 600_000,
            "status": ledger(fake)[0]["status"],
            "created_at": ledger(fake)[0]["created_at"],
            "transfer_id": first.transfer_id,
            "reason": None,
            "settled_at": ledger(fake)[0]["settled_at"],
        }
    ]


def test_a_429_is_sent_again_after_its_retry_after(tmp_path: Path, use: Callable[..., None]) -> None:
    fake = start_fake(tmp_path / "throttled", max_concurrent=1)
    try:
        use(fake, PARTNER_TIMEOUT_SECONDS="3")
        fake.set_faults("OVO", {"latency_ms": 300})
        ovo = client_for("OVO")
        answers: list[Any] = []
        threads = [
            threading.Thread(target=lambda n=n: answers.append(send(ovo, f"p9-{n}-INCENTIVE-1-A1")))
            for n in range(2)
        ]
        began = time.monotonic()
        threads[0].start()
        until(lambda: fake.partners["OVO"].in_flight == 1)
        threads[1].start()
        for thread in threads:
            thread.join()

        assert len(answers) == 2
        assert fake.partners["OVO"].requests == 3
        assert time.monotonic() - began >= 1.0
        assert len(ledger(fake)) == 2
    finally:
        fake.close()


# The circuit breaker


def test_a_partner_that_is_down_opens_its_circuit_and_the_others_keep_working(
    fake: FakePartners, use: Callable[..., None]
) -> None:
    use(fake, PARTNER_RETRIES="0", PARTNER_BREAKER_FAILURES="3")
    fake.set_faults("BNI", {"down": True})
    bni, ovo = client_for("BNI"), client_for("OVO")

    for n in range(3):
        with pytest.raises(PartnerUnavailable) as down:
            bni.send_transfer(
                f"b{n}-INCENTIVE-1-A1", 600_000, BNI_ACCOUNT, "Siti Rahayu", "http://127.0.0.1:9/"
            )
        assert (down.value.status, down.value.circuit_open) == (503, False)
    asked = fake.partners["BNI"].requests
    began = time.monotonic()
    with pytest.raises(PartnerUnavailable) as open_circuit:
        bni.send_transfer("b9-INCENTIVE-1-A1", 600_000, BNI_ACCOUNT, "Siti Rahayu", "http://127.0.0.1:9/")

    assert open_circuit.value.circuit_open
    assert time.monotonic() - began < CLIENT_TIMEOUT
    assert fake.partners["BNI"].requests == asked
    assert client_for("BNI").breaker.state == "open"
    assert send(ovo, "o1-INCENTIVE-1-A1").status is TransferStatus.ACCEPTED
    assert ovo.breaker.state == "closed"
    assert ledger(fake, "BNI") == []


def test_the_circuit_closes_again_once_the_partner_is_back(
    fake: FakePartners, use: Callable[..., None]
) -> None:
    use(fake, PARTNER_RETRIES="0", PARTNER_BREAKER_FAILURES="1", PARTNER_BREAKER_RESET_SECONDS="0.2")
    fake.set_faults("OVO", {"down": True})
    ovo = client_for("OVO")
    with pytest.raises(PartnerUnavailable):
        ovo.verify_account(OVO_ACCOUNT, "Siti Rahayu", NIK)
    with pytest.raises(PartnerUnavailable) as still_open:
        ovo.verify_account(OVO_ACCOUNT, "Siti Rahayu", NIK)
    assert still_open.value.circuit_open
    fake.set_faults("OVO", {})
    time.sleep(0.25)

    assert ovo.verify_account(OVO_ACCOUNT, "Siti Rahayu", NIK).verified
    assert ovo.breaker.state == "closed"


def test_a_timeout_that_trips_the_circuit_stays_a_timeout(
    fake: FakePartners, use: Callable[..., None]
) -> None:
    use(fake, PARTNER_BREAKER_FAILURES="1")
    fake.set_faults("OVO", {"accept_then_timeout": 1})

    with pytest.raises(PartnerTimeout):
        send(client_for("OVO"), "p10-INCENTIVE-1-A1")

    assert client_for("OVO").breaker.state == "open"
    assert len(ledger(fake)) == 1


def test_a_partner_that_cannot_be_reached_is_unavailable_at_once(
    use: Callable[..., None], tmp_path: Path
) -> None:
    fake = start_fake(tmp_path / "unused")
    fake.close()
    use(fake, PARTNERS_URL=f"http://127.0.0.1:{free_port()}/{{partner_id}}")
    sleeps: list[float] = []
    ovo = client_for("OVO")
    ovo._sleep = sleeps.append

    with pytest.raises(PartnerUnavailable) as unreachable:
        ovo.verify_account(OVO_ACCOUNT, "Siti Rahayu", NIK)

    assert (unreachable.value.status, unreachable.value.retryable, sleeps) == (None, False, [])


def test_a_partner_without_configuration_is_not_asked(use: Callable[..., None], fake: FakePartners) -> None:
    use(fake, PARTNERS_URL="http://one-host-without-a-partner-id")

    with pytest.raises(PartnerNotConfigured):
        client_for("GOPAY").transfer("x-A1")
    assert fake.partners["GOPAY"].requests == 0
    with pytest.raises(UnknownPartner):
        client_for("BCA")


# Signatures


def raw_request(fake: FakePartners, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    request = urllib.request.Request(  # noqa: S310 (a loopback http URL)
        fake.url + path, data=body or None, headers=headers, method="POST" if body else "GET"
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def verify_body() -> bytes:
    return json.dumps({"account_number": OVO_ACCOUNT, "account_name": "Siti Rahayu", "nik": NIK}).encode()


def test_a_request_signed_with_a_wrong_secret_is_refused(
    fake: FakePartners, use: Callable[..., None]
) -> None:
    use(fake, PARTNER_SECRETS=json.dumps({**LOCAL_SECRETS, "OVO": "not-ovos-secret"}))

    with pytest.raises(PartnerRefused) as refused:
        client_for("OVO").verify_account(OVO_ACCOUNT, "Siti Rahayu", NIK)

    assert (refused.value.status, refused.value.code) == (401, "BAD_SIGNATURE")


def test_a_correctly_signed_request_is_served(fake: FakePartners) -> None:
    body = verify_body()
    headers = signed_headers(LOCAL_SECRETS["OVO"].encode(), body, time.time())

    status, answer = raw_request(fake, "/OVO/accounts/verify", body, headers)

    assert (status, answer["status"]) == (200, "VERIFIED")


def test_a_tampered_body_is_refused(fake: FakePartners) -> None:
    headers = signed_headers(LOCAL_SECRETS["OVO"].encode(), verify_body(), time.time())
    tampered = verify_body().replace(b"Siti Rahayu", b"Someone Else")

    status, answer = raw_request(fake, "/OVO/accounts/verify", tampered, headers)

    assert (status, answer["error"]["code"]) == (401, "BAD_SIGNATURE")


def test_a_stale_timestamp_is_refused(fake: FakePartners) -> None:
    body = verify_body()
    headers = signed_headers(LOCAL_SECRETS["OVO"].encode(), body, time.time() - 301)

    status, answer = raw_request(fake, "/OVO/accounts/verify", body, headers)

    assert (status, answer["error"]["code"]) == (401, "BAD_SIGNATURE")


def test_an_unsigned_request_and_an_unknown_partner_are_refused(fake: FakePartners) -> None:
    assert raw_request(fake, "/OVO/transfers/x", b"", {})[0] == 401
    status, answer = raw_request(fake, "/BCA/transfers/x", b"", {})
    assert (status, answer["error"]["code"]) == (404, "UNKNOWN_PARTNER")


def test_a_transfer_without_its_key_or_with_another_reference_is_refused(fake: FakePartners) -> None:
    transfer = {
        "reference": "p11-A1",
        "amount": 600_000,
        "currency": "IDR",
        "account_number": OVO_ACCOUNT,
        "account_name": "Siti Rahayu",
        "callback_url": "http://127.0.0.1:9/",
    }
    secret = LOCAL_SECRETS["OVO"].encode()

    def post(body: dict[str, Any], key: str | None) -> tuple[int, str]:
        raw = json.dumps(body).encode()
        headers = {**signed_headers(secret, raw, time.time()), **({"Idempotency-Key": key} if key else {})}
        status, answer = raw_request(fake, "/OVO/transfers", raw, headers)
        return status, answer["error"]["code"]

    assert post(transfer, None) == (400, "IDEMPOTENCY_KEY_REQUIRED")
    assert post(transfer, "p11-A2") == (422, "REFERENCE_MISMATCH")
    assert post({**transfer, "amount": 0, "currency": "USD"}, "p11-A1") == (422, "VALIDATION_FAILED")
    assert ledger(fake) == []


# Callbacks


def test_callbacks_come_twice_when_so_configured(
    fake: FakePartners, use: Callable[..., None], receiver: Receiver
) -> None:
    use(fake)
    fake.set_faults("OVO", {"duplicate_callback": 1})

    client_for("OVO").send_transfer("p12-INCENTIVE-1-A1", 600_000, OVO_ACCOUNT, "Siti Rahayu", receiver.url)
    received = receiver.wait_for(2)

    assert len(received) == 2
    assert received[0].body == received[1].body
    assert all(verify_callback("OVO", one.headers, one.body, time.time()) for one in received)
    assert len(ledger(fake)) == 1


def test_callbacks_come_late_when_so_configured(
    fake: FakePartners, use: Callable[..., None], receiver: Receiver
) -> None:
    use(fake)
    fake.set_faults("OVO", {"late_callback": 1})

    sent = time.time()
    client_for("OVO").send_transfer("p13-INCENTIVE-1-A1", 600_000, OVO_ACCOUNT, "Siti Rahayu", receiver.url)
    [callback] = receiver.wait_for(1)

    # On time, it would come as the transfer settles, SETTLE after it was sent.
    assert callback.at - sent >= SETTLE + LATE
    assert read_callback(callback.body).status == "PAID"


def test_a_callback_the_programme_could_not_store_is_sent_again(
    fake: FakePartners, use: Callable[..., None], receiver: Receiver
) -> None:
    use(fake)
    receiver.answers = [503]

    client_for("OVO").send_transfer("p14-INCENTIVE-1-A1", 600_000, OVO_ACCOUNT, "Siti Rahayu", receiver.url)
    received = receiver.wait_for(2, timeout=5)

    # The fake records a delivery once it has read the answer, a moment after the receiver saw it.
    until(lambda: len(fake.deliveries) == 2)

    assert len(received) == 2
    assert [delivery.answered for delivery in fake.deliveries] == [503, 200]


def test_a_failed_transfer_is_called_back_as_failed(
    fake: FakePartners, use: Callable[..., None], receiver: Receiver
) -> None:
    use(fake)

    client_for("OVO").send_transfer(
        "p15-INCENTIVE-1-A1", 600_000, CLOSED_OVO_ACCOUNT, "Siti Rahayu", receiver.url
    )
    [callback] = receiver.wait_for(1)

    failed = read_callback(callback.body)
    assert (failed.status, failed.reason) == ("FAILED", "ACCOUNT_CLOSED")


# Settlement files and the ledger on disk


def test_the_settlement_file_lists_what_the_ledger_holds(fake: FakePartners, ovo: PartnerClient) -> None:
    for n in range(3):
        send(ovo, f"p16-{n}-INCENTIVE-1-A1")
    send(ovo, "p16-closed-INCENTIVE-1-A1", account=CLOSED_OVO_ACCOUNT)
    until(lambda: all(row["status"] != "ACCEPTED" for row in ledger(fake)))
    fake.flush()

    assert isinstance(fake.settlements, MemorySink)
    [(key, body)] = fake.settlements.files.items()
    lines = body.decode().splitlines()
    rows = [dict(zip(lines[0].split(","), line.split(","), strict=True)) for line in lines[1:]]
    day = ledger(fake)[0]["settled_at"][:10]
    assert key == f"settlements/OVO/{day}.csv"
    assert lines[0] == "reference,transfer_id,amount,currency,status,settled_at"
    assert sorted(
        (row["reference"], row["transfer_id"], int(row["amount"]), row["status"], row["settled_at"])
        for row in rows
    ) == sorted(
        (row["reference"], row["transfer_id"], row["amount"], row["status"], row["settled_at"])
        for row in ledger(fake)
    )


def test_settlement_files_are_written_to_the_upload_bucket(tmp_path: Path, use: Callable[..., None]) -> None:
    with mock_aws():
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket="uploads", CreateBucketConfiguration={"LocationConstraint": "ap-southeast-3"})
        fake = start_fake(tmp_path / "s3", sink=S3Sink(s3, "uploads"))
        try:
            use(fake)
            send(client_for("OVO"), "p17-INCENTIVE-1-A1")
            until(lambda: ledger(fake)[0]["status"] == "COMPLETED")
        finally:
            fake.close()

        [listed] = s3.list_objects_v2(Bucket="uploads", Prefix="settlements/OVO/")["Contents"]
        text = s3.get_object(Bucket="uploads", Key=listed["Key"])["Body"].read().decode()
    assert "p17-INCENTIVE-1-A1" in text
    assert ",600000,IDR,COMPLETED," in text


def test_the_ledger_survives_a_restart_and_what_waited_settles_after_it(
    tmp_path: Path, use: Callable[..., None]
) -> None:
    directory = tmp_path / "restart"
    first = FakePartners(directory, settlements=MemorySink(), settle_seconds=30, callback_attempts=1)
    use(first)
    accepted = send(client_for("OVO"), "p18-INCENTIVE-1-A1")
    first.close()

    second = start_fake(directory)
    try:
        use(second)
        resent = send(client_for("OVO"), "p18-INCENTIVE-1-A1")
        [row] = ledger(second)
        assert (row["reference"], row["transfer_id"]) == ("p18-INCENTIVE-1-A1", accepted.transfer_id)
        assert resent.transfer_id == accepted.transfer_id
        assert row["status"] == "ACCEPTED"
        assert send(client_for("OVO"), "p18-2-INCENTIVE-1-A1").transfer_id != accepted.transfer_id
    finally:
        second.close()


def test_a_transfer_left_waiting_by_a_stopped_partner_settles_after_the_restart(
    tmp_path: Path, use: Callable[..., None]
) -> None:
    directory = tmp_path / "waiting"
    first = FakePartners(directory, settlements=MemorySink(), settle_seconds=0.3, callback_attempts=1)
    use(first)
    send(client_for("OVO"), "p19-INCENTIVE-1-A1")
    first.close()

    second = start_fake(directory)
    try:
        until(lambda: ledger(second)[0]["status"] == "COMPLETED")
        second.flush()
        assert isinstance(second.settlements, MemorySink)
        [body] = second.settlements.files.values()
        assert "p19-INCENTIVE-1-A1" in body.decode()
    finally:
        second.close()


def test_a_restarted_partner_writes_its_earlier_days_settlement_files_again(
    fake: FakePartners, ovo: PartnerClient, tmp_path: Path
) -> None:
    send(ovo, "p20-INCENTIVE-1-A1", account=CLOSED_OVO_ACCOUNT)
    fake.close()

    again = start_fake(tmp_path / "partners")
    try:
        again.flush()
        assert isinstance(again.settlements, MemorySink)
        [(key, body)] = again.settlements.files.items()
    finally:
        again.close()
    assert key.startswith("settlements/OVO/")
    assert "p20-INCENTIVE-1-A1" in body.decode()


def test_latency_delays_every_answer(fake: FakePartners, ovo: PartnerClient) -> None:
    fake.set_faults("OVO", {"latency_ms": 150})
    began = time.monotonic()

    ovo.verify_account(OVO_ACCOUNT, "Siti Rahayu", NIK)

    assert time.monotonic() - began >= 0.15


def test_the_same_seed_repeats_a_faulty_run(fake: FakePartners, use: Callable[..., None]) -> None:
    use(fake, PARTNER_RETRIES="0", PARTNER_BREAKER_FAILURES="100")
    ovo = client_for("OVO")

    def run() -> list[str]:
        fake.set_faults("OVO", {"error": 0.5, "seed": 11})
        outcomes = []
        for _ in range(12):
            try:
                ovo.verify_account(OVO_ACCOUNT, "Siti Rahayu", NIK)
                outcomes.append("ok")
            except PartnerUnavailable:
                outcomes.append("500")
        return outcomes

    first = run()

    assert run() == first
    assert "ok" in first and "500" in first
