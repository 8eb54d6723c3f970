"""The audit trail: every change of a participant's state, who made it, when and why, append-only.

Each event is written in the same unit of work as the change it records, whichever domain's use
case makes the change; registration alone knows how events are stored.
"""

from __future__ import annotations

import uuid

from pynamodb.attributes import JSONAttribute, UnicodeAttribute, UTCDateTimeAttribute

from chalicelib.core.storage import UnitOfWork
from chalicelib.registration.model import Event
from chalicelib.registration.stores.participants import participant_key
from chalicelib.registration.stores.tables import ParticipantItem

EVENT_PREFIX = "EVENT#"


class _EventRecord(ParticipantItem):
    at = UTCDateTimeAttribute()
    actor = UnicodeAttribute()
    action = UnicodeAttribute()
    status_from = UnicodeAttribute(null=True)
    status_to = UnicodeAttribute(null=True)
    reason = UnicodeAttribute(null=True)
    details = JSONAttribute(default=dict)


def record(unit: UnitOfWork, participant_id: str, event: Event) -> None:
    """Add the event to `unit`: it is written if and only if the change it records is."""
    unit.put(
        _EventRecord(
            participant_key(participant_id),
            f"{EVENT_PREFIX}{event.at.isoformat()}#{uuid.uuid4().hex[:8]}",
            at=event.at,
            actor=event.actor,
            action=event.action,
            status_from=event.status_from,
            status_to=event.status_to,
            reason=event.reason,
            details=event.details,
        )
    )


def events(participant_id: str) -> list[Event]:
    """The participant's audit trail, oldest first (registration itself is on the profile)."""
    return [
        Event(
            at=found.at,
            actor=found.actor,
            action=found.action,
            status_from=found.status_from,
            status_to=found.status_to,
            reason=found.reason,
            details=dict(found.details),
        )
        for found in _EventRecord.query(
            participant_key(participant_id), _EventRecord.sk.startswith(EVENT_PREFIX)
        )
    ]
