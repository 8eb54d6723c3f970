"""Sharded counters: figures added to by the writes that change them, in the same unit of work.

A figure moves in the same DynamoDB transaction as the state it counts (a purchase, a revocation),
so it is exact without a recount and never counted twice: a retried transaction either failed as
a whole or its condition now refuses it. No counter is a hot key: each scope is spread over
`SHARDS` items, picked by the id of whatever is counted, and a reader adds the shards up.

The core knows no domain: each domain names its own figures (a tuple of names) and the scopes
it counts in; figures are top-level numbers of the stats table's items, added with `ADD`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from typing import Any

from chalicelib.core.storage import Keyed, UnitOfWork, table_meta

SHARDS = 16
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


class _CounterRecord(Keyed):
    """A shard of a scope's figures; its figures are whatever numbers the domains added to it."""

    Meta = table_meta("stats")


def province_scope(province_code: str) -> str:
    return f"PROVINCE#{province_code}"


def wave_scope(wave_id: str, province_code: str) -> str:
    """A wave's figures within one province (what revocation returns, per province and wave)."""
    return f"WAVE#{wave_id}#PROVINCE#{province_code}"


def _shard(spread_by: str) -> str:
    return f"{int(hashlib.blake2b(spread_by.encode(), digest_size=2).hexdigest(), 16) % SHARDS:02d}"


def counter_connection() -> Any:
    """The stats table's own connection: raw items, every figure in them, whatever its name."""
    return _CounterRecord._get_connection()


def table_name() -> str:
    return str(_CounterRecord.Meta.table_name)


def sort_key_between(first: str, last: str) -> Any:
    return _CounterRecord.sk.between(first, last)


def tally_scope(scope: str) -> str:
    """Where the scope's tally shards are (`core.tallies`)."""
    return f"TALLY#{scope}"


def update_operation(pk: str, sk: str, figures: Mapping[str, int]) -> dict[str, Any] | None:
    """An `ADD` of the named figures to one item, in DynamoDB's request shape (None if all are 0)."""
    counted = {name: value for name, value in figures.items() if value}
    if not counted:
        return None
    bad = [name for name in counted if not _NAME.match(name)]
    if bad:
        raise ValueError(f"not a figure's name: {bad}")
    return {
        "TableName": _CounterRecord.Meta.table_name,
        "Key": {"pk": {"S": pk}, "sk": {"S": sk}},
        "UpdateExpression": "ADD " + ", ".join(f"#f{index} :f{index}" for index in range(len(counted))),
        "ExpressionAttributeNames": {f"#f{index}": name for index, name in enumerate(counted)},
        "ExpressionAttributeValues": {
            f":f{index}": {"N": str(value)} for index, value in enumerate(counted.values())
        },
    }


def add_in(
    unit: UnitOfWork, scope: str, spread_by: str, figures: Mapping[str, int], group: str | None = None
) -> None:
    """Add to `scope`'s figures (or to those of one `group` within it, e.g. a cohort) as part of
    `unit`, on one shard picked by `spread_by`."""
    sort_key = f"SHARD#{_shard(spread_by)}"
    if group is not None:
        sort_key = f"{group}#{sort_key}"
    operation = update_operation(scope, sort_key, figures)
    if operation is None:
        return
    if group is not None:
        operation["UpdateExpression"] += " SET #group = :group"
        operation["ExpressionAttributeNames"]["#group"] = "group"
        operation["ExpressionAttributeValues"][":group"] = {"S": group}
    unit.add_raw("update", operation)


def totals(scope: str, names: Iterable[str]) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
    """The scope's figures of `names` (0 where never counted), shards added up with the scope's
    tally not folded yet (`core.tallies`), and those of each group within it."""
    figures = dict.fromkeys(names, 0)
    groups: dict[str, dict[str, int]] = {}
    for item in [*items_of(scope), *items_of(tally_scope(scope))]:
        if "group" in item:
            into = groups.setdefault(item["group"]["S"], {})
            wanted = {name for name, value in item.items() if "N" in value}
        else:
            into, wanted = figures, set(figures)
        for name in wanted & item.keys():
            into[name] = into.get(name, 0) + int(item[name]["N"])
    return figures, dict(sorted(groups.items()))


def items_of(partition: str) -> list[dict[str, Any]]:
    """Every item of one partition of the stats table, raw, page by page."""
    items: list[dict[str, Any]] = []
    start: dict[str, Any] | None = None
    while True:
        page = counter_connection().query(partition, exclusive_start_key=start)
        items += page.get("Items", [])
        start = page.get("LastEvaluatedKey")
        if not start:
            return items
