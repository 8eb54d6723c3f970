"""`Idempotency-Key`: replay the first outcome, refuse a changed body, never run twice at once."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from chalice.app import Blueprint, Chalice, Response
from chalice.test import Client

from chalicelib.core.auth import Caller
from chalicelib.core.http import created, idempotent, route
from tests.conftest import body


class Counter:
    def __init__(self) -> None:
        self.runs = 0
        self.release = threading.Event()
        self.started = threading.Event()
        self.blocking = False


@pytest.fixture
def counter() -> Counter:
    return Counter()


@pytest.fixture
def payments(aws: None, counter: Counter) -> Iterator[Client]:
    bp = Blueprint(__name__)

    @route(bp, "/pay", methods=["POST"])
    def pay() -> Response:
        def work() -> Response:
            counter.runs += 1
            if counter.blocking:
                counter.started.set()
                counter.release.wait(5)
            return created({"payment_id": f"pay-{counter.runs}"})

        return idempotent(bp, Caller(sub="tester", role="partner", partner_id="BNI"), work)

    app = Chalice(app_name="payments")
    app.register_blueprint(bp)
    # The local stage, as every other test: Client's default stage would set STAGE=dev around requests.
    with Client(app, stage_name="local") as client:
        yield client


def _pay(client: Client, key: str | None, amount: int = 600_000) -> tuple[int, dict[str, object]]:
    headers = {"Content-Type": "application/json"} | ({"Idempotency-Key": key} if key else {})
    response = client.http.post("/pay", headers=headers, body=body({"amount": amount}))
    return response.status_code, response.json_body


def test_a_retry_with_the_same_key_and_body_returns_the_first_response(
    payments: Client, counter: Counter
) -> None:
    first = _pay(payments, "k-1")
    again = _pay(payments, "k-1")
    assert first == again == (201, {"payment_id": "pay-1"})
    assert counter.runs == 1


def test_the_same_key_with_another_body_is_409(payments: Client, counter: Counter) -> None:
    _pay(payments, "k-1")
    status, answer = _pay(payments, "k-1", amount=1)
    assert (status, answer["error"]["code"]) == (409, "IDEMPOTENCY_KEY_REUSED")  # type: ignore[index]
    assert counter.runs == 1


def test_without_a_key_every_request_runs(payments: Client, counter: Counter) -> None:
    _pay(payments, None)
    _pay(payments, None)
    assert counter.runs == 2


def test_a_malformed_key_is_refused(payments: Client) -> None:
    assert _pay(payments, "spaces are not allowed")[0] == 422


def test_a_concurrent_duplicate_is_told_to_wait_and_the_work_runs_once(
    payments: Client, counter: Counter
) -> None:
    counter.blocking = True
    results: list[tuple[int, dict[str, object]]] = []
    first = threading.Thread(target=lambda: results.append(_pay(payments, "k-2")))
    first.start()
    assert counter.started.wait(5)
    status, answer = _pay(payments, "k-2")
    counter.release.set()
    first.join(5)
    assert (status, answer["error"]["code"]) == (409, "REQUEST_IN_PROGRESS")  # type: ignore[index]
    assert results == [(201, {"payment_id": "pay-1"})]
    assert counter.runs == 1
    assert _pay(payments, "k-2") == (201, {"payment_id": "pay-1"})
