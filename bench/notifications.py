"""Notifications: 10,000 sent through the real sender, killed twice midway; and what the balance
reminders read.

Part one writes `--notifications` outbox records (each for its own participant, who has an e-mail
address and a phone: two messages each) and runs the real sender
(`chalicelib.surveys.notify.sender.send_pending`) against in-process moto's DynamoDB, SES and SNS,
with each channel's rate limit lifted so that what is measured is the sender, not the pace. The
sender is killed twice (a `BaseException` from the send, as a Lambda dies: nothing catches it):
once right after the provider took a message, once just before. It is run again until nothing is
pending, then once more after the claims the killed runs left have gone stale. Reported:
messages a second over the whole run (kills included), and what the providers were given: every
message once, duplicates (must be 0), and the dead letters (the two the kills left uncertain).

Part two loads `--due` selected participants whose purchase deadline is 14 days ahead and ten
times as many whose deadline is on no reminder day, runs the reminders (`reminders.file_due`)
and counts every item DynamoDB returns to it (`ScannedCount` of queries, items of gets).

    .venv/bin/python -m bench.notifications [--notifications 10000] [--due 1000]

Timings are moto's in-process answers plus our CPU (docs/BENCHMARKS.md says what that means).
"""

from __future__ import annotations

import argparse
import os
import random
import time
from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

import boto3
import botocore.client
from moto import mock_aws

import bench.in_process  # noqa: F401  (the environment, before anything reads it)
from devstack import aws_calls, moto_patches
from devstack.tables import create_tables

os.environ.update(
    {
        "MAIL_SENDER": "Prakerja <no-reply@prakerja.local>",
        "NOTIFY_EMAIL_PER_SECOND": "1000000",
        "NOTIFY_SMS_PER_SECOND": "1000000",
    }
)

NOW = datetime.fromisoformat("2021-06-21T09:00:00+07:00")
REGION = "ap-southeast-3"


class Killed(BaseException):
    """The sender died here: nothing after this point ran, nothing caught it."""


read: Counter[str] = Counter()
_original = botocore.client.BaseClient._make_api_call


def _counting(self: Any, operation: str, params: dict[str, Any]) -> Any:
    result = _original(self, operation, params)
    table = str(params.get("TableName", ""))
    if operation == "Query":
        read[table] += int(result.get("ScannedCount", 0))
    elif operation == "GetItem":
        read[table] += int("Item" in result)
    elif operation == "BatchGetItem":
        for name, items in result.get("Responses", {}).items():
            read[name] += len(items)
    read[operation] += 1
    return result


def people(count: int, prefix: str, deadline: datetime | None) -> list[str]:
    """`count` selected participants, written as selection leaves them; their ids."""
    from chalicelib.registration import service
    from chalicelib.registration.model import Participant, Status, Verification
    from chalicelib.registration.stores import balance, participants

    client = boto3.client("dynamodb")
    ids, batch = [], []
    for index in range(count):
        participant_id = service.participant_id_for(f"{prefix}-{index}")
        ids.append(participant_id)
        participant = Participant(
            participant_id=participant_id,
            nik=f"31712301019{index:05d}",
            kk_number=f"31712301018{index:05d}",
            full_name="Siti Rahayu",
            birth_date=date(1990, 1, 5),
            gender="F",
            email=f"peserta{index}@example.id",
            phone=f"+62812{index:08d}",
            province_code="31",
            regency_code="3171",
            education="SMA",
            employment_status="UNEMPLOYED",
            declarations={},
            registered_at=NOW - timedelta(days=30),
            registered_by="bench",
            channel="ONLINE",
            fingerprint="-",
            status=Status.SELECTED,
            verification=Verification.NIK_VERIFIED,
            wave_id="W1",
        )
        record: Any = participants.registration_items(participant)[0]
        record.selected_wave, record.balance = "W1", 1_000_000
        record.gsi2pk = record.gsi2sk = None
        if deadline is not None:
            record.purchase_deadline = deadline
            record.gsi1pk, record.gsi1sk = balance.deadline_key(deadline, participant_id), participant_id
        batch.append({"PutRequest": {"Item": record.serialize()}})
        if len(batch) == 25 or index == count - 1:
            client.batch_write_item(RequestItems={"prakerja-local-participants": batch})
            batch = []
    return ids


def file_notifications(ids: list[str]) -> None:
    from chalicelib.core import outbox
    from chalicelib.core.storage import UnitOfWork

    unit = UnitOfWork()
    for index, participant_id in enumerate(ids):
        details = {"amount": "600000", "payment_kind": "INCENTIVE"}
        outbox.add(unit, participant_id, "PAYMENT_SENT", f"PAYMENT#{index}#PAID", details, NOW)
        if len(unit) == 100:
            unit.commit()
            unit = UnitOfWork()
    unit.commit()


def given() -> Counter[tuple[str, str, str]]:
    """Every message the providers took: (channel, address, text)."""
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends
    from moto.sns.models import sns_backends

    ses = ses_backends[DEFAULT_ACCOUNT_ID][REGION]
    sns = sns_backends[DEFAULT_ACCOUNT_ID][REGION]
    found: Counter[tuple[str, str, str]] = Counter()
    for message in ses.sent_messages:
        found["EMAIL", message.destinations["ToAddresses"][0], message.body] += 1
    for phone, text in sns.sms_messages.values():
        found["SMS", phone, text] += 1
    return found


def send_with_kills(total_messages: int, rng: random.Random) -> tuple[float, int]:
    """The sender to the end, killed twice; its wall time and how many runs it took."""
    from chalicelib.core import clock
    from chalicelib.surveys.notify import channels, sender

    after, before = sorted(rng.sample(range(total_messages // 4, 3 * total_messages // 4), 2))
    real, calls = channels.send, Counter[str]()

    def dying(*args: Any) -> str:
        calls["n"] += 1
        if calls["n"] == before:
            raise Killed("before the provider")
        message_id = real(*args)
        if calls["n"] == after:
            raise Killed("after the provider took it")
        return message_id

    channels.send = dying  # type: ignore[assignment]
    runs = 0
    started = time.perf_counter()
    try:
        while True:
            runs += 1
            try:
                summary = sender.send_pending(lambda: True, run_seconds=3600)
            except Killed as killed:
                print(f"  run {runs}: killed {killed} (send #{calls['n']})")
                continue
            if not summary.get("more"):
                break
        # The killed runs' claims, found stale once no run could still hold them.
        clock.set_now(NOW + timedelta(minutes=16))
        sender.send_pending(lambda: True, run_seconds=3600)
        runs += 1
    finally:
        channels.send = real
    return time.perf_counter() - started, runs


def notifications(count: int) -> bool:
    from chalicelib.core import clock, outbox

    with mock_aws():
        create_tables(boto3.client("dynamodb"))
        boto3.client("sesv2").create_email_identity(EmailIdentity=aws_calls.MAIL_IDENTITY)
        ids = people(count, "notify", None)
        file_notifications(ids)
        clock.set_now(NOW)
        read.clear()
        botocore.client.BaseClient._make_api_call = _counting
        elapsed, runs = send_with_kills(2 * count, random.Random(15))
        botocore.client.BaseClient._make_api_call = _original
        requests = {operation: n for operation, n in read.items() if not operation.startswith("prakerja-")}
        taken = given()
        dead = [found for shard in range(outbox.SHARDS) for found in outbox.dead_letters(shard, 1000)]
        clock.set_now(None)
    messages = sum(taken.values())
    duplicates = messages - len(taken)
    print(
        f"sent {len(taken):,} distinct messages of {2 * count:,} ({count:,} notifications × e-mail and SMS) "
        f"in {elapsed:.1f} s over {runs} runs: {messages / elapsed:.0f} messages/s, "
        f"{count / elapsed:.0f} notifications/s"
    )
    print(
        f"duplicates {duplicates} (must be 0); dead letters {len(dead)} "
        f"({', '.join(sorted(f'{found.state}/{found.reason}' for found in dead))})"
    )
    outbox_read, people_read = read["prakerja-local-outbox"], read["prakerja-local-participants"]
    print(
        f"requests {requests}: {sum(requests.values()) / count:.2f} a notification; "
        f"outbox items read {outbox_read:,}, participants {people_read:,}"
    )
    return duplicates == 0 and len(taken) + 1 >= 2 * count and len(dead) == 2


def reminders(due: int) -> bool:
    from chalicelib.core import clock
    from chalicelib.surveys.notify import reminders as reminding

    deadline = datetime.fromisoformat("2021-07-05T23:59:59+07:00")
    today = deadline - timedelta(days=14, hours=14)
    with mock_aws():
        create_tables(boto3.client("dynamodb"))
        people(due, "due", deadline)
        # Ten times as many whose deadlines fall on no reminder day of today's run.
        for offset in range(10):
            people(due, f"later{offset}", deadline + timedelta(days=1 + offset if offset < 6 else 9 + offset))
        clock.set_now(today)
        read.clear()
        botocore.client.BaseClient._make_api_call = _counting
        started = time.perf_counter()
        summary = reminding.file_due(lambda: True)
        elapsed = time.perf_counter() - started
        botocore.client.BaseClient._make_api_call = _original
        clock.set_now(None)
    index_read = read["prakerja-local-participants"]
    print(
        f"reminders: {summary['reminders_filed']:,} filed for {due:,} due among {11 * due:,} selected "
        f"in {elapsed:.1f} s; participants read {index_read:,} = {index_read / due:.3f} × the due ones "
        f"(target ≤ 1.1); checkpoint items read {read['prakerja-local-outbox']}; queries {read['Query']}"
    )
    return summary["reminders_filed"] == due and index_read <= 1.1 * due


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notifications", type=int, default=10_000)
    parser.add_argument("--due", type=int, default=1_000)
    arguments = parser.parse_args()
    moto_patches.apply()
    ok = reminders(arguments.due)
    ok = notifications(arguments.notifications) and ok
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
