"""What a disbursement costs as DynamoDB bills it (issue 14): items read by a run of the
`disbursement` schedule, against the payments due, with and without ten times as many payees who
are not due; and, so that the whole cost shows, what the partner's consumer and a callback read
and write per payment, and every AWS request per payment.

The real app against in-process moto (with the local stack's transaction patch) and the fake
partners without faults. Due payees are owed four monthly incentives, the first due today; payees
who are not due are owed theirs from next month. Each phase runs on its own, in order: the
schedule (`disbursement.dispatch`), each message of the partners' queues through its consumer
(`disbursement.send` behind the Lambda handler), then every status callback the partners sent,
through the app's callback route. Every AWS request is counted (`bench.payees.AwsCounter`);
Lambda's own work (receiving and deleting the messages) is not the app's and is not counted.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import boto3

from bench import payees

DISPATCHED_AT = datetime.fromisoformat("2021-08-01T09:00:00+07:00")
TODAY = date(2021, 8, 1)
NEXT_MONTH = date(2021, 9, 1)
TARGET = 1.1


@dataclass(frozen=True)
class Cost:
    due: int
    not_due: int
    dispatch: payees.Phase
    send: payees.Phase
    callback: payees.Phase
    summary: dict[str, Any]
    callbacks: int
    seconds: float


def measure(due: int, not_due: int) -> Cost:
    from chalicelib.core import clock
    from devstack.issuer import LocalIssuer
    from devstack.partners import FakePartners, MemorySink

    directory = Path(tempfile.mkdtemp(prefix="prakerja-payment-cost-"))
    issuer = LocalIssuer(directory / "keys")
    counter = payees.AwsCounter()
    with payees.in_process_aws(), payees.callback_inbox() as kept:
        fake = FakePartners(
            directory / "partners", settlements=MemorySink(), issuer=issuer, settle_seconds=0.02
        )
        try:
            payees.configure_app(
                partners_url=fake.url_template, callback_base_url=kept.url, jwks_url=issuer.jwks_url
            )
            clock.set_now(DISPATCHED_AT)
            payees.owe(due, TODAY, months=4)
            payees.owe(not_due, NEXT_MONTH, start=due, months=4)
            counter.install()
            started = time.perf_counter()
            with counter.counting("dispatch") as dispatch:
                summary = payees.invoke("disbursement", payees.scheduled("disbursement"))
            with counter.counting("send") as send:
                deliver_queues(counter)
            time.sleep(0.5)  # the partners settle what they accepted, and call back
            with counter.counting("callback") as callback:
                callbacks = deliver_callbacks(kept)
            seconds = time.perf_counter() - started
        finally:
            counter.uninstall()
            fake.close()
            clock.set_now(None)
    return Cost(due, not_due, dispatch, send, callback, summary, callbacks, seconds)


def deliver_queues(counter: payees.AwsCounter) -> None:
    """Every message of the partners' queues to its consumer, ten a batch, as Lambda would."""
    from app import app
    from devstack.events import sqs_event

    with counter.counting("lambda"):
        sqs = boto3.client("sqs")
        queues = {}
        for source in app.event_sources:
            if hasattr(source, "queue") and source.name.startswith("pay_"):
                url = sqs.get_queue_url(QueueName=source.queue)["QueueUrl"]
                attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
                queues[source.name] = (url, attributes["Attributes"]["QueueArn"])
    for name, (url, arn) in queues.items():
        while True:
            with counter.counting("lambda"):
                batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if not batch:
                break
            answer = payees.invoke(name, sqs_event(batch, arn, "ap-southeast-3"))
            if answer.get("batchItemFailures"):
                raise RuntimeError(f"{name} failed messages: {answer}")
            with counter.counting("lambda"):
                for message in batch:
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def deliver_callbacks(kept: payees.Inbox) -> int:
    from chalice.test import Client

    from app import app

    delivered = 0
    with Client(app, stage_name="local") as client:
        while taken := kept.take():
            for callback in taken:
                status = kept.post(client, callback)
                if status != 200:
                    raise RuntimeError(f"a callback was answered {status}")
                delivered += 1
    return delivered


def report(cost: Cost) -> bool:
    due = cost.due
    read = cost.dispatch.read("payments")
    print(
        f"\n{due:,} payments due, {cost.not_due:,} payees not due ({cost.not_due * 4:,} payments due later)"
    )
    print(f"dispatch: {cost.summary}")
    ratio = cost.dispatch.read() / due
    print(f"  items read: {cost.dispatch.read():,} = {ratio:.3f} × the due (target ≤ {TARGET})")
    print(f"  of which the payments table: {read:,}; requests: {dict(cost.dispatch.requests)}")
    print(f"  items written: {cost.dispatch.written():,} ({cost.dispatch.written() / due:.2f} per payment)")
    for name, phase, per in (
        ("consumer (send)", cost.send, due),
        ("callback", cost.callback, cost.callbacks),
    ):
        print(
            f"{name}: per payment {phase.read() / per:.2f} items read, {phase.written() / per:.2f} written, "
            f"{phase.request_count / per:.2f} requests {_per(phase, per)}"
        )
    total = cost.dispatch.request_count + cost.send.request_count + cost.callback.request_count
    reads = cost.dispatch.read() + cost.send.read() + cost.callback.read()
    writes = cost.dispatch.written() + cost.send.written() + cost.callback.written()
    print(
        f"whole payment (dispatch + send + {cost.callbacks / due:.2f} callbacks): "
        f"{total / due:.2f} AWS requests, {reads / due:.2f} items read, {writes / due:.2f} items written"
    )
    print(f"time against in-process moto: {cost.seconds:.0f} s")
    return cost.dispatch.read() <= TARGET * due


def _per(phase: payees.Phase, per: int) -> str:
    return (
        "(" + ", ".join(f"{name} {count / per:.2f}" for name, count in sorted(phase.requests.items())) + ")"
    )


def main(due: int, not_due: list[int]) -> int:
    results = [report(measure(due, count)) for count in not_due]
    return 0 if all(results) else 1
