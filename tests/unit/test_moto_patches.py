"""The local stack's moto patch keeps moto's transaction semantics and drops its whole-table copies.

Scenarios run twice, against moto as shipped and against the patch, so a difference between
the two shows up as a failing test, not as a local stack that disagrees with moto's tests.
"""

from __future__ import annotations

import statistics
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import moto
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.dynamodb.models import DynamoDBBackend, dynamodb_backends
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler
from moto.server import ThreadedMotoServer

from devstack import moto_patches

REGION = "ap-southeast-3"
DEFAULT_ACCOUNT_ID = "123456789012"
TABLE = "items"
GUARDS = "guards"

Client = Any


@pytest.fixture(autouse=True)
def _fake_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def _moto_as_shipped() -> Iterator[None]:
    """Every test starts from moto as shipped and leaves the process as it found it."""
    before = (
        DynamoDBBackend.__dict__["transact_write_items"],
        DynamoHandler.__dict__["call_action"],
        Table.__dict__["query"],
    )
    moto_patches.remove()
    yield
    DynamoDBBackend.transact_write_items, DynamoHandler.call_action, Table.query = before  # type: ignore[method-assign]


@pytest.fixture(params=["moto", "patched"])
def mode(request: pytest.FixtureRequest) -> Iterator[str]:
    if request.param == "patched":
        undo = moto_patches.apply()
        yield request.param
        undo()
    else:
        yield request.param


def _create_tables(client: Client, stream: bool = False) -> None:
    extra: dict[str, Any] = (
        {"StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}}
        if stream
        else {}
    )
    client.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
        **extra,
    )
    client.create_table(
        TableName=GUARDS,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


@pytest.fixture
def client(mode: str) -> Iterator[Client]:
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        _create_tables(dynamodb)
        dynamodb.put_item(
            TableName=TABLE, Item={"pk": {"S": "P#1"}, "sk": {"S": "PROFILE"}, "v": {"S": "old"}}
        )
        dynamodb.put_item(
            TableName=TABLE, Item={"pk": {"S": "P#2"}, "sk": {"S": "PROFILE"}, "v": {"S": "gone"}}
        )
        dynamodb.put_item(TableName=GUARDS, Item={"pk": {"S": "NIK#taken"}, "participant_id": {"S": "1"}})
        yield dynamodb


def _everything(client: Client) -> dict[str, list[dict[str, Any]]]:
    return {name: sorted(client.scan(TableName=name)["Items"], key=repr) for name in (TABLE, GUARDS)}


def _new_profile(pk: str) -> dict[str, Any]:
    return {
        "Put": {
            "TableName": TABLE,
            "Item": {"pk": {"S": pk}, "sk": {"S": "PROFILE"}, "v": {"S": "new"}},
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }


def _new_guard(pk: str) -> dict[str, Any]:
    return {
        "Put": {
            "TableName": GUARDS,
            "Item": {"pk": {"S": pk}, "participant_id": {"S": "3"}},
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }


UPDATE_P1 = {
    "Update": {
        "TableName": TABLE,
        "Key": {"pk": {"S": "P#1"}, "sk": {"S": "PROFILE"}},
        "UpdateExpression": "SET v = :v",
        "ConditionExpression": "v = :old",
        "ExpressionAttributeValues": {":v": {"S": "updated"}, ":old": {"S": "old"}},
    }
}
DELETE_P2 = {"Delete": {"TableName": TABLE, "Key": {"pk": {"S": "P#2"}, "sk": {"S": "PROFILE"}}}}


def test_a_transaction_that_succeeds_writes_every_item(client: Client) -> None:
    client.transact_write_items(
        TransactItems=[_new_profile("P#3"), _new_guard("NIK#new"), UPDATE_P1, DELETE_P2]
    )

    assert _everything(client) == {
        TABLE: sorted(
            [
                {"pk": {"S": "P#1"}, "sk": {"S": "PROFILE"}, "v": {"S": "updated"}},
                {"pk": {"S": "P#3"}, "sk": {"S": "PROFILE"}, "v": {"S": "new"}},
            ],
            key=repr,
        ),
        GUARDS: sorted(
            [
                {"pk": {"S": "NIK#taken"}, "participant_id": {"S": "1"}},
                {"pk": {"S": "NIK#new"}, "participant_id": {"S": "3"}},
            ],
            key=repr,
        ),
    }


def test_a_failed_condition_on_the_third_item_changes_nothing(client: Client) -> None:
    before = _everything(client)
    taken = _new_guard("NIK#taken")
    taken["Put"]["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"

    with pytest.raises(ClientError) as raised:
        client.transact_write_items(TransactItems=[_new_profile("P#3"), UPDATE_P1, taken, DELETE_P2])

    error = raised.value.response
    assert error["Error"]["Code"] == "TransactionCanceledException"
    assert [reason["Code"] for reason in error["CancellationReasons"]] == [
        "None",
        "None",
        "ConditionalCheckFailed",
        "None",
    ]
    assert error["CancellationReasons"][2]["Item"] == {"pk": {"S": "NIK#taken"}, "participant_id": {"S": "1"}}
    assert _everything(client) == before
    assert "Item" not in client.get_item(TableName=TABLE, Key={"pk": {"S": "P#3"}, "sk": {"S": "PROFILE"}})


def test_two_operations_on_one_item_are_rejected_and_roll_back(client: Client) -> None:
    before = _everything(client)

    with pytest.raises(ClientError) as raised:
        client.transact_write_items(
            TransactItems=[_new_guard("NIK#new"), _new_profile("P#3"), _new_profile("P#3")]
        )

    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert _everything(client) == before


def test_a_missing_table_cancels_with_its_reason(client: Client) -> None:
    before = _everything(client)
    missing = {"Delete": {"TableName": "no-such-table", "Key": {"pk": {"S": "x"}}}}

    with pytest.raises(ClientError) as raised:
        client.transact_write_items(TransactItems=[_new_guard("NIK#new"), _new_profile("P#3"), missing])

    error = raised.value.response
    assert error["Error"]["Code"] == "TransactionCanceledException"
    assert [reason["Code"] for reason in error["CancellationReasons"]] == [
        "None",
        "None",
        "ResourceNotFoundException",
    ]
    assert _everything(client) == before


def test_a_cancelled_transaction_leaves_no_trace_in_the_item_store(client: Client) -> None:
    """Reads on a sort-key table leave empty partitions behind; moto's copy never showed them."""
    table = dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION].get_table(TABLE)
    partitions = set(table.items)

    with pytest.raises(ClientError):
        client.transact_write_items(TransactItems=[_new_profile("P#3"), _new_guard("NIK#taken")])

    table = dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION].get_table(TABLE)
    assert set(table.items) == partitions


def test_a_cancelled_transaction_leaves_no_stream_records(mode: str) -> None:
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        _create_tables(client, stream=True)
        client.put_item(TableName=TABLE, Item={"pk": {"S": "P#1"}, "sk": {"S": "PROFILE"}, "v": {"S": "old"}})
        client.put_item(TableName=GUARDS, Item={"pk": {"S": "NIK#taken"}})
        shard = dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION].get_table(TABLE).stream_shard
        assert shard is not None
        records = [record.to_json() for record in shard.items]

        with pytest.raises(ClientError):
            client.transact_write_items(
                TransactItems=[_new_profile("P#3"), UPDATE_P1, _new_guard("NIK#taken")]
            )

        shard = dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION].get_table(TABLE).stream_shard
        assert shard is not None
        assert [record.to_json() for record in shard.items] == records


def test_the_installed_moto_is_the_one_the_patch_was_reviewed_against() -> None:
    """Fails on a moto upgrade: review devstack/moto_patches.py, then move the pins."""
    assert moto.__version__ == moto_patches.PINNED_VERSION == "5.2.5"
    moto_patches.check_pin()


def test_apply_refuses_another_moto_version(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(moto, "__version__", "5.2.6")

    with pytest.raises(RuntimeError, match=r"devstack/moto_patches\.py"):
        moto_patches.apply()
    assert not moto_patches.is_applied()


def test_apply_refuses_changed_moto_source(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(moto_patches.PINNED_SOURCES, "Table.put_item", "0" * 64)

    with pytest.raises(RuntimeError, match=r"Table\.put_item.*devstack/moto_patches\.py"):
        moto_patches.apply()
    assert not moto_patches.is_applied()


def test_apply_is_idempotent_and_undoable() -> None:
    original = DynamoDBBackend.transact_write_items
    undo = moto_patches.apply()
    try:
        assert moto_patches.apply() is undo
        assert moto_patches.is_applied()
    finally:
        undo()
    assert DynamoDBBackend.transact_write_items is original


# --- queries on the table's own key ---------------------------------------------------------------

QUERIES: list[dict[str, Any]] = [
    {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "P#3"}}},
    {
        "KeyConditionExpression": "pk = :p AND begins_with(sk, :s)",
        "ExpressionAttributeValues": {":p": {"S": "P#3"}, ":s": {"S": "PAYMENT#"}},
    },
    {
        "KeyConditionExpression": "pk = :p AND sk < :s",
        "ExpressionAttributeValues": {":p": {"S": "P#3"}, ":s": {"S": "PAYMENT#02"}},
        "ScanIndexForward": False,
    },
    {
        "KeyConditionExpression": "pk = :p AND sk BETWEEN :a AND :b",
        "ExpressionAttributeValues": {
            ":p": {"S": "P#3"},
            ":a": {"S": "PAYMENT#01"},
            ":b": {"S": "PAYMENT#03"},
            ":v": {"S": "1"},
        },
        "FilterExpression": "v <> :v",
        "ProjectionExpression": "pk, sk",
    },
    {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "P#nobody"}}},
    {
        "KeyConditionExpression": "g = :g AND sk > :s",
        "ExpressionAttributeValues": {":g": {"S": "G#1"}, ":s": {"S": "PAYMENT#01"}},
        "IndexName": "by_g",
    },
]


def _payments_table(client: Client, payees: int) -> None:
    client.create_table(
        TableName="payments",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": name, "AttributeType": "S"} for name in ("pk", "sk", "g")],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by_g",
                "KeySchema": [
                    {"AttributeName": "g", "KeyType": "HASH"},
                    {"AttributeName": "sk", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    for start in range(0, payees, 5):
        client.batch_write_item(
            RequestItems={
                "payments": [
                    {
                        "PutRequest": {
                            "Item": {
                                "pk": {"S": f"P#{payee}"},
                                "sk": {"S": f"PAYMENT#{number:02d}"},
                                "g": {"S": f"G#{payee % 3}"},
                                "v": {"S": str(number % 2)},
                            }
                        }
                    }
                    for payee in range(start, min(start + 5, payees))
                    for number in range(1, 5)
                ]
            }
        )


def _every_page(client: Client, query: dict[str, Any], limit: int | None) -> list[dict[str, Any]]:
    pages, start = [], None
    while True:
        page = client.query(
            TableName="payments",
            **query,
            **({"Limit": limit} if limit else {}),
            **({"ExclusiveStartKey": start} if start else {}),
        )
        pages.append(
            {name: page.get(name) for name in ("Items", "Count", "ScannedCount", "LastEvaluatedKey")}
        )
        start = page.get("LastEvaluatedKey")
        if not start:
            return pages


def test_a_query_on_the_table_key_answers_as_moto_does() -> None:
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        _payments_table(client, 20)
        cases = [(query, limit) for query in QUERIES for limit in (None, 1, 3)]
        shipped = [_every_page(client, query, limit) for query, limit in cases]
        undo = moto_patches.apply()
        try:
            patched = [_every_page(client, query, limit) for query, limit in cases]
        finally:
            undo()
        table = dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION].get_table("payments")
        assert all(isinstance(key.value, str) and key.value != "P#nobody" for key in table.items)

    assert patched == shipped


def _median_query_seconds(client: Client, samples: int) -> float:
    timings = []
    for sample in range(samples):
        started = time.perf_counter()
        client.query(
            TableName="payments",
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": f"P#{sample}"}},
        )
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def test_a_query_on_the_table_key_of_a_large_table_is_ten_times_cheaper_patched() -> None:
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        _payments_table(client, 2_500)
        unpatched = _median_query_seconds(client, 3)
        undo = moto_patches.apply()
        try:
            patched = _median_query_seconds(client, 7)
        finally:
            undo()

    assert unpatched >= 10 * patched, f"moto {unpatched * 1000:.1f} ms, patched {patched * 1000:.1f} ms"


def _seed(client: Client, count: int) -> None:
    for start in range(0, count, 25):
        client.batch_write_item(
            RequestItems={
                TABLE: [
                    {
                        "PutRequest": {
                            "Item": {"pk": {"S": f"P#{i}"}, "sk": {"S": "PROFILE"}, "v": {"S": "x" * 100}}
                        }
                    }
                    for i in range(start, min(start + 25, count))
                ]
            }
        )


def _median_seconds(client: Client, samples: int) -> float:
    timings = []
    for _ in range(samples):
        items = [_new_profile(f"P#{uuid.uuid4().hex}") for _ in range(4)]
        started = time.perf_counter()
        client.transact_write_items(TransactItems=items)
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def test_a_transaction_on_a_large_table_is_ten_times_cheaper_patched() -> None:
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        _create_tables(client)
        _seed(client, 5_000)
        _median_seconds(client, 1)

        unpatched = _median_seconds(client, 3)
        undo = moto_patches.apply()
        try:
            patched = _median_seconds(client, 7)
        finally:
            undo()

    assert unpatched >= 10 * patched, f"moto {unpatched * 1000:.1f} ms, patched {patched * 1000:.1f} ms"


def test_racing_debits_through_the_server_never_overdraw() -> None:
    """The local stack's moto answers each request in a thread of its own; DynamoDB applies each
    request as one step, so transactions racing to debit one balance never both pass its
    condition (contract checks on the local stack race purchases exactly so). Python switches
    threads every microsecond here, to make a race that would happen seldom happen at once."""
    undo = moto_patches.apply()
    switch = sys.getswitchinterval()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    sys.setswitchinterval(1e-6)
    try:
        host, port = server.get_host_and_port()
        dynamodb = boto3.client("dynamodb", region_name=REGION, endpoint_url=f"http://{host}:{port}")
        _create_tables(dynamodb)
        outcomes = []
        for trial in range(10):
            key = {"pk": {"S": f"P#{trial}"}, "sk": {"S": "PROFILE"}}
            dynamodb.put_item(TableName=TABLE, Item={**key, "balance": {"N": "1000000"}})
            debit = {
                "TableName": TABLE,
                "Key": key,
                "UpdateExpression": "SET balance = balance - :price",
                "ConditionExpression": "balance >= :price",
                "ExpressionAttributeValues": {":price": {"N": "300000"}},
            }

            def buy(_: int, debit: dict[str, Any] = debit) -> bool:
                try:
                    dynamodb.transact_write_items(
                        TransactItems=[{"Update": debit}, _new_guard(f"BUY#{uuid.uuid4().hex}")]
                    )
                except ClientError:
                    return False
                return True

            with ThreadPoolExecutor(max_workers=20) as pool:
                paid = sum(pool.map(buy, range(20)))
            balance = dynamodb.get_item(TableName=TABLE, Key=key)["Item"]["balance"]["N"]
            outcomes.append((paid, balance))
    finally:
        sys.setswitchinterval(switch)
        server.stop()
        undo()
    assert outcomes == [(3, "100000")] * 10
