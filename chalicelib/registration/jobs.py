"""Registration's scheduled jobs and queue consumers: an event in, a domain call, a summary out."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.metrics import MetricUnit
from chalice.app import Blueprint, CloudWatchEvent, Rate, SQSEvent

from chalicelib.core import queues
from chalicelib.core.observability import metrics
from chalicelib.core.settings import settings
from chalicelib.registration import imports, registry, service, verification

bp = Blueprint(__name__)

# Stop taking new pages with this much of the Lambda's time left (at most a quarter of what it
# started with), and hand the rest on to the next invocation.
TIME_MARGIN_MS = 15_000


def time_keeper(context: Any) -> Callable[[], bool]:
    if context is None:
        return lambda: True
    margin = min(TIME_MARGIN_MS, context.get_remaining_time_in_millis() / 4)
    return lambda: bool(context.get_remaining_time_in_millis() > margin)


@bp.schedule(Rate(5, unit=Rate.MINUTES), name="selection")
def selection(event: CloudWatchEvent) -> dict[str, Any]:
    return service.start_requested_selections()


@bp.on_sqs_message(queue=settings().queue_name("selection"), batch_size=1, name="select_pool")
def select_pool(event: SQSEvent) -> list[dict[str, Any]]:
    has_time = time_keeper(event.context)
    summaries = []
    for record in event:
        message = json.loads(record.body)
        summaries.append(service.continue_selection(message["wave_id"], message["pool"], has_time))
    return summaries


@bp.schedule(Rate(1, unit=Rate.MINUTES), name="verification")
def dispatch_verifications(event: CloudWatchEvent) -> dict[str, Any]:
    return verification.dispatch()


# One lookup per invocation: a failing lookup is retried alone, after a delay that doubles.
@bp.on_sqs_message(queue=settings().queue_name("verification"), batch_size=1, name="verify_identity")
def verify_identity(event: SQSEvent) -> list[str]:
    outcomes = []
    for record in event:
        try:
            outcomes.append(verification.verify(json.loads(record.body)["participant_id"]))
        except registry.RegistryUnavailable:
            attempts = int(record.to_dict().get("attributes", {}).get("ApproximateReceiveCount", "1"))
            queues.change_visibility("verification", record.receipt_handle, min(30 * 2**attempts, 900))
            raise
    return outcomes


@bp.schedule(Rate(15, unit=Rate.MINUTES), name="import_watchdog")
def import_watchdog(event: CloudWatchEvent) -> dict[str, Any]:
    summary = imports.watch()
    if summary["stalled"]:
        metrics.add_metric(name="ImportsStalled", unit=MetricUnit.Count, value=len(summary["stalled"]))
        metrics.flush_metrics()
    return summary


# S3 notifications of uploads under imports/ (at least once: a multipart upload gives two, and a
# test event arrives when the notification is set up), and this consumer's own continuations.
@bp.on_sqs_message(queue=settings().queue_name("imports"), batch_size=1, name="import_batches")
def import_batches(event: SQSEvent) -> list[dict[str, Any]]:
    has_time = time_keeper(event.context)
    summaries = []
    for record in event:
        message = json.loads(record.body)
        if "import_id" in message:
            summaries.append(imports.continue_import(message["import_id"], has_time))
        for upload in message.get("Records", []):
            if upload.get("eventName", "").startswith("ObjectCreated"):
                key = unquote_plus(upload["s3"]["object"]["key"])
                summaries.append(imports.process_upload(key, has_time))
    for summary in summaries:
        if summary.get("more"):
            queues.send("imports", {"import_id": summary["import_id"]})
    return summaries
