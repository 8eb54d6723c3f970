"""Incentives' scheduled jobs and queue consumers: an event in, a domain call, a summary out.

Each partner has a queue of its own and a consumer whose concurrency the template caps at what
that partner allows (`infra/resources.json`): the partners are reached side by side, and one that
is slow or down holds back only its own payments.
"""

from __future__ import annotations

import json
from typing import Any

from chalice.app import Blueprint, CloudWatchEvent, Cron, Rate, SQSEvent

from chalicelib.core.jobs import Message, each_message, time_keeper
from chalicelib.core.settings import settings
from chalicelib.incentives import batches, schedules
from chalicelib.incentives import disbursement as payouts
from chalicelib.incentives import reconciliation as settlement

bp = Blueprint(__name__)
BATCH = 10


# Every minute: a rated first completion is owed its schedule within minutes (the promise),
# and a run that finds no event reads 16 empty index partitions.
@bp.schedule(Rate(1, unit=Rate.MINUTES), name="incentive_events")
def incentive_events(event: CloudWatchEvent) -> dict[str, Any]:
    return schedules.take_training_events(time_keeper(event.context))


# Due dates are days; every ten minutes lets a retry or a relinked account go out the same hour,
# and a run with nothing due costs 32 empty queries.
@bp.schedule(Rate(10, unit=Rate.MINUTES), name="disbursement")
def disbursement(event: CloudWatchEvent) -> dict[str, Any]:
    return payouts.dispatch(time_keeper(event.context))


# 02:00 WIB: the partners have written the files of the day before.
@bp.schedule(Cron(0, 19, "*", "*", "?", "*"), name="reconciliation")
def reconciliation(event: CloudWatchEvent) -> dict[str, Any]:
    return settlement.reconcile(time_keeper(event.context))


def _send_each(event: SQSEvent) -> dict[str, Any]:
    with batches.Batch([_payment_id(record) for record in event.to_dict()["Records"]]) as batch:

        def send(message: Message) -> None:
            batch.send(message.body["payment_id"])

        return each_message(event, send)


def _payment_id(record: dict[str, Any]) -> str | None:
    """The message's payment, for preparing it ahead; a message that has none fails on its turn."""
    try:
        payment_id = json.loads(record["body"])["payment_id"]
    except (KeyError, TypeError, ValueError):
        return None
    return payment_id if isinstance(payment_id, str) else None


def _queue(partner_id: str) -> str:
    return settings().queue_name(payouts.partner_queue(partner_id))


# One consumer per partner, each a Lambda of its own (Lambda imports each by its name here).
@bp.on_sqs_message(queue=_queue("BNI"), batch_size=BATCH, name="pay_bni")
def pay_bni(event: SQSEvent) -> dict[str, Any]:
    return _send_each(event)


@bp.on_sqs_message(queue=_queue("OVO"), batch_size=BATCH, name="pay_ovo")
def pay_ovo(event: SQSEvent) -> dict[str, Any]:
    return _send_each(event)


@bp.on_sqs_message(queue=_queue("GOPAY"), batch_size=BATCH, name="pay_gopay")
def pay_gopay(event: SQSEvent) -> dict[str, Any]:
    return _send_each(event)


@bp.on_sqs_message(queue=_queue("LINKAJA"), batch_size=BATCH, name="pay_linkaja")
def pay_linkaja(event: SQSEvent) -> dict[str, Any]:
    return _send_each(event)
