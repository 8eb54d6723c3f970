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


def add_in(
    unit: UnitOfWork, scope: str, spread_by: str, figures: Mapping[str, int], group: str | None = None
) -> None:
    """Add to `scope`'s figures (or to those of one `group` within it, e.g. a cohort) as part of
    `unit`, on one shard picked by `spread_by`."""
    counted = {name: value for name, value in figures.items() if value}
    if not counted:
        return
    bad = [name for name in counted if not _NAME.match(name)]
    if bad:
        raise ValueError(f"not a figure's name: {bad}")
    names = {f"#f{index}": name for index, name in enumerate(counted)}
    values: dict[str, Any] = {f":f{index}": {"N": str(value)} for index, value in enumerate(counted.values())}
    expression = "ADD " + ", ".join(f"#f{index} :f{index}" for index in range(len(counted)))
    sort_key = f"SHARD#{_shard(spread_by)}"
    if group is not None:
        sort_key = f"{group}#{sort_key}"
        names["#group"], values[":group"] = "group", {"S": group}
        expression += " SET #group = :group"
    operation = {
        "TableName": _CounterRecord.Meta.table_name,
        "Key": {"pk": {"S": scope}, "sk": {"S": sort_key}},
        "UpdateExpression": expression,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }
    unit.add_raw("update", operation)


def totals(scope: str, names: Iterable[str]) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
    """The scope's figures of `names` (0 where never counted), shards added up, and those of each
    group within it."""
    figures = dict.fromkeys(names, 0)
    groups: dict[str, dict[str, int]] = {}
    start: dict[str, Any] | None = None
    while True:
        # The table connection's own query: raw items, every figure in them, whatever its name.
        page = _CounterRecord._get_connection().query(scope, exclusive_start_key=start)
        for item in page.get("Items", []):
            if "group" in item:
                into = groups.setdefault(item["group"]["S"], {})
                wanted = {name for name, value in item.items() if "N" in value}
            else:
                into, wanted = figures, set(figures)
            for name in wanted & item.keys():
                into[name] = into.get(name, 0) + int(item[name]["N"])
        start = page.get("LastEvaluatedKey")
        if not start:
            return figures, dict(sorted(groups.items()))
