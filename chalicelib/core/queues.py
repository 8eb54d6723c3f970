"""Sending work to the SQS queues declared in `infra/resources.json`.

The client is made once per container, on first use: most requests send nothing, and boto3's
client costs ~100 ms of a cold start. Queue URLs come from the environment (`<NAME>_QUEUE_URL`,
set by the template), so sending is one round trip; without it, one lookup per container.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from functools import cache
from typing import Any

from chalicelib.core.settings import settings

SQS_BATCH = 10


@cache
def _client() -> Any:
    import boto3

    return boto3.client("sqs", region_name=settings().region)


@cache
def queue_url(name: str) -> str:
    configured = os.environ.get(f"{name.upper().replace('-', '_')}_QUEUE_URL")
    if configured:
        return configured
    return str(_client().get_queue_url(QueueName=settings().queue_name(name))["QueueUrl"])


def send(queue: str, message: dict[str, Any], delay_seconds: int = 0) -> None:
    _client().send_message(
        QueueUrl=queue_url(queue), MessageBody=json.dumps(message), DelaySeconds=delay_seconds
    )


def send_all(
    queue: str, messages: Iterable[dict[str, Any]], delay: Callable[[int], int] = lambda index: 0
) -> int:
    """Send in batches of ten, the n-th message after `delay(n)` seconds; raises if SQS refuses any,
    so that the caller's retry sends them all again (consumers are idempotent)."""
    batch: list[tuple[dict[str, Any], int]] = []
    sent = 0
    for index, message in enumerate(messages):
        batch.append((message, delay(index)))
        if len(batch) == SQS_BATCH:
            sent += _send_batch(queue, batch)
            batch = []
    if batch:
        sent += _send_batch(queue, batch)
    return sent


def change_visibility(queue: str, receipt_handle: str, seconds: int) -> None:
    """Hold a message back for `seconds` before it is delivered again (a retry with backoff)."""
    _client().change_message_visibility(
        QueueUrl=queue_url(queue), ReceiptHandle=receipt_handle, VisibilityTimeout=seconds
    )


def _send_batch(queue: str, batch: list[tuple[dict[str, Any], int]]) -> int:
    entries = [
        {"Id": str(index), "MessageBody": json.dumps(body), "DelaySeconds": delay}
        for index, (body, delay) in enumerate(batch)
    ]
    answer = _client().send_message_batch(QueueUrl=queue_url(queue), Entries=entries)
    if answer.get("Failed"):
        raise RuntimeError(f"SQS refused {len(answer['Failed'])} of {len(entries)} messages to {queue}")
    return len(entries)
