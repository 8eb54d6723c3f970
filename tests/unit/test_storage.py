"""The PynamoDB models and `infra/resources.json` describe the same tables."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.settings import settings
from chalicelib.storage import MODELS, pii_key
from tests.infra import table_definitions

DEFINITIONS = {definition["TableName"]: definition for definition in table_definitions("local")}


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
