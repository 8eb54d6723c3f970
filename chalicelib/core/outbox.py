"""The outbox: what the programme must tell people, written in the transaction that decides it.

An earlier stage never calls a later one: selection, revocation or a first completion leave a
record here, in the same unit of work as the change itself, and the stage that tells people
(notifications) reads them later. One record per recipient and topic: writing it again is a no-op.
"""

from __future__ import annotations

from datetime import datetime

from pynamodb.attributes import JSONAttribute, UnicodeAttribute, UTCDateTimeAttribute

from chalicelib.core.storage import Gsi1, Keyed, UnitOfWork, table_meta

SHARDS = 16


class _OutboxRecord(Keyed):
    Meta = table_meta("outbox")
    gsi1 = Gsi1()
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    participant_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    details = JSONAttribute(default=dict)
    created_at = UTCDateTimeAttribute()


def add(
    unit: UnitOfWork, participant_id: str, kind: str, topic: str, details: dict[str, str], at: datetime
) -> None:
    """A record for the participant under `topic` (its key: the same topic is told once), pending
    in one of `SHARDS` index partitions so that no partition takes every record of a selection."""
    record = _OutboxRecord(
        f"NOTIFY#{participant_id}",
        topic,
        participant_id=participant_id,
        kind=kind,
        details=details,
        created_at=at,
    )
    record.gsi1pk = f"PENDING#{int(participant_id[:4], 16) % SHARDS:02d}"
    record.gsi1sk = f"{at.isoformat()}#{participant_id}"
    unit.put(record)
