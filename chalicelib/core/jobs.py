"""What every scheduled job and queue consumer shares: a Lambda's time budget, and SQS batches
taken record by record with Powertools' batch processor.

A consumer gets a batch of messages; one that fails must not fail the others. The batch processor
runs each record alone and answers with the ones that failed (`batchItemFailures`, switched on for
every event source mapping in `infra/resources.json`), so SQS redelivers just those; their
retries and dead-letter queue are SQS's. A batch whose every record failed raises the first
failure, as a batch of one always did: Lambda retries it whole, and the error is logged as itself.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# Stop taking new pages with this much of the Lambda's time left (at most a quarter of what it
# started with), and hand the rest on to the next invocation.
TIME_MARGIN_MS = 15_000


def time_keeper(context: Any) -> Callable[[], bool]:
    """Whether there is still time for another page of work in this invocation."""
    if context is None:
        return lambda: True
    margin = min(TIME_MARGIN_MS, context.get_remaining_time_in_millis() / 4)
    return lambda: bool(context.get_remaining_time_in_millis() > margin)


@dataclass(frozen=True)
class Message:
    """One SQS message of a batch, as a consumer needs it."""

    body: dict[str, Any]
    receipt_handle: str
    receive_count: int


def each_message(event: Any, handle: Callable[[Message], None]) -> dict[str, Any]:
    """Run `handle` on every message of the SQS `event` (Chalice's `SQSEvent`); the partial batch
    response for Lambda."""
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

    def record_handler(record: SQSRecord) -> None:
        count = int(record.raw_event.get("attributes", {}).get("ApproximateReceiveCount", 1))
        handle(Message(json.loads(record.body), record.receipt_handle, count))

    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    response = dict(
        process_partial_response(
            event=event.to_dict(), record_handler=record_handler, processor=processor, context=event.context
        )
    )
    if processor.exceptions and len(processor.exceptions) == len(event.to_dict()["Records"]):
        failure = processor.exceptions[0][1]
        assert failure is not None
        raise failure
    return response
