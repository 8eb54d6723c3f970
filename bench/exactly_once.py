"""Exactly once under faults, at full size (issue 14): every due payment paid once on the partners'
own ledgers, through timeouts, answers lost after the transfer was made, duplicate and late
callbacks, a partner down, and the job killed at random points.

The real app runs in-process against moto (with the local stack's transaction patch) and the
fake partners (`devstack.partners.FakePartners`) over HTTP. A round is what AWS would run: the
`disbursement` schedule through Chalice's test client, then each partner's queue delivered to its
consumer ten messages an invocation, as Lambda's SQS trigger does, the callbacks that partners
sent meanwhile handed to the app's callback route between invocations, and at the end of the
round the partners' remaining (late) callbacks. The programme's clock then moves on 31 minutes
(a payment in flight is looked at again after 30) and the next round starts, until every
payment is PAID.

A kill is a `BaseException` raised at a pre-drawn event among every unit of work's commit (just
before it, or just after it) and every answer a partner gave to a transfer (just after it, before
the app sees it): whatever function was running dies there, nothing catches it. A killed
schedule ends its run; a killed consumer leaves its messages on the queue (visible again after
SQS's visibility timeout); a killed callback is answered 502, so the partner sends it again.
"""

from __future__ import annotations

import contextlib
import json
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3

from bench import payees

STARTED_AT = datetime.fromisoformat("2021-08-01T09:00:00+07:00")
DUE = date(2021, 8, 1)
ROUND_GAP = timedelta(minutes=31)
MAX_ROUNDS = 40
KILL_WINDOW_EVENTS_PER_PAYMENT = 8  # about the commits and answers of a payment's first round
SETTLE_SECONDS = 0.02
LATE_CALLBACK_SECONDS = 0.5
HOLD_SECONDS = 0.6
CLIENT_TIMEOUT_SECONDS = 0.3
# The breaker counts real seconds while a round stands for 31 minutes of the programme's clock: a
# breaker opened by the partner that was down would otherwise stay open for rounds on end.
BREAKER_RESET_SECONDS = 5.0


class Killed(BaseException):
    """A Lambda that died mid-flight: nothing after this point ran, nothing caught it."""


@dataclass
class Kills:
    """Kill whatever runs at the pre-drawn events (1-based, counted over the whole benchmark)."""

    at: list[int]
    job: str = "setup"
    events: int = 0
    struck: list[str] = field(default_factory=list)

    def maybe(self, moment: str) -> None:
        self.events += 1
        if self.at and self.events == self.at[0]:
            self.at.pop(0)
            self.struck.append(f"event {self.events:,} ({self.job}): {moment} in {_incentives_caller()}")
            raise Killed(self.struck[-1])


def _incentives_caller() -> str:
    """The innermost functions of the incentives domain on the stack, innermost first."""
    frame = sys._getframe(2)
    names: list[str] = []
    while frame is not None and len(names) < 3:
        module = str(frame.f_globals.get("__name__", ""))
        if module.startswith("chalicelib.incentives") and ".stores." not in module:
            names.append(f"{module.rsplit('.', 1)[-1]}.{frame.f_code.co_name}")
        frame = frame.f_back  # type: ignore[assignment]
    return " ← ".join(names) or "?"


@contextlib.contextmanager
def killable(kills: Kills) -> Iterator[None]:
    """Every commit and every transfer answer of the app passes through `kills`."""
    from chalicelib.core.storage import UnitOfWork
    from chalicelib.incentives import partners

    commit, send_transfer = UnitOfWork.commit, partners.PartnerClient.send_transfer

    def killable_commit(self: UnitOfWork) -> None:
        kills.maybe("before commit")
        commit(self)
        kills.maybe("after commit")

    def killable_send(self: partners.PartnerClient, *args: Any, **kwargs: Any) -> Any:
        answer = send_transfer(self, *args, **kwargs)
        kills.maybe("after the partner accepted")
        return answer

    UnitOfWork.commit = killable_commit  # type: ignore[method-assign]
    partners.PartnerClient.send_transfer = killable_send  # type: ignore[method-assign]
    try:
        yield
    finally:
        UnitOfWork.commit = commit  # type: ignore[method-assign]
        partners.PartnerClient.send_transfer = send_transfer  # type: ignore[method-assign]


def deliver_callbacks(kept: payees.Inbox, client: Any, kills: Kills) -> int:
    """The callbacks partners sent, to the app's route; a killed one is answered 502, so the
    partner sends it again."""
    taken = kept.take()
    kills.job = "callback"
    for callback in taken:
        try:
            kept.post(client, callback)
        except Killed:
            kept.answers[502] += 1
            kept.put_back(callback)
    return len(taken)


# --- one round ------------------------------------------------------------------------------------


@dataclass
class Round:
    number: int
    dispatch: dict[str, Any] | None
    invocations: int
    messages: int
    callbacks: int
    seconds: float
    unpaid: int


def run_round(number: int, client: Any, kept: payees.Inbox, kills: Kills, owed: list[Any]) -> Round:
    from chalicelib.incentives.model import PaymentStatus
    from chalicelib.incentives.stores import payments

    started = time.perf_counter()
    kills.job = "disbursement schedule"
    summary: dict[str, Any] | None = None
    with contextlib.suppress(Killed):
        summary = payees.invoke("disbursement", payees.scheduled("disbursement"))
    invocations, messages, callbacks = deliver_queues(client, kept, kills)
    # Accepted transfers settle, and late callbacks come, a moment after the last send.
    quiet_since = time.monotonic()
    while time.monotonic() - quiet_since < LATE_CALLBACK_SECONDS + 0.5:
        time.sleep(0.1)
        if delivered := deliver_callbacks(kept, client, kills):
            callbacks += delivered
            quiet_since = time.monotonic()
    states = [payments.payment(payment.payment_id)[0] for payment in owed]
    unpaid = sum(1 for state in states if state is None or state.status is not PaymentStatus.PAID)
    return Round(number, summary, invocations, messages, callbacks, time.perf_counter() - started, unpaid)


def deliver_queues(client: Any, kept: payees.Inbox, kills: Kills) -> tuple[int, int, int]:
    """Each partner's queue to its consumer until every queue is empty, ten messages an
    invocation; the callbacks that came meanwhile are delivered between invocations."""
    from app import app
    from devstack.events import sqs_event

    sqs = boto3.client("sqs")
    consumers = {
        source.queue: source.name
        for source in app.event_sources
        if hasattr(source, "queue") and source.name.startswith("pay_")
    }
    queues = {}
    for queue, name in consumers.items():
        url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        queues[name] = (url, arn)
    invocations = messages = callbacks = 0
    while True:
        moved = 0
        for name, (url, arn) in queues.items():
            received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])
            batch = received.get("Messages", [])
            if not batch:
                continue
            kills.job = f"{name} consumer"
            invocations += 1
            moved += len(batch)
            try:
                answer = payees.invoke(name, sqs_event(batch, arn, "ap-southeast-3"))
            except Killed:
                continue  # the batch stays on the queue, invisible until its visibility timeout
            failed = {entry["itemIdentifier"] for entry in (answer or {}).get("batchItemFailures", [])}
            done = [message for message in batch if message["MessageId"] not in failed]
            for message in done:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            callbacks += deliver_callbacks(kept, client, kills)
        messages += moved
        if not moved:
            return invocations, messages, callbacks


# --- the run --------------------------------------------------------------------------------------


@dataclass
class Outcome:
    payments: int
    rounds: list[Round]
    kills: list[str]
    duplicates: int
    lost: int
    totals_equal: bool
    details: dict[str, Any]
    seconds: float


def run(count: int, kill_count: int, seed: int) -> Outcome:
    from chalice.test import Client

    from chalicelib.core import clock
    from devstack.issuer import LocalIssuer
    from devstack.partners import FakePartners, MemorySink

    directory = Path(tempfile.mkdtemp(prefix="prakerja-exactly-once-"))
    issuer = LocalIssuer(directory / "keys")
    rng = random.Random(seed)
    kills = Kills(sorted(rng.sample(range(1, KILL_WINDOW_EVENTS_PER_PAYMENT * count), kill_count)))
    with payees.in_process_aws(), payees.callback_inbox() as kept:
        fake = FakePartners(
            directory / "partners",
            settlements=MemorySink(),
            issuer=issuer,
            settle_seconds=SETTLE_SECONDS,
            late_callback_seconds=LATE_CALLBACK_SECONDS,
            hold_seconds=HOLD_SECONDS,
            settlement_interval_seconds=2.0,
        )
        try:
            payees.configure_app(
                partners_url=fake.url_template,
                callback_base_url=kept.url,
                jwks_url=issuer.jwks_url,
                timeout_seconds=CLIENT_TIMEOUT_SECONDS,
                breaker_reset_seconds=BREAKER_RESET_SECONDS,
            )
            clock.set_now(STARTED_AT)
            setup_started = time.perf_counter()
            owed = payees.owe(count, DUE)
            print(f"owed {count:,} payments in {time.perf_counter() - setup_started:.0f} s", flush=True)
            first_faults = set_faults(fake, down="GOPAY")
            from app import app

            started = time.perf_counter()
            rounds: list[Round] = []
            later_faults = first_faults
            with Client(app, stage_name="local") as client, killable(kills):
                for number in range(1, MAX_ROUNDS + 1):
                    rounds.append(run_round(number, client, kept, kills, owed))
                    print(describe(rounds[-1]), flush=True)
                    if number == 1:
                        later_faults = set_faults(fake, down=None)
                    if not rounds[-1].unpaid:
                        break
                    clock.set_now(clock.now() + ROUND_GAP)
            seconds = time.perf_counter() - started
            faults = {"faults of the first round": first_faults, "faults of later rounds": later_faults}
            return check(fake, owed, rounds, kills, seconds, {**faults, "callbacks answered": kept.answers})
        finally:
            fake.close()
            clock.set_now(None)


def set_faults(fake: Any, down: str | None) -> dict[str, Any]:
    for index, partner_id in enumerate(payees.PARTNER_IDS):
        fake.set_faults(partner_id, {**FAULTS, "seed": index + (10 if down is None else 0)})
    if down is not None:
        fake.set_faults(down, {**FAULTS, "down": True})
    return {**FAULTS, "down": down}


FAULTS: dict[str, Any] = {
    "timeout": 0.05,
    "accept_then_timeout": 0.02,
    "duplicate_callback": 0.10,
    "late_callback": 0.10,
}


def describe(done: Round) -> str:
    summary = done.dispatch or {"killed": True}
    return (
        f"round {done.number}: dispatch {json.dumps(summary)}; {done.messages:,} messages in "
        f"{done.invocations:,} consumer invocations; {done.callbacks:,} callbacks; "
        f"{done.seconds:.0f} s; unpaid after it: {done.unpaid:,}"
    )


def check(
    fake: Any, owed: list[Any], rounds: list[Round], kills: Kills, seconds: float, details: dict[str, Any]
) -> Outcome:
    """Each payment completed once on its partner's ledger, none lost, and every total ours."""
    from chalicelib.core import counters
    from chalicelib.incentives.model import PaymentStatus
    from chalicelib.incentives.stores import mismatches, payments

    completed: Counter[str] = Counter()
    ledger_totals: Counter[str] = Counter()
    transfers: Counter[str] = Counter()
    for partner_id in payees.PARTNER_IDS:
        for transfer in fake.ledger(partner_id)["transfers"]:
            transfers[transfer["status"]] += 1
            if transfer["status"] == "COMPLETED":
                completed[transfer["reference"].rpartition("-A")[0]] += 1
                ledger_totals[partner_id] += transfer["amount"]
    states = {payment.payment_id: payments.payment(payment.payment_id)[0] for payment in owed}
    ours: Counter[str] = Counter()
    statuses: Counter[str] = Counter()
    for payment in owed:
        state = states[payment.payment_id]
        statuses[state.status.value if state else "MISSING"] += 1
        if state is not None and state.status is PaymentStatus.PAID:
            ours[str(state.partner_id)] += state.amount
    owed_totals: Counter[str] = Counter()
    for payment in owed:
        owed_totals[str(payment.partner_id)] += payment.amount
    provinces = {payment.province_code for payment in owed}
    counted = sum(
        counters.totals(counters.province_scope(code), ("incentive_paid_amount",))[0]["incentive_paid_amount"]
        for code in provinces
    )
    days = {DUE + timedelta(days=offset) for offset in range(3)}
    found = Counter(mismatch.kind for day in days for mismatch in mismatches.of_day(day))
    duplicates = sum(1 for times in completed.values() if times > 1)
    # Lost: owed and never paid by its partner, or paid and not recorded as paid by us.
    lost = sum(
        1 for payment in owed if completed[payment.payment_id] == 0 or statuses_of(states, payment) != "PAID"
    )
    never_owed = sum(1 for payment_id in completed if payment_id not in states)
    totals_equal = ledger_totals == ours == owed_totals and counted == sum(owed_totals.values())
    details |= {
        "ledger transfers by status": dict(transfers),
        "our payments by status": dict(statuses),
        "ledger totals": dict(ledger_totals),
        "our paid totals": dict(ours),
        "province figures incentive_paid_amount": counted,
        "mismatches kept for reconciliation": dict(found),
        "paid on a ledger and never owed": never_owed,
    }
    return Outcome(len(owed), rounds, kills.struck, duplicates, lost, totals_equal, details, seconds)


def report(outcome: Outcome) -> bool:
    print(f"\npayments: {outcome.payments:,}")
    print(f"kills: {len(outcome.kills)}")
    for kill in outcome.kills:
        print(f"  {kill}")
    print(f"rounds needed: {len(outcome.rounds)}")
    print(f"duplicates on the partners' ledgers: {outcome.duplicates}")
    print(f"lost: {outcome.lost}")
    equal = "yes" if outcome.totals_equal else "NO"
    print(f"totals equal (ledgers = our PAID = owed = province figures): {equal}")
    print(f"wall time of the rounds: {outcome.seconds:.0f} s")
    for name, value in outcome.details.items():
        print(f"{name}: {value}")
    return outcome.duplicates == 0 and outcome.lost == 0 and outcome.totals_equal


def main(count: int, kill_count: int, seed: int) -> int:
    ok = report(run(count, kill_count, seed))
    return 0 if ok else 1


def statuses_of(states: dict[str, Any], payment: Any) -> str:
    state = states[payment.payment_id]
    return str(state.status.value) if state is not None else "MISSING"
