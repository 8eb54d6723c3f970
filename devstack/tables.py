"""Tables and queues built from `infra/resources.json` in in-process moto (tests, benchmarks), so
they and the deployed schema cannot drift."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

TEMPLATE = Path(__file__).resolve().parent.parent / "infra" / "resources.json"


def template() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(TEMPLATE.read_text(encoding="utf-8"))
    return loaded


def resources(kind: str) -> dict[str, dict[str, Any]]:
    return {name: body for name, body in template()["Resources"].items() if body.get("Type") == kind}


def _name(value: Any, stage: str) -> str:
    if isinstance(value, dict) and "Fn::Sub" in value:
        return str(value["Fn::Sub"]).replace("${Stage}", stage)
    return str(value)


def table_definitions(stage: str) -> list[dict[str, Any]]:
    """`create_table` arguments for every table of the template."""
    definitions = []
    for body in resources("AWS::DynamoDB::Table").values():
        properties = body["Properties"]
        definition = {
            "TableName": _name(properties["TableName"], stage),
            "BillingMode": properties["BillingMode"],
            "AttributeDefinitions": properties["AttributeDefinitions"],
            "KeySchema": properties["KeySchema"],
        }
        if "GlobalSecondaryIndexes" in properties:
            definition["GlobalSecondaryIndexes"] = properties["GlobalSecondaryIndexes"]
        definitions.append(definition)
    return definitions


def create_tables(dynamodb: Any, stage: str = "local") -> None:
    for definition in table_definitions(stage):
        dynamodb.create_table(**definition)


def create_queues(sqs: Any, stage: str = "local") -> dict[str, str]:
    """Every queue of the template, without redrive (tests fail loudly instead); name → URL."""
    urls = {}
    for body in resources("AWS::SQS::Queue").values():
        name = _name(body["Properties"]["QueueName"], stage)
        urls[name] = sqs.create_queue(QueueName=name)["QueueUrl"]
    return urls
