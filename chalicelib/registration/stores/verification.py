"""Identity checks with the civil registry: the pending index they are dispatched from, the one
lookup each dispatch allows, and the day's budget of lookups."""

from __future__ import annotations

from datetime import UTC, date, datetime

from pynamodb.attributes import NumberAttribute
from pynamodb.exceptions import UpdateError

from chalicelib.core.storage import Refused, UnitOfWork
from chalicelib.registration import figures
from chalicelib.registration.model import Event, Participant, Verification
from chalicelib.registration.stores import ledger
from chalicelib.registration.stores.participants import (
    ProfileRecord,
    participant_of,
    profile,
    province_entry,
)
from chalicelib.registration.stores.tables import JobItem


def record_verification(
    participant: Participant, outcome: Verification, reason: str | None, event: Event
) -> bool:
    """Store the registry's answer once; False if the participant was already decided (or is gone).

    The province's `registered` figure moves here, once per person, rather than on the
    registration's own hot path: exact as soon as the identity checks have caught up. The profile
    leaves the pending checks for its province's entries in the same index (`province_entry`),
    which the drift check reads the province's participants through.
    """
    participant_id = participant.participant_id
    unit = UnitOfWork()
    figures.count_registered(unit, participant)
    index_key, index_sort_key = province_entry(participant)
    unit.update(
        profile(participant_id),
        actions=[
            ProfileRecord.verification.set(outcome.value),
            ProfileRecord.verification_reason.set(reason)
            if reason
            else ProfileRecord.verification_reason.remove(),
            ProfileRecord.gsi2pk.set(index_key),
            ProfileRecord.gsi2sk.set(index_sort_key),
            ProfileRecord.version.add(1),
        ],
        condition=ProfileRecord.verification == Verification.PENDING.value,
    )
    ledger.record(unit, participant_id, event)
    try:
        unit.commit()
    except Refused:
        return False
    return True


# A dispatched check stays in the pending index, moved behind every undispatched one: its sort key
# becomes `~<time>#<id>`, `~` sorting after any date, with the time from which it may be dispatched
# again (see `verification.REDISPATCH_AFTER`). The answer takes it out of the index for good.
_DISPATCHED = "~"


def _dispatched_until(moment: datetime) -> str:
    return f"{_DISPATCHED}{moment.astimezone(UTC):%Y-%m-%dT%H:%M:%S}"


def pending_verifications(
    shard: int, limit: int, now: datetime, after: tuple[str, str] | None = None
) -> list[tuple[str, str]]:
    """Checks in one shard to dispatch, as (participant id, place in the index): the undispatched
    ones oldest first, then those dispatched long enough ago to be due again; `after` is the check
    a previous page of this shard ended with (it need not be there any more)."""
    partition = f"VERIFY#{shard:02d}"
    start = None
    if after is not None:
        participant_id, position = after
        start = {
            "gsi2pk": {"S": partition},
            "gsi2sk": {"S": position},
            "pk": {"S": profile(participant_id).pk},
            "sk": {"S": profile(participant_id).sk},
        }
    results = ProfileRecord.gsi2.query(
        partition,
        ProfileRecord.gsi2sk < _dispatched_until(now),
        limit=limit,
        last_evaluated_key=start,
    )
    return [(record.participant_id, str(record.gsi2sk)) for record in results]


def claim_verifications(pending: list[tuple[str, str]], at: datetime, until: datetime) -> list[str]:
    """Mark each check dispatched, not to be dispatched again before `until`, if it is still where
    this run read it; the ids claimed. Of two runs that read the same checks, only one claims each.

    Each dispatch allows one registry lookup (`take_lookup`): a new one gives back the lookup a
    consumer took for an earlier dispatch and died without answering."""
    claimed = []
    for participant_id, position in pending:
        try:
            profile(participant_id).update(
                actions=[
                    ProfileRecord.gsi2sk.set(f"{_dispatched_until(until)}#{participant_id}"),
                    ProfileRecord.verification_dispatched_at.set(at),
                    ProfileRecord.verification_asked_at.remove(),
                ],
                condition=(ProfileRecord.verification == Verification.PENDING.value)
                & (ProfileRecord.gsi2sk == position),
            )
        except UpdateError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise
            continue
        claimed.append(participant_id)
    return claimed


def take_lookup(participant_id: str, at: datetime) -> Participant | None:
    """Take the one registry lookup the check's latest dispatch allows; the participant as this
    write left them, or None if they are decided, gone, or the lookup is taken already.

    SQS delivers a message at least once, and a consumer can fail after the registry answered:
    without this, either would ask the registry again, against its daily cap. A consumer that dies
    holding the lookup leaves the check pending in the index, where it falls due again and its next
    dispatch allows a new one (`claim_verifications`)."""
    record = profile(participant_id)
    try:
        record.update(
            actions=[ProfileRecord.verification_asked_at.set(at)],
            condition=(ProfileRecord.verification == Verification.PENDING.value)
            & ProfileRecord.verification_asked_at.does_not_exist(),
        )
    except UpdateError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise
        return None
    return participant_of(record)


def give_back_lookup(participant_id: str, taken_at: datetime) -> None:
    """Give back a lookup the registry did not answer, so that the message's retry may ask again."""
    try:
        profile(participant_id).update(
            actions=[ProfileRecord.verification_asked_at.remove()],
            condition=(ProfileRecord.verification == Verification.PENDING.value)
            & (ProfileRecord.verification_asked_at == taken_at),
        )
    except UpdateError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise


class _CounterRecord(JobItem):
    total = NumberAttribute(default=0)


def _day_key(day: date) -> str:
    return f"VERIFY#DAY#{day.isoformat()}"


def lookups_dispatched(day: date) -> int:
    try:
        return int(_CounterRecord.get(_day_key(day), "COUNT", consistent_read=True).total)
    except _CounterRecord.DoesNotExist:
        return 0


_RESERVATION_ATTEMPTS = 3


def reserve_lookups(day: date, wanted: int, cap: int) -> int:
    """Take up to `wanted` of the day's `cap` lookups before sending any; how many were taken.

    The counter refuses an addition that would take it past the cap, so runs that read it at the
    same time cannot together exceed it; the one refused reads it again and takes what is left.
    One write per dispatch run, not per lookup: the day's counter is never a hot key.
    """
    count = wanted
    for _ in range(_RESERVATION_ATTEMPTS):
        if count <= 0:
            return 0
        try:
            _CounterRecord(_day_key(day), "COUNT").update(
                actions=[_CounterRecord.total.add(count)],
                condition=_CounterRecord.total.does_not_exist() | (_CounterRecord.total <= cap - count),
            )
        except UpdateError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise
            count = min(wanted, cap - lookups_dispatched(day))
            continue
        return count
    return 0


def release_lookups(day: date, count: int) -> None:
    """Give back reserved lookups that were not sent (another run had claimed those checks)."""
    _CounterRecord(_day_key(day), "COUNT").update(actions=[_CounterRecord.total.add(-count)])
