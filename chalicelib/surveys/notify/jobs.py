"""The notifications job: an event in, today's reminders filed and the outbox sent, a summary out."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint, CloudWatchEvent, Rate

from chalicelib.core.jobs import time_keeper
from chalicelib.surveys.notify import reminders, sender

bp = Blueprint(__name__)


# Every minute: a selection result or a payment is told within minutes; a run that finds nothing
# reads one checkpoint and 16 empty index partitions.
@bp.schedule(Rate(1, unit=Rate.MINUTES), name="notifications")
def notifications(event: CloudWatchEvent) -> dict[str, Any]:
    has_time = time_keeper(event.context)
    filed = reminders.file_due(has_time)
    sent = sender.send_pending(has_time)
    return {**filed, **sent, "more": bool(filed.get("more") or sent.get("more"))}
