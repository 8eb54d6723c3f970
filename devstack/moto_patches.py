"""Local stack only: make moto's TransactWriteItems cost what it writes, and a query on a table's
key what it reads, not what the table holds.

Why: moto 5.2.5 prepares the rollback of a `TransactWriteItems` by `copy.deepcopy` of every
table the transaction touches, once per item of the transaction. A registration (one profile
and four guard items) against tables holding a realistic number of participants then takes
seconds (docs/BENCHMARKS.md, "Local stack: transactions at size"), which makes the local
stack unusable. AWS has no such cost; nothing here changes what the app does on AWS, and the
module is imported only by the local stack, the benchmark and its own tests.

What is replaced: exactly one method, `moto.dynamodb.models.DynamoDBBackend.transact_write_items`
(two more are wrapped, not rewritten: a lock and a narrower query, below).
The replacement is moto's own body with one difference: instead of deep-copying whole
tables up front, it remembers, just before each item of the transaction is evaluated, that
one item (a deep copy of it, or that it was absent) and the length of the table's stream, and
on cancellation puts back exactly those items: items the transaction created are removed,
items it updated or deleted are restored, stream records it appended are dropped. Everything
else is moto's: the order of evaluation, which errors cancel with `TransactionCanceledException`
and per-item `CancellationReasons`, which are re-raised as validation errors, the response.
moto ignores `ClientRequestToken` (no idempotency window), and so does the replacement.

And one request at a time: moto's server answers each request in a thread of its own, and
nothing in moto keeps two requests apart. Two transactions debiting one balance both passed
`balance >= :price` and together overdrew it (moto as shipped does the same, or fails with
"dictionary changed size during iteration"). DynamoDB applies every request as one step; the
patch makes each DynamoDB request of the local stack one step by holding a lock around it.

And a query on a table's own key reads that key's partition only: moto 5.2.5's `Table.query`
sorts every item of the table (`all_items`) before it keeps the queried partition's, so each
query of a payee's payments cost time in proportion to the whole table. The replacement hands
moto's own `query` a view of the table holding just that partition; everything else (sorting,
key conditions, paging, filters, projections, what comes back) is moto's. Queries on an index
still read the whole table, as moto does.

Two differences from moto, both towards AWS's behaviour: tables named by ARN are rolled back
too (moto only snapshots tables named by name), and a rollback no longer replaces the table
object, so writes that other requests made to other items meanwhile survive it.

Pinned: `apply()` refuses any moto other than `PINNED_VERSION`, or one whose source of the
replaced method (or of the storage methods the rollback relies on) differs from what was
reviewed. After an upgrade, re-read moto's `transact_write_items` and `Table` storage, port
the difference into `_transact_write_items` below, and update the pins.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import inspect
import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import moto
from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    ConditionalCheckFailed,
    MockValidationException,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import StreamShard, Table
from moto.dynamodb.responses import DynamoHandler

PINNED_VERSION = "5.2.5"
THIS_FILE = "devstack/moto_patches.py"

PINNED_SOURCES: dict[str, str] = {
    "DynamoDBBackend.transact_write_items": "81db2cb7d94e39c90b3a2077e1f4bb41a449c558ef9b1b1e2910fdaa39978ad4",  # noqa: E501
    "DynamoDBBackend.put_item": "f5d9a5042c77b89e5f4c88b5884f7966b9dccd95b8b04090ee9e07afc5eea675",
    "DynamoDBBackend.update_item": "218984588dd689a5de81678ce11e6a40d05c91e7b6c21b44c4ed4122fe74aa9f",
    "DynamoDBBackend.delete_item": "083a4bb1af18f6fd2feef40195a4c9c803da66cb2cacd14f87916c6e76930ea5",
    "DynamoDBBackend.get_item": "290b95c46b38bc5ac8079668e9c449bba9b6b26f4a2872d80ca262115023e189",
    "Table.put_item": "de23933013ef842639046c19bcf7e418bce0474d810f6719368be4cedce11d47",
    "Table.get_item": "b08e98fe37b7e5836afe03b010d637ef50df5dea6cbecd9cf8816eef326a21cd",
    "Table.delete_item": "1594f7b07616c8cb8cdf0fbf58d6f54eeac83f25d7ac7b14e832a08e10efd8f9",
    "StreamShard.add": "357dc6da267e5dd7d46e18ee25d14b232a98679677906a2f02e4d454d1f11e03",
    "Table.query": "002b4d00be6df07cf37f6cbe0132e5eb89455ae12a8e79b23db3fb492450f21e",
    "Table.all_items": "c80d2ee3c896acd0cab6ca35aaeae3ab3fb65858933f8a3403d4e027c240f31d",
}

_MARK = "_devstack_replaces"
_ORIGINAL: Callable[..., None] = getattr(
    DynamoDBBackend.transact_write_items, _MARK, DynamoDBBackend.transact_write_items
)


@dataclass
class _RememberedItem:
    table: Any
    hash_key: Any
    range_key: Any
    had_partition: bool
    before: Any


@dataclass
class _Rollback:
    """The state a cancelled transaction must return to, kept per touched item, not per table.

    Taken before moto's first read of the key, because a read on a table with a sort key
    leaves an empty partition behind (the item store is a defaultdict).
    """

    items: list[_RememberedItem] = field(default_factory=list)
    streams: dict[int, tuple[Any, list[Any], int]] = field(default_factory=dict)

    def remember(self, table: Any, key: dict[str, Any]) -> None:
        shard = table.stream_shard
        if shard is not None and id(shard) not in self.streams:
            self.streams[id(shard)] = (shard, shard.items, len(shard.items))
        range_attr = table.range_key_attr
        try:
            hash_key = DynamoType(key[table.hash_key_attr])
            range_key = DynamoType(key[range_attr]) if range_attr is not None else None
        except (KeyError, TypeError, AttributeError, IndexError):
            # moto rejects such a key in get_item before anything is written.
            return
        partition = table.items.get(hash_key)
        had_partition = hash_key in table.items
        if range_attr is None:
            before = partition
        else:
            before = partition.get(range_key) if isinstance(partition, dict) else None
        self.items.append(_RememberedItem(table, hash_key, range_key, had_partition, copy.deepcopy(before)))

    def restore(self) -> None:
        for item in reversed(self.items):
            store = item.table.items
            if item.range_key is None:
                if item.before is None:
                    store.pop(item.hash_key, None)
                else:
                    store[item.hash_key] = item.before
                continue
            if item.before is not None:
                store[item.hash_key][item.range_key] = item.before
                continue
            partition = store.get(item.hash_key)
            if partition is not None:
                partition.pop(item.range_key, None)
                if not partition and not item.had_partition:
                    del store[item.hash_key]
        for shard, records, length in self.streams.values():
            del records[length:]
            shard.items = records


def _transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:  # noqa: C901, PLR0912, PLR0915
    """moto 5.2.5's `DynamoDBBackend.transact_write_items` with a per-item rollback."""
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    rollback = _Rollback()

    target_items: set[tuple[str, str]] = set()

    def check_unicity(table_name: str, key: dict[str, Any]) -> None:
        item = (str(table_name), str(dict(sorted(key.items()))))
        if item in target_items:
            raise MultipleTransactionsException()
        target_items.add(item)

    errors: list[tuple[str, str, dict[str, Any]] | tuple[None, None, None]] = []
    for item in transact_items:
        original_item: dict[str, Any] | None = None
        if len(list(item.keys())) > 1:
            raise TransactWriteSingleOpException

        try:
            op_type, op = next(iter(item.items()))
            if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                raise ValueError("Unsupported transaction operation")

            table_name = op["TableName"]
            condition_expression = op.get("ConditionExpression")
            expression_attribute_names = op.get("ExpressionAttributeNames")
            expression_attribute_values = op.get("ExpressionAttributeValues")
            return_values_on_condition_check_failure = op.get("ReturnValuesOnConditionCheckFailure")

            if op_type == "Put":
                attrs = op["Item"]
                table = self.get_table(table_name)
                key = {table.hash_key_attr: attrs[table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = attrs[table.range_key_attr]
            else:
                key = op["Key"]

            check_unicity(table_name, key)
            rollback.remember(self.get_table(table_name), key)

            current = self.get_item(table_name, key)
            if condition_expression is not None:
                condition_op = get_filter_expression(
                    condition_expression,
                    expression_attribute_names,
                    expression_attribute_values,
                )
                if not condition_op.expr(current):
                    if return_values_on_condition_check_failure == "ALL_OLD" and current:
                        original_item = current.to_json()["Attributes"]
                    raise ConditionalCheckFailed(item=original_item)

            if op_type == "Put":
                attrs = op["Item"]
                self.put_item(
                    table_name,
                    attrs,
                    condition_expression=condition_expression,
                    expression_attribute_names=expression_attribute_names,
                    expression_attribute_values=expression_attribute_values,
                )
            elif op_type == "Delete":
                self.delete_item(
                    table_name,
                    key,
                    condition_expression=condition_expression,
                    expression_attribute_names=expression_attribute_names,
                    expression_attribute_values=expression_attribute_values,
                )
            elif op_type == "Update":
                update_expression = op["UpdateExpression"]
                self.update_item(
                    table_name,
                    key,
                    update_expression=update_expression,
                    condition_expression=condition_expression,
                    expression_attribute_names=expression_attribute_names,
                    expression_attribute_values=expression_attribute_values,
                )
            errors.append((None, None, None))
        except (MultipleTransactionsException, MockValidationException):
            rollback.restore()
            raise
        except ConditionalCheckFailed as e:
            errors.append(("ConditionalCheckFailed", str(e.message), original_item))  # type: ignore[arg-type]
        except Exception as e:
            errors.append((type(e).__name__, str(e), original_item))  # type: ignore[arg-type]

    if any(code is not None for code, _, _ in errors):
        rollback.restore()
        raise TransactionCanceledException(errors)


setattr(_transact_write_items, _MARK, _ORIGINAL)

_ONE_REQUEST_AT_A_TIME = threading.RLock()
_ORIGINAL_CALL_ACTION: Callable[..., Any] = getattr(
    DynamoHandler.call_action, _MARK, DynamoHandler.call_action
)


@functools.wraps(_ORIGINAL_CALL_ACTION)
def _call_action(self: DynamoHandler) -> Any:
    with _ONE_REQUEST_AT_A_TIME:
        return _ORIGINAL_CALL_ACTION(self)


setattr(_call_action, _MARK, _ORIGINAL_CALL_ACTION)

_ORIGINAL_QUERY: Callable[..., Any] = getattr(Table.query, _MARK, Table.query)
_QUERY_SIGNATURE = inspect.signature(_ORIGINAL_QUERY)


@functools.wraps(_ORIGINAL_QUERY)
def _query(self: Table, *args: Any, **kwargs: Any) -> Any:
    """moto's query on the table's own key, given a view of the table that holds only the queried
    partition (what moto's query keeps of `all_items` anyway)."""
    bound = _QUERY_SIGNATURE.bind(self, *args, **kwargs)
    hash_key = bound.arguments.get("hash_key")
    if bound.arguments.get("index_name") or hash_key is None:
        return _ORIGINAL_QUERY(self, *args, **kwargs)
    view = copy.copy(self)
    partition = self.items.get(hash_key)  # `get`: the store is a defaultdict; a lookup adds a key
    view.items = defaultdict(dict, {hash_key: partition} if partition is not None else {})
    return _ORIGINAL_QUERY(view, *args, **kwargs)


setattr(_query, _MARK, _ORIGINAL_QUERY)


def _pinned_callables() -> dict[str, Callable[..., Any]]:
    return {
        "DynamoDBBackend.transact_write_items": _ORIGINAL,
        "DynamoDBBackend.put_item": DynamoDBBackend.put_item,
        "DynamoDBBackend.update_item": DynamoDBBackend.update_item,
        "DynamoDBBackend.delete_item": DynamoDBBackend.delete_item,
        "DynamoDBBackend.get_item": DynamoDBBackend.get_item,
        "Table.put_item": Table.put_item,
        "Table.get_item": Table.get_item,
        "Table.delete_item": Table.delete_item,
        "StreamShard.add": StreamShard.add,
        "Table.query": _ORIGINAL_QUERY,
        "Table.all_items": Table.all_items,
    }


def check_pin() -> None:
    """Refuse to patch a moto whose transaction code nobody has compared with the replacement."""
    installed = str(getattr(moto, "__version__", "unknown"))
    if installed != PINNED_VERSION:
        raise RuntimeError(
            f"moto {installed} is installed but {THIS_FILE} was written against moto {PINNED_VERSION}: "
            f"review {THIS_FILE} against moto's DynamoDBBackend.transact_write_items, then update its pins"
        )
    changed = [
        name
        for name, function in _pinned_callables().items()
        if hashlib.sha256(inspect.getsource(function).encode()).hexdigest() != PINNED_SOURCES[name]
    ]
    if changed:
        raise RuntimeError(
            f"moto {installed}'s source of {', '.join(changed)} differs from what {THIS_FILE} "
            f"replaces or relies on: review {THIS_FILE}, then update PINNED_SOURCES"
        )


def is_applied() -> bool:
    return hasattr(DynamoDBBackend.transact_write_items, _MARK)


def remove() -> None:
    """Give moto its own method back (tests use this so the patch does not outlive them)."""
    DynamoDBBackend.transact_write_items = _ORIGINAL  # type: ignore[method-assign]
    DynamoHandler.call_action = _ORIGINAL_CALL_ACTION  # type: ignore[method-assign]
    Table.query = _ORIGINAL_QUERY  # type: ignore[method-assign]


def apply() -> Callable[[], None]:
    """Patch moto in this process; safe to call more than once. Returns the undo."""
    if not is_applied():
        check_pin()
        DynamoDBBackend.transact_write_items = _transact_write_items  # type: ignore[method-assign]
        DynamoHandler.call_action = _call_action  # type: ignore[method-assign]
        Table.query = _query  # type: ignore[method-assign]
    return remove
