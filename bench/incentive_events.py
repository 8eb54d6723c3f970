"""What learning of ratings from training's event stream costs (issue 14; docs/INCENTIVES.md, "How
incentives learns of a rating"): items read and written per event by the `incentive_events` job,
what a run that finds nothing reads, and how long after a rating its schedule is owed.

    .venv/bin/python -m bench.incentive_events [--payees 1000]

The real app against in-process moto (with the local stack's patches). Each payee is a seeded
participant with a verified account and a completed purchase that is rated in one transaction
with training's `FIRST_RATING` event, as `training.completions.rate` writes it (the course's
rating sum and the outbox notification of that transaction are left out: the job reads neither).
The job then runs as its schedule would, and every AWS request it makes is counted
(`bench.payees.AwsCounter`).
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import datetime, timedelta
from typing import Any

import boto3

import bench.in_process  # noqa: F401  (the environment, before anything reads it)
from bench import payees

RATED_AT = datetime.fromisoformat("2021-06-10T12:00:00+07:00")
IDLE_READS_TARGET = 0  # items: an idle run's 16 queries find nothing and read nothing
os.environ["POWERTOOLS_LOG_LEVEL"] = "ERROR"


def rated_payees(count: int) -> list[str]:
    """Payees with a verified account whose first completed course was just rated."""
    from chalicelib.core import clock, outbox
    from chalicelib.core.settings import settings
    from chalicelib.core.storage import UnitOfWork
    from chalicelib.incentives.model import PaymentAccount
    from chalicelib.incentives.stores import accounts
    from chalicelib.training.model import EVENTS, FIRST_RATING, Purchase, PurchaseStatus
    from chalicelib.training.stores import purchases
    from devstack import seed

    people = list(seed.generate(count, seed=7, as_of=payees.SEED_AS_OF))
    tables = seed.Tables(settings().table_name("participants"), settings().table_name("guards"))
    seed.write(boto3.client("dynamodb"), people, tables, threads=1)
    clock.set_now(RATED_AT)
    participant_ids = []
    for index, person in enumerate(people):
        participant_id = seed.registration(person).participant_id
        accounts.save_account(
            PaymentAccount(
                participant_id=participant_id,
                partner_id=payees.partner_of(index),
                account_number=payees.account_number(index),
                account_name=person.full_name,
                verified=True,
                reason=None,
                linked_at=RATED_AT,
            )
        )
        accounts.mark_ready(participant_id, verified_at=RATED_AT)
        purchase = Purchase(
            purchase_id=f"P-{index:06d}",
            participant_id=participant_id,
            course_id="C1",
            platform_id="platform-1",
            price=500_000,
            redemption_code=f"R{index:06d}",
            purchased_at=RATED_AT - timedelta(days=5),
            status=PurchaseStatus.COMPLETED,
            completed_at=RATED_AT - timedelta(days=1),
        )
        unit = UnitOfWork()
        purchases.add(unit, purchase)
        unit.commit()
        unit = UnitOfWork()
        purchases.rate(unit, purchase, 5, None, RATED_AT)
        details = {"purchase_id": purchase.purchase_id, "course_id": purchase.course_id}
        outbox.publish(unit, EVENTS, participant_id, FIRST_RATING, details, RATED_AT)
        unit.commit()
        participant_ids.append(participant_id)
    return participant_ids


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payees", type=int, default=1_000)
    count = parser.parse_args().payees

    from chalicelib.core import clock
    from chalicelib.incentives.stores import payments

    counter = payees.AwsCounter()
    with payees.in_process_aws():
        participant_ids = rated_payees(count)
        counter.install()
        try:
            # The next minute's run, and the ones after it while a run hands work on.
            clock.set_now(RATED_AT + timedelta(minutes=1))
            started = time.perf_counter()
            runs: list[dict[str, Any]] = []
            with counter.counting("events") as events:
                while not runs or runs[-1].get("more"):
                    runs.append(payees.invoke("incentive_events", payees.scheduled("incentive_events")))
            seconds = time.perf_counter() - started
            with counter.counting("idle") as idle:
                again = payees.invoke("incentive_events", payees.scheduled("incentive_events"))
        finally:
            counter.uninstall()
            clock.set_now(None)
        owed = sum(len(payments.payments_of(participant_id)) for participant_id in participant_ids)
    scheduled = sum(run["scheduled"] for run in runs)
    print(f"payees rated: {count:,}; runs: {runs}; payments owed: {owed:,}")
    print(f"{len(runs)} runs: {seconds:.1f} s, {seconds / count * 1000:.1f} ms an event (in-process moto)")
    print(f"items read per event: {events.read() / count:.2f}  ({dict(events.items_read)})")
    print(f"items written per event: {events.written() / count:.2f}  ({dict(events.items_written)})")
    print(f"requests per event: {events.request_count / count:.2f}  ({dict(events.requests)})")
    print(f"a run that finds nothing: {again}; items read {idle.read()}, requests {dict(idle.requests)}")
    ok = scheduled == count and owed == 4 * count and idle.read() == IDLE_READS_TARGET
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
