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

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist, PutError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

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
    # Rounds of sending that left a channel to try again (the sender's retries).
    rounds = NumberAttribute(default=0)


def _pending_shard(participant_id: str) -> str:
    return f"PENDING#{int(participant_id[:4], 16) % SHARDS:02d}"


def add(
    unit: UnitOfWork, participant_id: str, kind: str, topic: str, details: dict[str, str], at: datetime
) -> None:
    """A record for the participant under `topic` (its key: the same topic is told once), pending
    in one of `SHARDS` index partitions so that no partition takes every record of a selection."""
    unit.put(_pending(participant_id, kind, topic, details, at))


def _pending(
    participant_id: str, kind: str, topic: str, details: dict[str, str], at: datetime
) -> _OutboxRecord:
    record = _OutboxRecord(
        f"NOTIFY#{participant_id}",
        topic,
        participant_id=participant_id,
        kind=kind,
        details=details,
        created_at=at,
    )
    record.gsi1pk = _pending_shard(participant_id)
    # In UTC, so that the index orders records by time whatever offset the writer's clock had and
    # the sender can read only what is due (`pending_notifications`).
    record.gsi1sk = f"{at.astimezone(UTC).isoformat()}#{participant_id}"
    return record


def add_once(participant_id: str, kind: str, topic: str, details: dict[str, str], at: datetime) -> bool:
    """`add` on its own, written only if the topic was never told to the participant: a job that
    files notifications again after a crash (the reminders) cannot make one pending again after it
    was sent. False if it was there already."""
    record = _pending(participant_id, kind, topic, details, at)
    try:
        record.save(condition=_OutboxRecord.pk.does_not_exist())
    except PutError as error:
        if not _condition_failed(error):
            raise
        return False
    return True


def _condition_failed(error: PutError | UpdateError) -> bool:
    return error.cause_response_code == "ConditionalCheckFailedException"


# --- notifications: what the sender reads and how it marks each channel's delivery ----------------


@dataclass(frozen=True)
class Notification:
    participant_id: str
    kind: str
    topic: str
    details: dict[str, str]
    created_at: datetime
    rounds: int
    due_key: str


def pending_notifications(shard: int, now: datetime, limit: int) -> list[Notification]:
    """The oldest notifications of one shard that are due by `now` (a retried one waits under the
    time of its next round): only what is pending is read, never what was sent."""
    upper = f"{now.astimezone(UTC).isoformat()}~"
    return [
        Notification(
            record.participant_id,
            record.kind,
            record.sk,
            dict(record.details),
            record.created_at,
            int(record.rounds or 0),
            record.gsi1sk or "",
        )
        for record in _OutboxRecord.gsi1.query(
            f"PENDING#{shard:02d}", _OutboxRecord.gsi1sk < upper, limit=limit
        )
    ]


def try_again_at(notification: Notification, at: datetime) -> None:
    """Another round for a notification a channel failed on, at `at`; a no-op if it moved meanwhile."""
    record = _OutboxRecord(f"NOTIFY#{notification.participant_id}", notification.topic)
    try:
        record.update(
            actions=[
                _OutboxRecord.rounds.set(notification.rounds + 1),
                _OutboxRecord.gsi1sk.set(f"{at.astimezone(UTC).isoformat()}#{notification.participant_id}"),
            ],
            condition=_OutboxRecord.gsi1sk == notification.due_key,
        )
    except UpdateError as error:
        if not _condition_failed(error):
            raise


def done(notification: Notification) -> None:
    """Out of the pending index: every channel has its final state. Idempotent."""
    record = _OutboxRecord(f"NOTIFY#{notification.participant_id}", notification.topic)
    try:
        record.update(
            actions=[_OutboxRecord.gsi1pk.remove(), _OutboxRecord.gsi1sk.remove()],
            condition=_OutboxRecord.pk.exists(),
        )
    except UpdateError as error:
        if not _condition_failed(error):
            raise


class DeliveryState:
    """A channel's delivery of one notification. SENDING is written before the provider is called
    (the claim); SENT after it answered; FAILED after a definite refusal, tried again in a later
    round; DEAD after the last round failed; UNCERTAIN when a claim was never confirmed (the sender
    died between claim and answer): it may have gone out, so it is never sent again; SKIPPED when
    it no longer applies (a reminder to someone who bought meanwhile)."""

    SENDING = "SENDING"
    SENT = "SENT"
    FAILED = "FAILED"
    DEAD = "DEAD"
    UNCERTAIN = "UNCERTAIN"
    SKIPPED = "SKIPPED"


FINAL_DELIVERIES = frozenset(
    {DeliveryState.SENT, DeliveryState.DEAD, DeliveryState.UNCERTAIN, DeliveryState.SKIPPED}
)


class _DeliveryRecord(Keyed):
    Meta = table_meta("outbox")
    gsi1 = Gsi1()
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    participant_id = UnicodeAttribute()
    topic = UnicodeAttribute()
    kind = UnicodeAttribute()
    channel = UnicodeAttribute()
    state = UnicodeAttribute()
    token = UnicodeAttribute()
    attempt = NumberAttribute()
    details = JSONAttribute(default=dict)
    claimed_at = UTCDateTimeAttribute()
    finished_at = UTCDateTimeAttribute(null=True)
    message_id = UnicodeAttribute(null=True)
    reason = UnicodeAttribute(null=True)


@dataclass(frozen=True)
class Delivery:
    participant_id: str
    topic: str
    kind: str
    channel: str
    state: str
    token: str
    attempt: int
    details: dict[str, str]
    claimed_at: datetime
    finished_at: datetime | None
    message_id: str | None
    reason: str | None


def _delivery_key(participant_id: str, channel: str, topic: str) -> tuple[str, str]:
    return f"NOTIFY#{participant_id}", f"DELIVERY#{channel}#{topic}"


def _delivery(record: _DeliveryRecord) -> Delivery:
    return Delivery(
        record.participant_id,
        record.topic,
        record.kind,
        record.channel,
        record.state,
        record.token,
        int(record.attempt),
        dict(record.details),
        record.claimed_at,
        record.finished_at,
        record.message_id,
        record.reason,
    )


def claim_delivery(notification: Notification, channel: str, attempt: int, token: str, at: datetime) -> bool:
    """Written before the provider is called: the channel's delivery is this sender's, under
    `token`, if no one ever claimed it, or if its last claim failed definitely in an earlier round.
    A claim that exists in any other state (sent, being sent, uncertain, dead) refuses: this is
    what makes a notification go out at most once per channel, whoever runs the sender again."""
    pk, sk = _delivery_key(notification.participant_id, channel, notification.topic)
    record = _DeliveryRecord(
        pk,
        sk,
        participant_id=notification.participant_id,
        topic=notification.topic,
        kind=notification.kind,
        channel=channel,
        state=DeliveryState.SENDING,
        token=token,
        attempt=attempt,
        details=notification.details,
        claimed_at=at,
    )
    condition: Condition = _DeliveryRecord.pk.does_not_exist() | (
        (_DeliveryRecord.state == DeliveryState.FAILED) & (_DeliveryRecord.attempt < attempt)
    )
    try:
        record.save(condition=condition)
    except PutError as error:
        if not _condition_failed(error):
            raise
        return False
    return True


def delivery(participant_id: str, channel: str, topic: str) -> Delivery | None:
    pk, sk = _delivery_key(participant_id, channel, topic)
    try:
        return _delivery(_DeliveryRecord.get(pk, sk, consistent_read=True))
    except DoesNotExist:
        return None


def finish_delivery(
    found: Delivery,
    state: str,
    at: datetime,
    *,
    message_id: str | None = None,
    reason: str | None = None,
    dead_letter: bool = False,
) -> bool:
    """Move a claimed delivery on, only while it is still the claim of `found.token` in the state
    read: a repeated or late finish changes nothing (False). A dead letter also waits in the
    `DEAD#<shard>` index partition for an operator to look at."""
    pk, sk = _delivery_key(found.participant_id, found.channel, found.topic)
    actions: list[Action] = [_DeliveryRecord.state.set(state), _DeliveryRecord.finished_at.set(at)]
    if message_id is not None:
        actions.append(_DeliveryRecord.message_id.set(message_id))
    if reason is not None:
        actions.append(_DeliveryRecord.reason.set(reason))
    if dead_letter:
        actions += [
            _DeliveryRecord.gsi1pk.set(f"DEAD#{int(found.participant_id[:4], 16) % SHARDS:02d}"),
            _DeliveryRecord.gsi1sk.set(
                f"{at.astimezone(UTC).isoformat()}#{found.participant_id}#{found.channel}"
            ),
        ]
    try:
        _DeliveryRecord(pk, sk).update(
            actions=actions,
            condition=(_DeliveryRecord.token == found.token) & (_DeliveryRecord.state == found.state),
        )
    except UpdateError as error:
        if not _condition_failed(error):
            raise
        return False
    return True


def deliveries(participant_id: str) -> list[Delivery]:
    """Every channel's delivery of every notification to the participant (one key's items)."""
    return [
        _delivery(record)
        for record in _DeliveryRecord.query(
            f"NOTIFY#{participant_id}", _DeliveryRecord.sk.startswith("DELIVERY#")
        )
    ]


def dead_letters(shard: int, limit: int) -> list[Delivery]:
    """Deliveries that will not be tried again (dead or uncertain), oldest first: an operator's list."""
    return [_delivery(record) for record in _DeliveryRecord.gsi1.query(f"DEAD#{shard:02d}", limit=limit)]


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
