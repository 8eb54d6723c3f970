"""The PynamoDB models and `infra/resources.json` describe the same tables."""

from __future__ import annotations

from typing import Any

import pytest
from pynamodb.exceptions import CancellationReason, TransactWriteError, VerboseClientError

import app  # noqa: F401  (every domain's models, declared as the app imports them)
from chalicelib.core.settings import settings
from chalicelib.core.storage import declared_models, pii_key
from devstack.tables import table_definitions

DEFINITIONS = {definition["TableName"]: definition for definition in table_definitions("local")}
MODELS = declared_models()


def _keys(schema: list[dict[str, Any]]) -> dict[str, str]:
    return {key["KeyType"]: key["AttributeName"] for key in schema}


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.__name__)
def test_each_model_matches_its_table_in_the_template(model: Any) -> None:
    definition = DEFINITIONS[model.Meta.table_name]
    assert _keys(definition["KeySchema"]) == {
        key: name for key, name in (("HASH", model._hash_keyname), ("RANGE", model._range_keyname)) if name
    }
    declared = {
        index["IndexName"]: _keys(index["KeySchema"])
        for index in definition.get("GlobalSecondaryIndexes", [])
    }
    modelled = {name: {"HASH": f"{name}pk", "RANGE": f"{name}sk"} for name in model._indexes}
    assert modelled == declared


def test_every_table_but_idempotency_has_a_model() -> None:
    modelled = {model.Meta.table_name for model in MODELS}
    assert set(DEFINITIONS) - modelled == {settings().table_name("idempotency")}


def test_personal_keys_are_keyed_hashes_that_reveal_nothing() -> None:
    key = pii_key("NIK", "3171234501900001")
    assert key.startswith("NIK#")
    assert "3171234501900001" not in key
    assert len(key) == len("NIK#") + 64
    assert key == pii_key("NIK", "3171234501900001")
    assert key != pii_key("KK", "3171234501900001")


def _cancelled(*codes: str) -> TransactWriteError:
    reasons = [CancellationReason(code=code) if code != "None" else None for code in codes]
    response = {"Error": {"Code": "TransactionCanceledException", "Message": "cancelled"}}
    cause = VerboseClientError(response, "TransactWriteItems", cancellation_reasons=reasons)
    return TransactWriteError("cancelled", cause=cause)


@pytest.mark.parametrize(
    ("answers", "calls", "outcome"),
    [
        ([("None", "TransactionConflict"), ("TransactionConflict",), {}], 3, "written"),
        ([("ConditionalCheckFailed", "TransactionConflict")], 1, "refused"),
        ([("TransactionConflict",)] * 5, 5, "refused"),
    ],
)
def test_a_transaction_that_met_another_is_sent_again_but_a_failed_condition_is_final(
    monkeypatch: pytest.MonkeyPatch, answers: list[Any], calls: int, outcome: str
) -> None:
    from pynamodb.connection import Connection

    from chalicelib.core import storage

    sent: list[int] = []

    def answer(self: Connection, **_: Any) -> dict[str, Any]:
        sent.append(1)
        reply = answers[len(sent) - 1]
        if isinstance(reply, tuple):
            raise _cancelled(*reply)
        return dict(reply)

    monkeypatch.setattr(Connection, "transact_write_items", answer)
    monkeypatch.setattr(storage, "CONFLICT_BACKOFF_SECONDS", 0)
    connection = storage._Connection(region="ap-southeast-3")
    if outcome == "written":
        assert connection.transact_write_items(put_items=[]) == {}
    else:
        with pytest.raises(TransactWriteError):
            connection.transact_write_items(put_items=[])
    assert len(sent) == calls
