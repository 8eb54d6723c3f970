"""Payees and what they are owed, for the incentives benchmarks, and the AWS requests they cost.

Payees are written as the app leaves them once their schedule is owed: the seeded participant
(`devstack.seed`), a verified account at one of the four partners (the `index`-th payee at the
`index % 4`-th partner) and their incentive payments, each due on its date. They are written
directly, not through training: what is measured starts at the due index.

`AwsCounter` counts what DynamoDB bills and what every AWS request is, phase by phase: items read
(returned by `GetItem`, `BatchGetItem`, and a `Query`'s `ScannedCount`, the items it read before
any filter), items written (each item of a transaction, a put, an update, a delete or a batch
write) and requests by service and operation.
"""

from __future__ import annotations

import json
import os
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import botocore.client

from chalicelib.incentives.model import Kind, Payment

PROJECT_DIR = Path(__file__).resolve().parent.parent
PARTNER_IDS = ("BNI", "OVO", "GOPAY", "LINKAJA")
INCENTIVE = 600_000
SEED_AS_OF = date(2021, 6, 1)
_ACCOUNT_NUMBERS = {"BNI": "01{:08d}", "OVO": "0812{:08d}", "GOPAY": "0813{:08d}", "LINKAJA": "0821{:08d}"}


def partner_of(index: int) -> str:
    return PARTNER_IDS[index % len(PARTNER_IDS)]


def account_number(index: int) -> str:
    """An open account (never ending in 0000, which the fake partners treat as closed)."""
    return _ACCOUNT_NUMBERS[partner_of(index)].format(index * 10 + 1)


def configure_app(
    *,
    partners_url: str,
    callback_base_url: str = "",
    jwks_url: str = "",
    timeout_seconds: float = 10.0,
    retries: int = 1,
    breaker_reset_seconds: float = 60.0,
) -> None:
    """The app's settings for the fake partners, as the local stack gives them, read afresh."""
    from chalicelib.core.settings import settings
    from chalicelib.incentives import partners
    from devstack.issuer import ISSUER
    from devstack.partners import LOCAL_SECRETS

    os.environ.update(
        {
            "PARTNERS_URL": partners_url,
            "PARTNER_SECRETS": json.dumps(LOCAL_SECRETS),
            "PARTNER_TIMEOUT_SECONDS": str(timeout_seconds),
            "PARTNER_RETRIES": str(retries),
            "PARTNER_BACKOFF_SECONDS": "0.01",
            "PARTNER_BREAKER_FAILURES": "5",
            "PARTNER_BREAKER_RESET_SECONDS": str(breaker_reset_seconds),
            "PARTNER_CALLBACK_BASE_URL": callback_base_url,
            "JWKS_URL": jwks_url,
            "JWT_ISSUER": ISSUER,
        }
    )
    settings.cache_clear()
    partners.forget()


@contextmanager
def in_process_aws() -> Iterator[None]:
    """moto in this process, with the local stack's transaction patch, and the template's tables,
    queues and bucket (as `tests/conftest.py`'s `aws` fixture builds them)."""
    from moto import mock_aws

    from devstack import moto_patches
    from devstack.tables import create_queues, create_tables

    undo = moto_patches.apply()
    try:
        with mock_aws():
            create_tables(boto3.client("dynamodb"))
            create_queues(boto3.client("sqs"))
            boto3.client("s3").create_bucket(
                Bucket=os.environ["UPLOAD_BUCKET"],
                CreateBucketConfiguration={"LocationConstraint": os.environ["AWS_REGION"]},
            )
            yield
    finally:
        undo()


def owe(count: int, first_due: date, *, start: int = 0, months: int = 1) -> list[Payment]:
    """Payees `start` … `start + count - 1`: each a seeded participant with a verified account and
    `months` monthly incentives, the first due on `first_due`. Returns every payment owed."""
    from chalicelib.core import clock
    from chalicelib.core.settings import settings
    from chalicelib.core.storage import UnitOfWork
    from chalicelib.incentives.model import PaymentAccount
    from chalicelib.incentives.schedules import add_months
    from chalicelib.incentives.stores import accounts, payments
    from devstack import seed

    people = list(seed.generate(start + count, seed=7, as_of=SEED_AS_OF))[start:]
    tables = seed.Tables(settings().table_name("participants"), settings().table_name("guards"))
    seed.write(boto3.client("dynamodb"), people, tables, threads=1)
    owed: list[Payment] = []
    unit = UnitOfWork()
    for index, person in enumerate(people, start=start):
        participant_id = seed.registration(person).participant_id
        partner_id = partner_of(index)
        accounts.save_account(
            PaymentAccount(
                participant_id=participant_id,
                partner_id=partner_id,
                account_number=account_number(index),
                account_name=person.full_name,
                verified=True,
                reason=None,
                linked_at=clock.now(),
            )
        )
        for number in range(1, months + 1):
            payment = Payment(
                payment_id=f"{participant_id}-{Kind.INCENTIVE.value}-{number}",
                participant_id=participant_id,
                kind=Kind.INCENTIVE,
                number=number,
                amount=INCENTIVE,
                due_date=add_months(first_due, number - 1),
                province_code=person.province_code,
                partner_id=partner_id,
            )
            payments.add_owed(unit, payment)
            owed.append(payment)
            if len(unit) == 100:
                unit.commit()
                unit = UnitOfWork()
    unit.commit()
    return owed


def invoke(function_name: str, event: dict[str, Any]) -> Any:
    """One of the app's functions as Lambda calls it: with a context that has the function's own
    timeout from `.chalice/config.json` (Chalice's test client gives every function 3 s, which
    would stop the disbursement schedule after a couple of seconds)."""
    from app import app

    return app.handler_map[function_name](event, _contexts()(function_name))


@cache
def _contexts() -> Any:
    from devstack.events import context_factory
    from devstack.stack import chalice_config

    return context_factory(chalice_config(PROJECT_DIR))


def scheduled(rule_name: str) -> dict[str, Any]:
    from chalicelib.core import clock
    from devstack.events import scheduled_event

    return scheduled_event(rule_name, os.environ["AWS_REGION"], clock.now())


# --- the partners' callbacks, kept and handed to the app ------------------------------------------

Callback = tuple[str, dict[str, str], bytes]


@dataclass
class Inbox:
    """The app's callback route as partners reach it: each callback kept, then delivered to the
    app through Chalice's test client in the main thread (in-process moto serves one thread at a
    time). An answer of 5xx puts it back, as the partner would send it again."""

    url: str = ""
    waiting: list[Callback] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    answers: Counter[int] = field(default_factory=Counter)

    def take(self) -> list[Callback]:
        with self.lock:
            taken, self.waiting = self.waiting, []
        return taken

    def put_back(self, callback: Callback) -> None:
        with self.lock:
            self.waiting.append(callback)

    def post(self, client: Any, callback: Callback) -> int:
        path, headers, raw = callback
        status = int(client.http.post(path, headers=headers, body=raw).status_code)
        self.answers[status] += 1
        if status >= 500:
            self.put_back(callback)
        return status


@contextmanager
def callback_inbox() -> Iterator[Inbox]:
    kept = Inbox()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            kept.put_back((self.path, dict(self.headers.items()), raw))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    kept.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield kept
    finally:
        server.shutdown()
        server.server_close()


# --- what the AWS requests cost ---------------------------------------------------------------------


@dataclass
class Phase:
    items_read: Counter[str] = field(default_factory=Counter)  # by table
    items_written: Counter[str] = field(default_factory=Counter)  # by table
    requests: Counter[str] = field(default_factory=Counter)  # "service:Operation"

    def read(self, table_suffix: str = "") -> int:
        return sum(count for table, count in self.items_read.items() if table.endswith(table_suffix))

    def written(self, table_suffix: str = "") -> int:
        return sum(count for table, count in self.items_written.items() if table.endswith(table_suffix))

    @property
    def request_count(self) -> int:
        return sum(self.requests.values())


class AwsCounter:
    """Counts every AWS request made in this process while installed, under the current phase."""

    def __init__(self) -> None:
        self.phases: dict[str, Phase] = {}
        self.phase = "setup"
        self._original = botocore.client.BaseClient._make_api_call

    def install(self) -> None:
        counter, original = self, self._original

        def counting(client: Any, operation: str, params: dict[str, Any]) -> Any:
            answer = original(client, operation, params)
            counter.count(client.meta.service_model.service_name, operation, params, answer)
            return answer

        botocore.client.BaseClient._make_api_call = counting

    def uninstall(self) -> None:
        botocore.client.BaseClient._make_api_call = self._original

    @contextmanager
    def counting(self, phase: str) -> Iterator[Phase]:
        previous, self.phase = self.phase, phase
        try:
            yield self.phases.setdefault(phase, Phase())
        finally:
            self.phase = previous

    def count(self, service: str, operation: str, params: dict[str, Any], answer: dict[str, Any]) -> None:
        phase = self.phases.setdefault(self.phase, Phase())
        phase.requests[f"{service}:{operation}"] += 1
        if service == "dynamodb":
            phase.items_read.update(items_read(operation, params, answer))
            phase.items_written.update(items_written(operation, params))


def items_read(operation: str, params: dict[str, Any], answer: dict[str, Any]) -> Counter[str]:
    """Items a DynamoDB request read, by table, as DynamoDB bills them."""
    table = str(params.get("TableName", ""))
    if operation == "GetItem":
        return Counter({table: int("Item" in answer)})
    if operation == "Query":
        return Counter({table: int(answer.get("ScannedCount", 0))})
    if operation == "BatchGetItem":
        return Counter({name: len(found) for name, found in answer.get("Responses", {}).items()})
    return Counter()


def items_written(operation: str, params: dict[str, Any]) -> Counter[str]:
    """Items a DynamoDB request wrote, by table (a transaction's condition checks write nothing)."""
    if operation in ("PutItem", "UpdateItem", "DeleteItem"):
        return Counter({str(params["TableName"]): 1})
    written: Counter[str] = Counter()
    if operation == "TransactWriteItems":
        for item in params["TransactItems"]:
            kind, body = next(iter(item.items()))
            if kind != "ConditionCheck":
                written[body["TableName"]] += 1
    elif operation == "BatchWriteItem":
        for name, requests in params["RequestItems"].items():
            written[name] += len(requests)
    return written
