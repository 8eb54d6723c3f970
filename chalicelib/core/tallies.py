"""Tallies: figures that a spike would otherwise write once per person into the same few items.

A counter of `core.counters` spreads a scope over 16 shards: 2,000 registrations in one province
would write each of them about 125 times. A tally spreads the same figures over `SHARDS` items per
series bucket (an hour, a day) instead, so a spike of 2,000 writes each about 4 times, and the
`stats` job folds them, up to `FOLD_CHUNK` shards of one bucket at a time, into one of the scope's
`ROLLUP_PARTS` rollup items and into the bucket's item of each series the caller names: in one
transaction that also deletes the shards it read, on the condition that they still hold what it
read. A kill loses nothing and repeats nothing (each fold is all or nothing, and what is left in
the tally is exactly what is not folded yet), and readers add the scope's unfolded shards to its
figures (`counters.totals`), so a figure is exact whether or not the job has run; the series are
exact once it has.

What one run writes: each series bucket item, and the bucket's rollup part, once per chunk of
the bucket's shards (a spike of 2,000 in one hour fills about 500 shards: 6 chunks). A series shared
by many scopes (the national one) is spread over parts by scope, so that 38 provinces folding
in one run do not all write the same item; its readers add the parts up.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Mapping
from typing import Any

from chalicelib.core.counters import (
    counter_connection,
    items_of,
    sort_key_between,
    table_name,
    tally_scope,
    update_operation,
)
from chalicelib.core.storage import Refused, UnitOfWork

SHARDS = 512
# Shards of one bucket folded per transaction: with a rollup part and the bucket's item in two
# series (the scope's and the national one), DynamoDB's 100 operations.
FOLD_CHUNK = 97
FOLD_ATTEMPTS = 3
ROLLUP = "ROLLUP"
ROLLUP_PARTS = 16
SERIES_PARTS = 8
# A series target: the series' scope, and whether it is shared by many scopes (spread over parts).
Target = tuple[str, bool]


def series_scope(scope: str) -> str:
    return f"SERIES#{scope}"


def _shard(spread_by: str) -> str:
    return f"{int(hashlib.blake2b(spread_by.encode(), digest_size=4).hexdigest(), 16) % SHARDS:03d}"


def tally_in(unit: UnitOfWork, scope: str, bucket: str, spread_by: str, figures: Mapping[str, int]) -> None:
    """Add `figures` to `scope`'s tally within series `bucket` (`HOUR#…`, `DAY#…`), as part of
    `unit`, on one of `SHARDS` shards picked by `spread_by`."""
    operation = update_operation(tally_scope(scope), f"{bucket}#SHARD#{_shard(spread_by)}", figures)
    if operation is not None:
        operation["UpdateExpression"] += " SET #bucket = :bucket"
        operation["ExpressionAttributeNames"]["#bucket"] = "bucket"
        operation["ExpressionAttributeValues"][":bucket"] = {"S": bucket}
        unit.add_raw("update", operation)


def unfolded(scope: str) -> list[dict[str, Any]]:
    """The scope's tally shards not folded yet, raw: at most `SHARDS` per open bucket, none once
    the job has caught up."""
    return items_of(tally_scope(scope))


def figures_of(item: Mapping[str, Any]) -> dict[str, int]:
    return {name: int(value["N"]) for name, value in item.items() if "N" in value}


def fold(scope: str, series: tuple[Target, ...], has_time: Callable[[], bool]) -> dict[str, int]:
    """Fold `scope`'s tally into its rollup and each of `series`' bucket items; how many shards
    were folded and how many were left (written to while being folded, or no time left), for the
    next run."""
    folded = left = 0
    by_bucket: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in unfolded(scope):
        by_bucket[item["bucket"]["S"]].append(item)
    for bucket, items in sorted(by_bucket.items()):
        for start in range(0, len(items), FOLD_CHUNK):
            chunk = items[start : start + FOLD_CHUNK]
            if not has_time() or not _fold_chunk(scope, bucket, series, chunk):
                left += len(chunk)
                continue
            folded += len(chunk)
    return {"folded": folded, "left": left}


def _part(value: str, parts: int) -> int:
    return int(hashlib.blake2b(value.encode(), digest_size=4).hexdigest(), 16) % parts


def _fold_chunk(scope: str, bucket: str, series: tuple[Target, ...], chunk: list[dict[str, Any]]) -> bool:
    for _ in range(FOLD_ATTEMPTS):
        if _commit_fold(scope, bucket, series, chunk):
            return True
        # Someone added to a shard since it was read: read the chunk's shards again.
        chunk = [item for item in (_reread(scope, item["sk"]["S"]) for item in chunk) if item]
    return False


def _reread(scope: str, sort_key: str) -> dict[str, Any] | None:
    item = counter_connection().get_item(tally_scope(scope), sort_key, consistent_read=True).get("Item")
    return dict(item) if item else None


def _commit_fold(scope: str, bucket: str, series: tuple[Target, ...], chunk: list[dict[str, Any]]) -> bool:
    total: dict[str, int] = defaultdict(int)
    unit = UnitOfWork()
    for item in chunk:
        figures = figures_of(item)
        for name, value in figures.items():
            total[name] += value
        names = {f"#f{index}": name for index, name in enumerate(figures)}
        values = {f":f{index}": {"N": str(value)} for index, value in enumerate(figures.values())}
        condition = " AND ".join(f"#f{index} = :f{index}" for index in range(len(figures)))
        deletion: dict[str, Any] = {
            "TableName": table_name(),
            "Key": {"pk": item["pk"], "sk": item["sk"]},
            "ConditionExpression": condition or "attribute_exists(pk)",
        }
        if figures:
            deletion |= {"ExpressionAttributeNames": names, "ExpressionAttributeValues": values}
        unit.add_raw("delete", deletion)
    # One part per bucket: written as often as the bucket's series item, and the parts a reader
    # finds depend on the hours and days counted, not on how many people were.
    rollup = f"{ROLLUP}#{_part(bucket, ROLLUP_PARTS):02d}"
    operations = [update_operation(scope, rollup, total)]
    for into, shared in series:
        sort_key = f"{bucket}#PART#{_part(scope, SERIES_PARTS)}" if shared else bucket
        operations.append(update_operation(series_scope(into), sort_key, total))
    for operation in operations:
        if operation is not None:
            unit.add_raw("update", operation)
    try:
        unit.commit()
    except Refused:
        return False
    return True


def series_between(scope: str, first: str, last: str) -> dict[str, dict[str, int]]:
    """The series' buckets from `first` to `last` (sort keys, inclusive), each with its figures
    (its parts added up): one item a bucket (`SERIES_PARTS` for a shared series), so a read is
    bounded by the range it asks for."""
    found: dict[str, dict[str, int]] = {}
    start: dict[str, Any] | None = None
    while True:
        page = counter_connection().query(
            series_scope(scope),
            range_key_condition=sort_key_between(first, f"{last}~"),
            exclusive_start_key=start,
        )
        for item in page.get("Items", []):
            into = found.setdefault(item["sk"]["S"].partition("#PART#")[0], {})
            for name, value in figures_of(item).items():
                into[name] = into.get(name, 0) + value
        start = page.get("LastEvaluatedKey")
        if not start:
            return found
