"""The outbox: what the programme must tell people, and what an earlier stage tells a later one,
written in the transaction that decides it.

An earlier stage never calls a later one: selection, revocation or a first completion leave a
record here, in the same unit of work as the change itself. Notifications (`add`) are read by the
stage that tells people; domain events (`publish`) by the stage that acts on them, from their
stream's own index partitions, which hold only what is not yet consumed. One record per recipient
and topic, or per key and kind: writing it again is a no-op.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

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


# --- domain events: what an earlier stage tells a later one ---------------------------------------


class _EventRecord(Keyed):
    Meta = table_meta("outbox")
    gsi1 = Gsi1()
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    key = UnicodeAttribute()
    kind = UnicodeAttribute()
    details = JSONAttribute(default=dict)
    created_at = UTCDateTimeAttribute()


@dataclass(frozen=True)
class DomainEvent:
    stream: str
    key: str
    kind: str
    details: dict[str, str]
    created_at: datetime


def publish(
    unit: UnitOfWork, stream: str, key: str, kind: str, details: dict[str, str], at: datetime
) -> None:
    """An event on `stream` about `key` (a participant), once per key and kind, pending in one of
    `SHARDS` index partitions of the stream until its consumer takes it (`pending`, `consumed`)."""
    record = _EventRecord(f"EVENT#{stream}#{key}", kind, key=key, kind=kind, details=details, created_at=at)
    record.gsi1pk = (
        f"STREAM#{stream}#{int(hashlib.blake2b(key.encode(), digest_size=2).hexdigest(), 16) % SHARDS:02d}"
    )
    record.gsi1sk = f"{at.astimezone(UTC).isoformat()}#{key}#{kind}"
    unit.put(record, condition=_EventRecord.pk.does_not_exist())


def pending(stream: str, shard: int, limit: int) -> list[DomainEvent]:
    """The oldest events of one shard of `stream` not yet consumed: nothing else is read."""
    return [
        DomainEvent(stream, record.key, record.kind, dict(record.details), record.created_at)
        for record in _EventRecord.gsi1.query(f"STREAM#{stream}#{shard:02d}", limit=limit)
    ]


def each_pending(stream: str, has_time: Callable[[], bool], page: int = 100) -> Iterator[DomainEvent]:
    """The pending events of `stream`, shard by shard, while `has_time()`. Its reader takes each
    out as it acts on it (`consumed`), so each page read is of events not yet acted on."""
    for shard in range(SHARDS):
        while True:
            events = pending(stream, shard, page)
            for event in events:
                if not has_time():
                    return
                yield event
            if len(events) < page:
                break


def consumed(unit: UnitOfWork, event: DomainEvent) -> None:
    """Take the event out of its stream, in the unit of work that acted on it."""
    unit.update(
        _EventRecord(f"EVENT#{event.stream}#{event.key}", event.kind),
        actions=[_EventRecord.gsi1pk.remove(), _EventRecord.gsi1sk.remove()],
    )
