"""The training balance on the participant's profile, and the due index its deadlines are read from.

Selection grants the balance and files the participant under their purchase deadline's day;
training's use cases move it (a purchase, a revocation, an expiry) by adding these writes to their
unit of work, each under a condition DynamoDB checks inside the transaction.
"""

from __future__ import annotations

import json
from datetime import date, datetime

from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from chalicelib.core.settings import programme
from chalicelib.core.storage import UnitOfWork
from chalicelib.registration.model import SPENDING, Participant, Status
from chalicelib.registration.stores.participants import ProfileRecord, participant_of, profile

DEADLINE_SHARDS = 16
BALANCE = "balance"
PARTICIPANT = "participant"


def due_key(kind: str, moment: datetime, participant_id: str) -> str:
    """Where a selected participant waits in the due index: `DEADLINE` until the first purchase,
    then `EXPIRY` of what is left of the balance; by programme date, spread over shards."""
    day = moment.astimezone(programme().timezone).date()
    return due_partition(kind, day, int(participant_id[:4], 16) % DEADLINE_SHARDS)


def due_partition(kind: str, day: date, shard: int) -> str:
    return f"{kind}#{day.isoformat()}#{shard:02d}"


def deadline_key(deadline: datetime, participant_id: str) -> str:
    """The revocation sweep finds due participants by date, spread over shards (see docs/DATA.md)."""
    return due_key("DEADLINE", deadline, participant_id)


def due_participants(
    kind: str, day: date, shard: int, start_key: str | None, limit: int
) -> tuple[list[Participant], str | None]:
    """One page of the participants waiting under a day's shard of the due index (whole profiles)."""
    results = ProfileRecord.gsi1.query(
        due_partition(kind, day, shard),
        limit=limit,
        last_evaluated_key=json.loads(start_key) if start_key else None,
    )
    found = [participant_of(record) for record in results]
    last = results.last_evaluated_key
    return found, json.dumps(last) if last else None


def debit(unit: UnitOfWork, participant: Participant, price: int, at: datetime) -> None:
    """Take `price` off the balance (label `balance` if refused).

    The conditions are DynamoDB's, inside the transaction, so concurrent purchases can never take
    the balance below zero, whatever they read. A first purchase moves SELECTED on to TRAINING, and
    the participant from the deadline index to the expiry index, only while still SELECTED (a
    concurrent first purchase is refused and retried as a later one) and only before the deadline,
    even if the sweep has not revoked them yet; a later one only within the balance's usage period.
    """
    actions: list[Action] = [ProfileRecord.balance.add(-price), ProfileRecord.version.add(1)]
    condition: Condition
    if participant.status is Status.SELECTED:
        assert participant.balance_expires_at is not None
        actions += [
            ProfileRecord.status.set(Status.TRAINING.value),
            ProfileRecord.gsi1pk.set(
                due_key("EXPIRY", participant.balance_expires_at, participant.participant_id)
            ),
            ProfileRecord.gsi1sk.set(participant.participant_id),
        ]
        condition = (ProfileRecord.status == Status.SELECTED.value) & (ProfileRecord.purchase_deadline >= at)
    else:
        condition = ProfileRecord.status.is_in(*(stage.value for stage in SPENDING[1:])) & (
            ProfileRecord.balance_expires_at >= at
        )
    condition &= ProfileRecord.balance >= price
    unit.update(profile(participant.participant_id), actions=actions, condition=condition, label=BALANCE)


def start_incentive_stage(unit: UnitOfWork, participant: Participant) -> None:
    """TRAINING on to INCENTIVE, once (label `participant` if it moved on already)."""
    unit.update(
        profile(participant.participant_id),
        actions=[ProfileRecord.status.set(Status.INCENTIVE.value), ProfileRecord.version.add(1)],
        condition=ProfileRecord.status == Status.TRAINING.value,
        label=PARTICIPANT,
    )


def not_revoked(unit: UnitOfWork, participant_id: str) -> None:
    """A condition of `unit`: the participant has not been revoked meanwhile (label `participant`)."""
    key = profile(participant_id)
    unit.check(
        ProfileRecord,
        key.pk,
        key.sk,
        condition=ProfileRecord.status != Status.REVOKED.value,
        label=PARTICIPANT,
    )


def give_back(unit: UnitOfWork, participant: Participant, revoked_for: str | None) -> None:
    """Set the balance to 0 and take the participant out of the due index: for good, REVOKED for
    `revoked_for`, or at the end of the usage period. Only as read (label `participant` if not)."""
    actions: list[Action] = [
        ProfileRecord.gsi1pk.remove(),
        ProfileRecord.gsi1sk.remove(),
        ProfileRecord.version.add(1),
    ]
    if participant.balance is not None:
        actions.append(ProfileRecord.balance.set(0))
    if revoked_for is not None:
        actions += [
            ProfileRecord.status.set(Status.REVOKED.value),
            ProfileRecord.revocation_reason.set(revoked_for),
        ]
    unit.update(
        profile(participant.participant_id),
        actions=actions,
        condition=ProfileRecord.version == participant.version,
        label=PARTICIPANT,
    )


def awaits_expiry(participant_id: str) -> bool:
    """Whether the participant still waits in the due index to have their balance expired."""
    record = ProfileRecord.get(profile(participant_id).pk, profile(participant_id).sk, consistent_read=True)
    return str(record.gsi1pk or "").startswith("EXPIRY#")
