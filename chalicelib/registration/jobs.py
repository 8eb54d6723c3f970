"""Registration's scheduled jobs and queue consumers: an event in, a domain call, a summary out.

Queue consumers take batches through `core.jobs.each_message`: a message that fails is handed
back alone (a partial batch response), the others are done.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_plus

from chalice.app import Blueprint, CloudWatchEvent, Rate, SQSEvent

from chalicelib.core import queues
from chalicelib.core.jobs import Message, each_message, time_keeper
from chalicelib.core.settings import settings
from chalicelib.registration import registry, verification, waves
from chalicelib.registration.imports import processing

bp = Blueprint(__name__)
BATCH = 10


@bp.schedule(Rate(5, unit=Rate.MINUTES), name="selection")
def selection(event: CloudWatchEvent) -> dict[str, Any]:
    return waves.start_requested_selections()


@bp.on_sqs_message(queue=settings().queue_name("selection"), batch_size=BATCH, name="select_pool")
def select_pool(event: SQSEvent) -> dict[str, Any]:
    has_time = time_keeper(event.context)

    def select(message: Message) -> None:
        waves.continue_selection(message.body["wave_id"], message.body["pool"], has_time)

    return each_message(event, select)


@bp.schedule(Rate(1, unit=Rate.MINUTES), name="verification")
def dispatch_verifications(event: CloudWatchEvent) -> dict[str, Any]:
    return verification.dispatch()


@bp.on_sqs_message(queue=settings().queue_name("verification"), batch_size=BATCH, name="verify_identity")
def verify_identity(event: SQSEvent) -> dict[str, Any]:
    def verify(message: Message) -> None:
        try:
            verification.verify(message.body["participant_id"])
        except registry.RegistryUnavailable:
            # Retried alone, after a delay that doubles with each delivery.
            delay = min(30 * 2**message.receive_count, 900)
            queues.change_visibility("verification", message.receipt_handle, delay)
            raise

    return each_message(event, verify)


@bp.schedule(Rate(15, unit=Rate.MINUTES), name="import_watchdog")
def import_watchdog(event: CloudWatchEvent) -> dict[str, Any]:
    return processing.watch()


# S3 notifications of uploads under imports/ (at least once: a multipart upload gives two, and a
# test event arrives when the notification is set up), and this consumer's own continuations.
@bp.on_sqs_message(queue=settings().queue_name("imports"), batch_size=BATCH, name="import_batches")
def import_batches(event: SQSEvent) -> dict[str, Any]:
    has_time = time_keeper(event.context)

    def process(message: Message) -> None:
        summaries = []
        if "import_id" in message.body:
            summaries.append(processing.continue_import(message.body["import_id"], has_time))
        for upload in message.body.get("Records", []):
            if upload.get("eventName", "").startswith("ObjectCreated"):
                key = unquote_plus(upload["s3"]["object"]["key"])
                summaries.append(processing.process_upload(key, has_time))
        for summary in summaries:
            if summary.get("more"):
                queues.send("imports", {"import_id": summary["import_id"]})

    return each_message(event, process)
