"""DynamoDB and SQS kept in this process's memory, answered at botocore's HTTP layer, for the
payment throughput benchmark.

Why not moto: moto serves one request at a time and reads a whole table for every query on an
index (docs/BENCHMARKS.md, "Local stack: transactions at size"), so against it a run of the payment
consumers measures moto. Why not `bench.aws_stub`: the consumers read back what the schedule
wrote (a payment claimed, its attempt, the payee's account), so the answers must be the items as
written, not plausible empties.

What it does: the tables of `infra/resources.json` with their keys and global secondary indexes;
`PutItem`, `GetItem`, `DeleteItem`, `UpdateItem`, `BatchWriteItem`, `BatchGetItem`,
`TransactWriteItems`, `TransactGetItems` and `Query` (key conditions, paging, order) answered
from dictionaries, updates applied as DynamoDB applies `SET`, `REMOVE`, `ADD` and `DELETE` on
top-level attributes; SQS `GetQueueUrl`, `SendMessage` and `SendMessageBatch` into in-memory
queues that the benchmark delivers to the consumers as Lambda's SQS trigger would.

What it does not: condition expressions are not evaluated (every condition holds: the benchmark
has no writers racing one another), a filter other than a model's discriminator is refused rather
than ignored, and nothing costs network time unless a round trip is set
(`--aws-round-trip-ms`). The SDK still builds, signs, sends and parses every
call, so the app's CPU per request is what it would be against AWS.

Lambda runs each consumer in a sandbox of its own, so the benchmark runs them in processes of their
own; `on_write` and `on_message` let one process's stub feed replicas in the others, which then
see one DynamoDB and one SQS, with no lag.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import botocore.endpoint
from botocore.awsrequest import AWSPreparedRequest, AWSResponse

from bench.aws_stub import InMemoryBody

Item = dict[str, Any]
Key = tuple[Any, ...]

_JSON = {"x-amzn-RequestId": "memory", "Content-Type": "application/x-amz-json-1.0"}
QUEUE_URL_PREFIX = "https://sqs.memory.invalid/123456789012/"
WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})


ROUND_TRIP_VARIABLE = "BENCH_AWS_ROUND_TRIP_MS"


class Unsupported(NotImplementedError):
    """A request the stub cannot answer as DynamoDB would: it fails loudly rather than lie."""


def _scalar(value: dict[str, Any]) -> Any:
    """A key attribute's value as it sorts in DynamoDB (strings by code point, numbers by value)."""
    kind, raw = next(iter(value.items()))
    return Decimal(raw) if kind == "N" else raw


@dataclass
class Table:
    name: str
    hash_key: str
    range_key: str | None
    indexes: dict[str, tuple[str, str | None]]
    items: dict[Key, Item] = field(default_factory=dict)
    partitions: dict[Any, dict[Key, Item]] = field(default_factory=dict)
    # index name → hash value → primary key → item
    indexed: dict[str, dict[Any, dict[Key, Item]]] = field(default_factory=dict)

    def key_of(self, item: Item) -> Key:
        hash_value = _scalar(item[self.hash_key])
        return (hash_value, _scalar(item[self.range_key])) if self.range_key else (hash_value,)

    def key_attributes(self, item: Item) -> Item:
        names = [self.hash_key] + ([self.range_key] if self.range_key else [])
        return {name: item[name] for name in names}

    def get(self, key: Item) -> Item | None:
        return self.items.get(self.key_of(key))

    def put(self, item: Item) -> None:
        self.delete(item)
        key = self.key_of(item)
        self.items[key] = item
        self.partitions.setdefault(key[0], {})[key] = item
        for index, (hash_name, range_name) in self.indexes.items():
            if hash_name in item and (range_name is None or range_name in item):
                self.indexed.setdefault(index, {}).setdefault(_scalar(item[hash_name]), {})[key] = item

    def delete(self, key_item: Item) -> None:
        key = self.key_of(key_item)
        old = self.items.pop(key, None)
        if old is None:
            return
        self.partitions[key[0]].pop(key, None)
        for index, (hash_name, _) in self.indexes.items():
            if hash_name in old:
                self.indexed.get(index, {}).get(_scalar(old[hash_name]), {}).pop(key, None)

    def candidates(self, index: str | None, hash_value: Any) -> tuple[dict[Key, Item], str | None]:
        if index is None:
            return self.partitions.get(hash_value, {}), self.range_key
        return self.indexed.get(index, {}).get(hash_value, {}), self.indexes[index][1]


_CONDITION = re.compile(
    r"begins_with\s*\(\s*(?P<bw_name>[#\w]+)\s*,\s*(?P<bw_value>:\w+)\s*\)"
    r"|(?P<bt_name>[#\w]+)\s+BETWEEN\s+(?P<low>:\w+)\s+AND\s+(?P<high>:\w+)"
    r"|(?P<name>[#\w]+)\s*(?P<op><=|>=|<|>|=)\s*(?P<value>:\w+)"
)
_CLAUSE = re.compile(r"\b(SET|REMOVE|ADD|DELETE)\b")


def partitions_written(operation: str, payload: dict[str, Any]) -> set[str]:
    """The partition keys (`pk`) a write request touches; "" for an item keyed otherwise."""
    if operation == "TransactWriteItems":
        bodies = [next(iter(entry.values())) for entry in payload["TransactItems"]]
    elif operation == "BatchWriteItem":
        bodies = [
            next(iter(request.values()))
            for requests in payload["RequestItems"].values()
            for request in requests
        ]
    else:
        bodies = [payload]
    keys = [body.get("Key") or body.get("Item") or {} for body in bodies]
    return {str(key.get("pk", {}).get("S", "")) for key in keys}


def _name(token: str, names: dict[str, str]) -> str:
    token = token.strip()
    if "." in token or "[" in token:
        raise Unsupported(f"nested attribute path {token!r}")
    return names.get(token, token)


def _top_level_split(text: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [part.strip() for part in parts if part.strip()]


def _number(value: Decimal) -> dict[str, str]:
    return {"N": format(value.normalize(), "f") if value == value.to_integral() else str(value)}


class MemoryAws:
    """The tables of `definitions` (as `devstack.tables.table_definitions` gives them) and SQS."""

    def __init__(self, definitions: list[dict[str, Any]]) -> None:
        self.tables: dict[str, Table] = {}
        for definition in definitions:
            keys = {entry["KeyType"]: entry["AttributeName"] for entry in definition["KeySchema"]}
            indexes = {}
            for index in definition.get("GlobalSecondaryIndexes", []):
                index_keys = {entry["KeyType"]: entry["AttributeName"] for entry in index["KeySchema"]}
                indexes[index["IndexName"]] = (index_keys["HASH"], index_keys.get("RANGE"))
            name = definition["TableName"]
            self.tables[name] = Table(name, keys["HASH"], keys.get("RANGE"), indexes)
        self.queues: dict[str, deque[dict[str, Any]]] = {}
        self.arrived = threading.Condition()
        self.requests: Counter[str] = Counter()
        self._lock = threading.Lock()
        # A request's time on the network, as AWS would add it (0: none, the CPU alone is measured);
        # from the environment, so that every process of a run has the same.
        self.round_trip_seconds = float(os.environ.get(ROUND_TRIP_VARIABLE, "0")) / 1000
        # Set to share this process's writes and messages with other processes (replicas), which
        # then see them as one DynamoDB and one SQS: each write request's own bytes (and what they
        # say, to pick which replicas need it), each message.
        self.on_write: Callable[[str, bytes, dict[str, Any]], None] | None = None
        self.on_message: Callable[[str, dict[str, Any]], None] | None = None

    def install(self) -> Any:
        """Every botocore client in this process talks to this; returns what was replaced."""
        original = botocore.endpoint.Endpoint._send
        memory = self

        def send(_endpoint: Any, request: AWSPreparedRequest) -> AWSResponse:
            return memory.answer(request)

        botocore.endpoint.Endpoint._send = send
        return original

    @staticmethod
    def uninstall(original: Any) -> None:
        botocore.endpoint.Endpoint._send = original

    def answer(self, request: AWSPreparedRequest) -> AWSResponse:
        target = request.headers.get("X-Amz-Target")
        text = target.decode() if isinstance(target, bytes) else str(target)
        service, _, operation = text.partition(".")
        body = request.body
        raw = body if isinstance(body, bytes) else (body.encode() if isinstance(body, str) else b"{}")
        payload = json.loads(raw or b"{}")
        with self._lock:
            self.requests[f"{service}.{operation}"] += 1
            if service.startswith("DynamoDB"):
                answer = self._dynamodb(operation)(payload)
                if operation in WRITES and self.on_write is not None:
                    self.on_write(operation, raw, payload)
            elif service == "AmazonSQS":
                answer = self._sqs(operation, payload)
            else:
                raise Unsupported(text)
        if self.round_trip_seconds:
            time.sleep(self.round_trip_seconds)
        return AWSResponse(request.url, 200, _JSON, InMemoryBody(json.dumps(answer).encode()))

    def apply(self, operation: str, raw: bytes) -> None:
        """A write another process made, made here too."""
        with self._lock:
            self._dynamodb(operation)(json.loads(raw))

    # --- SQS --------------------------------------------------------------------------------------

    def _sqs(self, operation: str, payload: dict[str, Any]) -> dict[str, Any]:
        if operation == "GetQueueUrl":
            return {"QueueUrl": QUEUE_URL_PREFIX + payload["QueueName"]}
        queue = payload["QueueUrl"].rpartition("/")[2]
        if operation == "SendMessage":
            entries = [{"Id": "0", "MessageBody": payload["MessageBody"]}]
        elif operation == "SendMessageBatch":
            entries = payload["Entries"]
        else:
            raise Unsupported(f"SQS {operation}")
        successful = []
        for entry in entries:
            message_id = str(uuid.uuid4())
            digest = hashlib.md5(entry["MessageBody"].encode()).hexdigest()  # noqa: S324 (SQS's own)
            message = {
                "MessageId": message_id,
                "ReceiptHandle": message_id,
                "Body": entry["MessageBody"],
                "MD5OfBody": digest,
                "Attributes": {"ApproximateReceiveCount": "1"},
            }
            if self.on_message is not None:
                self.on_message(queue, message)
            else:
                self.put_back(queue, [message])
            successful.append({"Id": entry["Id"], "MessageId": message_id, "MD5OfMessageBody": digest})
        if operation == "SendMessage":
            return {
                "MessageId": successful[0]["MessageId"],
                "MD5OfMessageBody": successful[0]["MD5OfMessageBody"],
            }
        return {"Successful": successful, "Failed": []}

    def take(self, queue: str, most: int) -> list[dict[str, Any]]:
        """Up to `most` messages waiting on `queue` now (none: an empty list, without waiting)."""
        with self.arrived:
            waiting = self.queues.get(queue)
            return [waiting.popleft() for _ in range(min(most, len(waiting)))] if waiting else []

    def put_back(self, queue: str, messages: list[dict[str, Any]]) -> None:
        with self.arrived:
            self.queues.setdefault(queue, deque()).extend(messages)
            self.arrived.notify_all()

    # --- DynamoDB ---------------------------------------------------------------------------------

    def _dynamodb(self, operation: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
        handler = getattr(self, "_" + re.sub(r"(?<!^)([A-Z])", r"_\1", operation).lower(), None)
        if handler is None:
            raise Unsupported(f"DynamoDB {operation}")
        return handler  # type: ignore[no-any-return]

    def _put_item(self, payload: dict[str, Any]) -> dict[str, Any]:
        self.tables[payload["TableName"]].put(payload["Item"])
        return {}

    def _get_item(self, payload: dict[str, Any]) -> dict[str, Any]:
        item = self.tables[payload["TableName"]].get(payload["Key"])
        return {"Item": item} if item is not None else {}

    def _delete_item(self, payload: dict[str, Any]) -> dict[str, Any]:
        self.tables[payload["TableName"]].delete(payload["Key"])
        return {}

    def _update_item(self, payload: dict[str, Any]) -> dict[str, Any]:
        self._update(payload)
        return {}

    def _batch_write_item(self, payload: dict[str, Any]) -> dict[str, Any]:
        for name, requests in payload["RequestItems"].items():
            for request in requests:
                if "PutRequest" in request:
                    self.tables[name].put(request["PutRequest"]["Item"])
                else:
                    self.tables[name].delete(request["DeleteRequest"]["Key"])
        return {"UnprocessedItems": {}}

    def _batch_get_item(self, payload: dict[str, Any]) -> dict[str, Any]:
        responses = {
            name: [item for key in request["Keys"] if (item := self.tables[name].get(key)) is not None]
            for name, request in payload["RequestItems"].items()
        }
        return {"Responses": responses, "UnprocessedKeys": {}}

    def _transact_get_items(self, payload: dict[str, Any]) -> dict[str, Any]:
        found = []
        for entry in payload["TransactItems"]:
            item = self.tables[entry["Get"]["TableName"]].get(entry["Get"]["Key"])
            found.append({"Item": item} if item is not None else {})
        return {"Responses": found}

    def _transact_write_items(self, payload: dict[str, Any]) -> dict[str, Any]:
        for entry in payload["TransactItems"]:
            kind, body = next(iter(entry.items()))
            if kind == "Put":
                self.tables[body["TableName"]].put(body["Item"])
            elif kind == "Update":
                self._update(body)
            elif kind == "Delete":
                self.tables[body["TableName"]].delete(body["Key"])
        return {}

    def _query(self, payload: dict[str, Any]) -> dict[str, Any]:
        table = self.tables[payload["TableName"]]
        index = payload.get("IndexName")
        names = payload.get("ExpressionAttributeNames", {})
        values = payload.get("ExpressionAttributeValues", {})
        hash_name = table.indexes[index][0] if index else table.hash_key
        hash_value, test = None, None
        for match in _CONDITION.finditer(payload["KeyConditionExpression"]):
            if match["bw_name"]:
                prefix = _scalar(values[match["bw_value"]])
                test = _starts(prefix)
            elif match["bt_name"]:
                test = _between(_scalar(values[match["low"]]), _scalar(values[match["high"]]))
            elif _name(match["name"], names) == hash_name and match["op"] == "=":
                hash_value = _scalar(values[match["value"]])
            else:
                test = _compare(match["op"], _scalar(values[match["value"]]))
        candidates, range_name = table.candidates(index, hash_value)
        ordered = sorted(
            (
                (_scalar(item[range_name]) if range_name else None, key, item)
                for key, item in candidates.items()
            ),
            key=lambda entry: (entry[0], entry[1]) if range_name else entry[1],
            reverse=not payload.get("ScanIndexForward", True),
        )
        selected = [(sort, key, item) for sort, key, item in ordered if test is None or test(sort)]
        start = payload.get("ExclusiveStartKey")
        if start:
            start_key = table.key_of(start)
            for position, (_, key, _) in enumerate(selected):
                if key == start_key:
                    selected = selected[position + 1 :]
                    break
        limit = payload.get("Limit")
        page = selected[:limit] if limit else selected
        kept = _filter(payload.get("FilterExpression"), names, values)
        items = [item for _, _, item in page if kept(item)]
        answer: dict[str, Any] = {"Items": items, "Count": len(items), "ScannedCount": len(page)}
        if limit and len(selected) > limit:
            last = page[-1][2]
            last_key = table.key_attributes(last)
            if index:
                last_key.update({name: last[name] for name in table.indexes[index] if name})
            answer["LastEvaluatedKey"] = last_key
        return answer

    def _update(self, body: dict[str, Any]) -> None:
        table = self.tables[body["TableName"]]
        item = dict(table.get(body["Key"]) or body["Key"])
        names = body.get("ExpressionAttributeNames", {})
        values = body.get("ExpressionAttributeValues", {})
        parts = _CLAUSE.split(body.get("UpdateExpression", ""))
        for clause, text in zip(parts[1::2], parts[2::2], strict=True):
            for action in _top_level_split(text):
                if clause == "SET":
                    target, _, expression = action.partition("=")
                    item[_name(target, names)] = _operand(expression.strip(), item, names, values)
                elif clause == "REMOVE":
                    item.pop(_name(action, names), None)
                else:
                    target, _, operand = action.strip().partition(" ")
                    attribute = _name(target, names)
                    _add_or_delete(clause, item, attribute, values[operand.strip()])
        table.put(item)


def _operand(expression: str, item: Item, names: dict[str, str], values: dict[str, Any]) -> Any:
    call = re.fullmatch(r"if_not_exists\s*\((.*)\)", expression)
    if call:
        path, fallback = _top_level_split(call[1])
        return item.get(_name(path, names)) or _operand(fallback, item, names, values)
    arithmetic = re.fullmatch(r"(.+?)\s*([+-])\s*(.+)", expression)
    if arithmetic and not expression.startswith("list_append"):
        left = Decimal(_operand(arithmetic[1], item, names, values)["N"])
        right = Decimal(_operand(arithmetic[3], item, names, values)["N"])
        return _number(left + right if arithmetic[2] == "+" else left - right)
    if expression.startswith(":"):
        return values[expression]
    if expression.startswith("list_append"):
        raise Unsupported(expression)
    return item[_name(expression, names)]


def _add_or_delete(clause: str, item: Item, attribute: str, value: dict[str, Any]) -> None:
    kind, raw = next(iter(value.items()))
    if kind == "N" and clause == "ADD":
        before = Decimal(item.get(attribute, {"N": "0"})["N"])
        item[attribute] = _number(before + Decimal(raw))
        return
    if kind not in ("SS", "NS", "BS"):
        raise Unsupported(f"{clause} of {kind}")
    members = set(item.get(attribute, {kind: []})[kind])
    members = members | set(raw) if clause == "ADD" else members - set(raw)
    if members:
        item[attribute] = {kind: sorted(members)}
    else:
        item.pop(attribute, None)


def _filter(expression: str | None, names: dict[str, str], values: dict[str, Any]) -> Any:
    """A filter of the one shape PynamoDB sends here (a model's discriminator: `#n IN (:a, …)`)."""
    if not expression:
        return lambda item: True
    found = re.fullmatch(r"\(?\s*([#\w]+)\s+IN\s+\(([^)]*)\)\s*\)?", expression.strip())
    if not found:
        raise Unsupported(f"filter {expression!r}")
    attribute = _name(found[1], names)
    wanted = [values[token.strip()] for token in found[2].split(",")]
    return lambda item: item.get(attribute) in wanted


def _starts(prefix: Any) -> Any:
    return lambda value: isinstance(value, str) and value.startswith(prefix)


def _between(low: Any, high: Any) -> Any:
    return lambda value: low <= value <= high


def _compare(operator: str, bound: Any) -> Any:
    return {
        "<": lambda value: value < bound,
        "<=": lambda value: value <= bound,
        ">": lambda value: value > bound,
        ">=": lambda value: value >= bound,
        "=": lambda value: value == bound,
    }[operator]
