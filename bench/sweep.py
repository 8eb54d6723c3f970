"""What the revocation sweep reads: 10,000 due participants among 100,000 selected ones.

Selected participants are written as selection leaves them (profile with balance, purchase
deadline and its entry in the due index), `--due` of them with a deadline that has passed and
the rest with one still ahead. The real sweep (`chalicelib.training.service.sweep_deadlines`)
then runs against in-process moto (with the local stack's transaction patch); every item
DynamoDB returns to it is counted (`ScannedCount` of queries, items of gets). With `--kills K`
the same sweep runs again on fresh tables, stopped K times at random pages and resumed; it must
revoke the same people, each once.

    .venv/bin/python -m bench.sweep [--selected 100000] [--due 10000] [--kills 3]
"""

from __future__ import annotations

import argparse
import random
import time
from collections import Counter
from datetime import datetime
from typing import Any

import boto3
import botocore.client
from moto import mock_aws

import bench.in_process  # noqa: F401  (the environment, before anything reads it)
from bench import people
from devstack import moto_patches
from devstack.tables import create_tables

read: Counter[str] = Counter()
_original = botocore.client.BaseClient._make_api_call


def _counting(self: Any, operation: str, params: dict[str, Any]) -> Any:
    result = _original(self, operation, params)
    if operation == "Query":
        read["items"] += int(result.get("ScannedCount", 0))
    elif operation == "GetItem":
        read["items"] += int("Item" in result)
    elif operation == "BatchGetItem":
        read["items"] += sum(len(items) for items in result.get("Responses", {}).values())
    read[operation] += 1
    return result


SELECTED_AT = datetime.fromisoformat("2021-06-05T10:00:00+07:00")
DUE_DEADLINE = datetime.fromisoformat("2021-07-05T23:59:59+07:00")
LATER_DEADLINE = datetime.fromisoformat("2021-08-05T23:59:59+07:00")
SWEPT_AT = datetime.fromisoformat("2021-07-06T01:00:00+07:00")


def load(selected: int, due: int) -> set[str]:
    """The selected participants (batch writes, as selection would leave them); returns the due ids."""
    from chalicelib.registration import service
    from chalicelib.registration.model import Status, Verification, Wave
    from chalicelib.registration.stores import balance, participants
    from chalicelib.registration.stores import waves as store

    opens, closes = (
        datetime.fromisoformat("2021-06-01T00:00+07:00"),
        datetime.fromisoformat("2021-06-04T00:00+07:00"),
    )
    store.add_wave(Wave("W1", opens, closes, selected, {}), created_by="bench")
    store.add_due_days("W1", deadline_days={DUE_DEADLINE.date(), LATER_DEADLINE.date()}, expiry_days=set())
    rng = random.Random(3)
    due_indexes = set(rng.sample(range(selected), due))
    due_ids = set()
    client = boto3.client("dynamodb")
    batch: list[dict[str, Any]] = []
    for index in range(selected):
        participant_id = service.participant_id_for(f"sweep-{index}")
        deadline = DUE_DEADLINE if index in due_indexes else LATER_DEADLINE
        if index in due_indexes:
            due_ids.add(participant_id)
        province = f"{11 + index % 24}"
        participant = people.profile(
            index,
            participant_id,
            province,
            SELECTED_AT,
            status=Status.SELECTED,
            verification=Verification.NIK_VERIFIED,
            wave_id="W1",
        )
        record: Any = participants.registration_items(participant)[0]
        record.selected_wave, record.balance, record.purchase_deadline = "W1", 1_000_000, deadline
        record.gsi1pk, record.gsi1sk = balance.deadline_key(deadline, participant_id), participant_id
        record.gsi2pk = record.gsi2sk = None
        batch.append({"PutRequest": {"Item": record.serialize()}})
        if len(batch) == 25 or index == selected - 1:
            client.batch_write_item(RequestItems={"prakerja-local-participants": batch})
            batch = []
    return due_ids


def sweep(kills: int, pages: int, rng: random.Random) -> tuple[dict[str, Any], int]:
    """The sweep to the end, stopped `kills` times after a random number of pages; returns its
    last summary and how many runs it took."""
    from chalicelib.training import service

    stops = iter(sorted(rng.sample(range(1, pages), kills)))
    stop, taken, runs = next(stops, None), 0, 0

    def has_time() -> bool:
        nonlocal taken
        if stop is not None and taken >= stop:
            return False
        taken += 1
        return True

    while True:
        summary = service.sweep_deadlines(has_time)
        runs += 1
        if not summary.get("more"):
            return summary, runs
        stop = next(stops, None)


def revoked_ids() -> set[str]:
    table = boto3.resource("dynamodb").Table("prakerja-local-participants")
    found: set[str] = set()
    scan: dict[str, Any] = {"FilterExpression": "#s = :r", "ExpressionAttributeNames": {"#s": "status"},
                            "ExpressionAttributeValues": {":r": "REVOKED"}}  # fmt: skip
    while True:
        page = table.scan(**scan)
        found |= {item["participant_id"] for item in page["Items"]}
        if "LastEvaluatedKey" not in page:
            return found
        scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def run(selected: int, due: int, kills: int) -> None:
    from chalicelib.core import clock
    from chalicelib.core import counters as stats
    from chalicelib.training import revocation

    with mock_aws():
        create_tables(boto3.client("dynamodb"))
        started = time.perf_counter()
        due_ids = load(selected, due)
        loaded = time.perf_counter() - started
        print(f"loaded {selected:,} selected participants ({due:,} due) in {loaded:.1f} s")
        clock.set_now(SWEPT_AT)
        read.clear()
        botocore.client.BaseClient._make_api_call = _counting
        started = time.perf_counter()
        _, runs = sweep(kills, pages=due // revocation.PAGE + 2 * 16, rng=random.Random(7))
        elapsed = time.perf_counter() - started
        botocore.client.BaseClient._make_api_call = _original
        revoked = revoked_ids()
        counted = sum(
            stats.totals(stats.province_scope(f"{11 + i}"), ("revoked",))[0]["revoked"] for i in range(24)
        )
        clock.set_now(None)
    label = f"killed {kills}× and resumed" if kills else "uninterrupted"
    requests = {operation: count for operation, count in read.items() if operation != "items"}
    print(f"sweep ({label}, {runs} run(s)): {elapsed:.1f} s; requests {requests}")
    print(f"items read {read['items']:,} = {read['items'] / due:.3f} × the due ones (target ≤ 1.1)")
    print(
        f"revoked {len(revoked):,}; exactly the due ones: {revoked == due_ids}; counted in stats: {counted:,}"
    )
    if revoked != due_ids or counted != due or read["items"] > 1.1 * due:
        raise SystemExit(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--selected", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=10_000)
    parser.add_argument("--kills", type=int, default=3)
    arguments = parser.parse_args()
    moto_patches.apply()
    run(arguments.selected, arguments.due, 0)
    if arguments.kills:
        run(arguments.selected, arguments.due, arguments.kills)


if __name__ == "__main__":
    main()
