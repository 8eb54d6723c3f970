"""The programme's figures per province and per wave: counters added to by the writes that change them.

A figure moves in the same DynamoDB transaction as the state it counts (a purchase, a revocation),
so it is exact without a recount and never counted twice: a retried transaction either failed as
a whole or its condition now refuses it. No counter is a hot key: each scope is spread over
`SHARDS` items, picked by the id of whatever is counted, and a reader adds the shards up.
The shared core knows no domain: callers name the scope and the figures.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.transactions import TransactWrite

from chalicelib.core.storage import StatsItem

SHARDS = 16

# Every figure a counter holds; amounts are integer Rupiah.
FIGURES = (
    "registered",
    "applied",
    "selected",
    "revoked",
    "freed_places",
    "training_purchased",
    "training_spent",
    "training_completed",
    "returned_balance",
    "expired_balance",
    "incentive_paid_amount",
    "survey_paid_amount",
)


class _CounterRecord(StatsItem):
    cohort = UnicodeAttribute(null=True)
    registered = NumberAttribute(null=True)
    applied = NumberAttribute(null=True)
    selected = NumberAttribute(null=True)
    revoked = NumberAttribute(null=True)
    freed_places = NumberAttribute(null=True)
    training_purchased = NumberAttribute(null=True)
    training_spent = NumberAttribute(null=True)
    training_completed = NumberAttribute(null=True)
    returned_balance = NumberAttribute(null=True)
    expired_balance = NumberAttribute(null=True)
    incentive_paid_amount = NumberAttribute(null=True)
    survey_paid_amount = NumberAttribute(null=True)
    participants = NumberAttribute(null=True)


def province_scope(province_code: str) -> str:
    return f"PROVINCE#{province_code}"


def wave_scope(wave_id: str, province_code: str) -> str:
    """A wave's figures within one province: what revocation returns, per province and wave."""
    return f"WAVE#{wave_id}#PROVINCE#{province_code}"


def _shard(spread_by: str) -> str:
    return f"{int(hashlib.blake2b(spread_by.encode(), digest_size=2).hexdigest(), 16) % SHARDS:02d}"


def add_in(transaction: TransactWrite, scope: str, spread_by: str, figures: Mapping[str, int]) -> None:
    """Add to `scope`'s figures as part of `transaction` (one shard, picked by `spread_by`)."""
    unknown = set(figures) - set(FIGURES)
    if unknown:
        raise ValueError(f"unknown figures: {sorted(unknown)}")
    actions = [getattr(_CounterRecord, name).add(value) for name, value in figures.items() if value]
    if actions:
        transaction.update(_CounterRecord(scope, f"SHARD#{_shard(spread_by)}"), actions=actions)


def count_cohort_in(transaction: TransactWrite, province_code: str, cohort: str, spread_by: str) -> None:
    """One more participant of `cohort` in the province."""
    record = _CounterRecord(province_scope(province_code), f"COHORT#{cohort}#SHARD#{_shard(spread_by)}")
    transaction.update(
        record, actions=[_CounterRecord.cohort.set(cohort), _CounterRecord.participants.add(1)]
    )


def totals(scope: str) -> dict[str, Any]:
    """The scope's figures, shards added up, with `cohorts` (cohort → participants) for a province."""
    figures = dict.fromkeys(FIGURES, 0)
    cohorts: dict[str, int] = {}
    for record in _CounterRecord.query(scope):
        if record.cohort is not None:
            cohorts[record.cohort] = cohorts.get(record.cohort, 0) + int(record.participants or 0)
            continue
        for name in FIGURES:
            figures[name] += int(getattr(record, name) or 0)
    return {**figures, "cohorts": dict(sorted(cohorts.items()))}
