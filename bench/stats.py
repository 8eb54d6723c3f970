"""What the province figures cost: items a stats read returns at two programme sizes, and how
often any one stats item is written during a spike of registrations into one province.

Reads: `--participants` and ten times as many, spread over every province, each registered (a
pending profile, as registration leaves it), decided by the registry through the real write the
`verify_identity` consumer makes, and applied to a wave through the real application write; the
`stats` job then folds the tallies. Every item DynamoDB returns to the reads the stats routes make
(`counters.totals` per province, the series of a week) is counted, before the fold and after it.

Spike: `--spike` registrations into province 31 in one hour, each decided and applied as above,
with the `stats` job run `--runs` times during it (its schedule is every 5 minutes); every write
of an item of the stats table is counted by key (an update, a put, a delete, or one operation of a
transaction). The target is `spike / 100` writes at most for any item.

    .venv/bin/python -m bench.stats [--participants 1000] [--spike 2000] [--runs 4]
"""

from __future__ import annotations

import argparse
import hashlib
import time
from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

import boto3
import botocore.client
from moto import mock_aws

import bench.in_process  # noqa: F401  (the environment, before anything reads it)
from bench import people
from devstack import moto_patches
from devstack.tables import create_tables

STATS_TABLE = "prakerja-local-stats"
REGISTERED_AT = datetime.fromisoformat("2021-05-30T10:15:00+07:00")
APPLIED_AT = datetime.fromisoformat("2021-06-02T10:00:00+07:00")

read: Counter[str] = Counter()
written: Counter[tuple[str, str]] = Counter()
_original = botocore.client.BaseClient._make_api_call


def _counting(self: Any, operation: str, params: dict[str, Any]) -> Any:
    result = _original(self, operation, params)
    if operation == "Query":
        read["items"] += int(result.get("ScannedCount", 0))
    elif operation == "GetItem":
        read["items"] += int("Item" in result)
    read[operation] += 1
    if operation in ("UpdateItem", "PutItem", "DeleteItem") and params.get("TableName") == STATS_TABLE:
        key = params.get("Key") or params.get("Item", {})
        written[(key["pk"]["S"], key["sk"]["S"])] += 1
    if operation == "TransactWriteItems":
        for entry in params["TransactItems"]:
            for body in entry.values():
                if body.get("TableName") == STATS_TABLE:
                    key = body.get("Key") or body.get("Item", {})
                    written[(key["pk"]["S"], key["sk"]["S"])] += 1
    return result


def _wave() -> Any:
    from chalicelib.registration.model import Wave
    from chalicelib.registration.stores import waves

    opens = datetime.fromisoformat("2021-06-01T00:00:00+07:00")
    wave = Wave("W1", opens, opens + timedelta(days=3), 1_000_000, {})
    waves.add_wave(wave, created_by="bench")
    return wave


def _provinces() -> list[str]:
    from chalicelib.core.provinces import province_names

    return sorted(province_names())


def load(count: int, provinces: list[str], between: Any = None, every: int = 500) -> None:
    """`count` people registered, decided and applied, through the writes the app makes; `between`
    is called after every `every` of them (the `stats` job's runs during a spike)."""
    from chalicelib.core import clock
    from chalicelib.registration.model import Event, Status, Verification
    from chalicelib.registration.stores import participants, verification, waves

    wave = _wave()
    client = boto3.client("dynamodb")
    made = []
    batch: list[dict[str, Any]] = []
    for index in range(count):
        participant_id = hashlib.sha256(f"stats-{index}".encode()).hexdigest()[:32]
        province = provinces[index % len(provinces)]
        person = people.profile(
            index,
            participant_id,
            province,
            REGISTERED_AT,
            status=Status.REGISTERED,
            verification=Verification.PENDING,
        )
        made.append(person)
        batch.append({"PutRequest": {"Item": participants.registration_items(person)[0].serialize()}})
        if len(batch) == 25 or index == count - 1:
            client.batch_write_item(RequestItems={"prakerja-local-participants": batch})
            batch = []
    clock.set_now(APPLIED_AT)
    for index, person in enumerate(made):
        decided = Event(REGISTERED_AT, "registry", "NIK_VERIFIED", None, None)
        assert verification.record_verification(person, Verification.NIK_VERIFIED, None, decided)
        found = participants.participant(person.participant_id)
        assert found is not None
        applied = Event(APPLIED_AT, "participant", "APPLIED", "REGISTERED", "APPLIED")
        waves.add_application(found, wave, f"{index:032x}", False, applied)
        if between is not None and (index + 1) % every == 0:
            between()
    clock.set_now(None)


def _reads() -> dict[str, int]:
    """Items returned to the reads of each stats route (`chalicelib/reports/routes.py`)."""
    from chalicelib.core import counters
    from chalicelib.reports import schemas, series

    measured = {}
    for label, action in (
        (
            "GET /v1/stats/provinces/31",
            lambda: counters.totals(counters.province_scope("31"), schemas.FIGURES),
        ),
        (
            "GET /v1/stats/provinces (every province + national)",
            lambda: [
                counters.totals(counters.province_scope(code), schemas.FIGURES) for code in _provinces()
            ],
        ),
        (
            "GET /v1/stats/provinces/31/series (7 days)",
            lambda: series.series(counters.province_scope("31"), date(2021, 5, 27), date(2021, 6, 2)),
        ),
    ):
        read.clear()
        action()
        measured[label] = read["items"]
    return measured


def _fold() -> dict[str, object]:
    from chalicelib.reports import rollup

    return rollup.fold_provinces(lambda: True)


def reads(count: int) -> dict[str, dict[str, int]]:
    with mock_aws():
        create_tables(boto3.client("dynamodb"))
        started = time.perf_counter()
        load(count, _provinces())
        print(f"  {count:,} participants loaded in {time.perf_counter() - started:.0f} s", flush=True)
        botocore.client.BaseClient._make_api_call = _counting
        before = _reads()
        folded = _fold()
        after = _reads()
        botocore.client.BaseClient._make_api_call = _original
    print(f"  fold: {folded}")
    return {"before the stats job": before, "after it": after}


def spike(count: int, runs: int) -> None:
    every = max(1, count // runs)
    with mock_aws():
        create_tables(boto3.client("dynamodb"))
        written.clear()
        botocore.client.BaseClient._make_api_call = _counting
        done = {"runs": 0}

        def job() -> None:
            if done["runs"] < runs - 1:
                done["runs"] += 1
                _fold()

        started = time.perf_counter()
        load(count, ["31"], between=job, every=every)
        _fold()
        elapsed = time.perf_counter() - started
        botocore.client.BaseClient._make_api_call = _original
        from chalicelib.core import counters

        figures, _ = counters.totals(counters.province_scope("31"), ("registered", "applied"))
    hottest = written.most_common(5)
    print(f"spike of {count:,} into province 31 ({elapsed:.0f} s), stats job run {done['runs'] + 1} times")
    print(f"  stats items written: {len(written):,}; writes: {sum(written.values()):,}")
    print(f"  most written: {[(f'{pk} {sk}', n) for (pk, sk), n in hottest]}")
    print(f"  figures after: {figures}")
    limit = count / 100
    print(f"  max writes of one item: {hottest[0][1]} (target ≤ {limit:.0f})")
    if hottest[0][1] > limit or figures != {"registered": count, "applied": count}:
        raise SystemExit(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=1000)
    parser.add_argument("--spike", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=4)
    arguments = parser.parse_args()
    moto_patches.apply()
    measured = {}
    for count in (arguments.participants, arguments.participants * 10):
        print(f"reads with {count:,} participants", flush=True)
        measured[count] = reads(count)
        for phase, figures in measured[count].items():
            print(f"  {phase}: {figures}")
    small, large = measured.values()
    print(f"same items read after the stats job at both sizes: {small['after it'] == large['after it']}")
    spike(arguments.spike, arguments.runs)
    if small["after it"] != large["after it"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
