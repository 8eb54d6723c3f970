"""Reminders to use the training balance: a selected participant who has bought nothing is told on
each configured day before the purchase deadline (programme.json `reminder_days`), never after a
purchase.

Who is due is read from registration's deadline index (`DEADLINE#<day>#<shard>`), which holds
exactly the selected people who have not bought yet, under their deadline's day, and loses each one
at their first purchase. Today's reminders are those whose deadline is `today + n` for each
configured `n`: those index partitions and nothing else, so a run reads the people due and no one
who is not. The day's work is checkpointed page by page; a reminder's outbox record is written
once per participant and deadline day and offset, so a page done again after a crash files
nothing twice, and the sender then reads it like any other notification.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from pynamodb.attributes import BooleanAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist

from chalicelib.core import clock, outbox
from chalicelib.core.observability import count
from chalicelib.core.settings import programme
from chalicelib.core.storage import Gsi1, Keyed, table_meta
from chalicelib.registration import service as registration
from chalicelib.registration.model import Status

PAGE = 100
KIND = "BALANCE_REMINDER"


class _Checkpoint(Keyed):
    """How far today's reminders have come: which configured offset, shard and page (outbox table,
    `pk=REMINDERS`, `sk=<programme date>`)."""

    Meta = table_meta("outbox")
    gsi1 = Gsi1()
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    position = UnicodeAttribute(default="{}")
    done = BooleanAttribute(default=False)


def _checkpoint(today: date) -> _Checkpoint:
    try:
        return _Checkpoint.get("REMINDERS", today.isoformat(), consistent_read=True)
    except DoesNotExist:
        return _Checkpoint("REMINDERS", today.isoformat())


def file_due(has_time: Callable[[], bool]) -> dict[str, Any]:
    """File today's reminders into the outbox, resuming where the last run stopped."""
    today = registration.programme_today()
    checkpoint = _checkpoint(today)
    if checkpoint.done:
        return {"reminders_filed": 0, "reminders_read": 0}
    position: dict[str, Any] = json.loads(checkpoint.position or "{}")
    offsets = sorted(set(programme().reminder_days), reverse=True)
    filed = read = 0
    now = clock.now()
    for index in range(int(position.get("offset", 0)), len(offsets)):
        days = offsets[index]
        deadline_day = today + timedelta(days=days)
        for shard in range(int(position.get("shard", 0)), registration.DEADLINE_SHARDS):
            start: str | None = position.get("start")
            while True:
                if not has_time():
                    checkpoint.position = json.dumps({"offset": index, "shard": shard, "start": start})
                    checkpoint.save()
                    count("RemindersRead", read)
                    return {"reminders_filed": filed, "reminders_read": read, "more": True}
                page, start = registration.due_participants("DEADLINE", deadline_day, shard, start, PAGE)
                read += len(page)
                for person in page:
                    if person.status is Status.SELECTED and _file(
                        person.participant_id, deadline_day, days, now
                    ):
                        filed += 1
                if start is None:
                    break
            position = {}
    checkpoint.position = "{}"
    checkpoint.done = True
    checkpoint.save()
    count("RemindersRead", read)
    count("RemindersFiled", filed)
    return {"reminders_filed": filed, "reminders_read": read}


def _file(participant_id: str, deadline_day: date, days: int, now: Any) -> bool:
    details = {"days_left": str(days), "deadline": deadline_day.isoformat()}
    return outbox.add_once(participant_id, KIND, f"REMINDER#{deadline_day.isoformat()}#{days}", details, now)
