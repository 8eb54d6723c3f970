"""Lambda events and contexts shaped exactly as AWS delivers them.

The app's handlers cannot tell the local stack from Lambda: the same record fields (Powertools'
batch processor and Chalice's event classes read them), the same context attributes.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from chalice.config import Config
from chalice.local import LambdaContext

ACCOUNT_ID = "123456789012"
DEFAULT_MEMORY_MB = 128
DEFAULT_TIMEOUT_SECONDS = 60

Event = dict[str, Any]
Handler = Callable[[Event, Any], Any]
ContextFactory = Callable[[str], LambdaContext]


def context_factory(config: Config) -> ContextFactory:
    """Per-function memory and timeout from `.chalice/config.json`, as the deployed function gets them."""

    def create(function_name: str) -> LambdaContext:
        scoped = config.scope(config.chalice_stage, function_name)
        return LambdaContext(
            function_name=function_name,
            memory_size=scoped.lambda_memory_size or DEFAULT_MEMORY_MB,
            max_runtime_ms=(scoped.lambda_timeout or DEFAULT_TIMEOUT_SECONDS) * 1000,
        )

    return create


def scheduled_event(rule_name: str, region: str, moment: datetime) -> Event:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:events:{region}:{ACCOUNT_ID}:rule/{rule_name}"],
        "detail": {},
    }


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> Event:
    """`messages` as boto3's ReceiveMessage returns them (AttributeNames and MessageAttributeNames All)."""
    return {"Records": [_sqs_record(message, queue_arn, region) for message in messages]}


def _sqs_record(message: dict[str, Any], queue_arn: str, region: str) -> Event:
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": {
            name: _message_attribute(value) for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def _message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    """Lambda spells these in camelCase and carries binary values base64-encoded."""
    attribute: dict[str, Any] = {
        "stringListValues": value.get("StringListValues", []),
        "binaryListValues": [_b64(item) for item in value.get("BinaryListValues", [])],
        "dataType": value["DataType"],
    }
    if "StringValue" in value:
        attribute["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        attribute["binaryValue"] = _b64(value["BinaryValue"])
    return attribute


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
