"""What the daily surveys job reads (issue 15): items read by a run, against the surveys due,
with and without ten times as many surveys that are not due yet; and a run killed midway, then
run again, sends each survey exactly once.

    .venv/bin/python -m bench.survey_dispatch [--due 1000] [--not-due 0 10000] [--kills 2]

The real app against in-process moto (with the local stack's patches). Surveys are written as the
job leaves them when it schedules them (`surveys.stores.surveys.add`): the due ones for today, the
others from next month. Every AWS request of the run is counted (`bench.payees.AwsCounter`: a
query's `ScannedCount`, items a get returns).
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import date, datetime, timedelta

import bench.in_process  # noqa: F401  (the environment, before anything reads it)
from bench import payees

RUN_AT = datetime.fromisoformat("2021-08-01T08:00:00+07:00")
TODAY = RUN_AT.date()
TARGET = 1.1
os.environ["POWERTOOLS_LOG_LEVEL"] = "ERROR"


def schedule(start: int, count: int, due: date) -> None:
    from chalicelib.core.storage import UnitOfWork
    from chalicelib.surveys.model import Survey
    from chalicelib.surveys.stores import surveys

    unit = UnitOfWork()
    for index in range(start, start + count):
        surveys.add(unit, Survey(f"{index:032x}", 1, due))
        if len(unit) == 100:
            unit.commit()
            unit = UnitOfWork()
    if len(unit):
        unit.commit()


def measure(due: int, not_due: int) -> tuple[int, int, float]:
    """Items read by the run that sends `due` surveys, surveys sent, and its seconds."""
    from chalicelib.core import clock

    counter = payees.AwsCounter()
    with payees.in_process_aws():
        clock.set_now(RUN_AT)
        schedule(0, due, TODAY)
        schedule(due, not_due, TODAY + timedelta(days=31))
        counter.install()
        try:
            started = time.perf_counter()
            with counter.counting("run") as run:
                summary = payees.invoke("surveys", payees.scheduled("surveys"))
            seconds = time.perf_counter() - started
        finally:
            counter.uninstall()
            clock.set_now(None)
    return run.read(), int(summary["sent"]), seconds


def killed_and_rerun(due: int, kills: int) -> tuple[int, int, int]:
    """Sends `due` surveys through runs killed `kills` times midway, then run again: the sends that
    were committed, the surveys SENT, and the invitations in the outbox (each must equal `due`)."""
    import boto3

    from chalicelib.core import clock
    from chalicelib.core.settings import settings
    from chalicelib.core.storage import UnitOfWork
    from chalicelib.surveys.model import SurveyStatus
    from chalicelib.surveys.stores import surveys

    class Killed(BaseException):
        pass

    commit = UnitOfWork.commit
    attempts = committed = 0
    kill_at = {due * (k + 1) // (kills + 1) for k in range(kills)}

    def killable(self: UnitOfWork) -> None:
        nonlocal attempts, committed
        attempts += 1
        if attempts in kill_at:
            raise Killed()
        commit(self)
        committed += 1

    with payees.in_process_aws():
        clock.set_now(RUN_AT)
        schedule(0, due, TODAY)
        UnitOfWork.commit = killable  # type: ignore[method-assign]
        try:
            for _ in range(kills + 1):
                try:
                    payees.invoke("surveys", payees.scheduled("surveys"))
                except Killed:
                    continue
        finally:
            UnitOfWork.commit = commit  # type: ignore[method-assign]
            clock.set_now(None)
        states = [surveys.survey(f"{index:032x}", 1) for index in range(due)]
        sent = sum(1 for state in states if state is not None and state.status is SurveyStatus.SENT)
        pages = (
            boto3.client("dynamodb").get_paginator("scan").paginate(TableName=settings().table_name("outbox"))
        )
        invitations = sum(page["Count"] for page in pages)
    return committed, sent, invitations


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--due", type=int, default=1_000)
    parser.add_argument("--not-due", type=int, nargs="+", default=[0, 10_000])
    parser.add_argument("--kills", type=int, default=2)
    arguments = parser.parse_args()
    ok = True
    for not_due in arguments.not_due:
        read, sent, seconds = measure(arguments.due, not_due)
        ratio = read / arguments.due
        ok &= ratio <= TARGET and sent == arguments.due
        print(f"due {arguments.due:,}, not due {not_due:,}: sent {sent:,}, items read {read:,} "
              f"({ratio:.3f} × due; target ≤ {TARGET}), {seconds:.1f} s")  # fmt: skip
    committed, sent, invitations = killed_and_rerun(arguments.due, arguments.kills)
    ok &= committed == sent == invitations == arguments.due
    print(f"killed {arguments.kills} times midway, then run again: {committed:,} sends committed, "
          f"{sent:,} surveys SENT, {invitations:,} invitations (each must be {arguments.due:,})")  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
