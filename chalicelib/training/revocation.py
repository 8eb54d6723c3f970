"""Giving the balance back: an admin's revocation, the deadline sweep's, and the balance's expiry.

Each is one unit of work: registration ends the participation or the balance through its service
(the profile, the `REVOKED` list, the audit event), training counts what came back, and the
outbox tells the person.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from chalicelib.core import clock, outbox
from chalicelib.core.observability import count, logger
from chalicelib.core.retry import retried
from chalicelib.core.storage import Refused, UnitOfWork
from chalicelib.registration import service as registration
from chalicelib.registration.model import Event, Participant, Status
from chalicelib.training import figures
from chalicelib.training.errors import AlreadyRevoked
from chalicelib.training.model import EVENTS, REVOKED, SURVEY_EVENTS
from chalicelib.training.stores import sweeps


class _Moved(Exception):
    """The participant changed since they were read."""


def revoke(
    participant_id: str, actor: str, reason: str, note: str | None = None, request_key: str | None = None
) -> Participant:
    """Revoke a participant (an admin's decision, or the sweep's) for `reason`, a code; `note` is an
    admin's words, kept in the audit trail for admins.

    A request sent again with its `request_key` (Idempotency-Key) after it revoked them gets the
    record, not ALREADY_REVOKED: its first answer may have been lost after the write.
    """

    def attempt() -> Participant:
        participant = registration.participant(participant_id)
        if participant.status is Status.REVOKED:
            if request_key is not None and _revoked_as_asked(participant_id, actor, reason, note):
                return participant
            raise AlreadyRevoked()
        _revoke(participant, actor, reason, note)
        return registration.participant(participant_id)

    return retried(attempt, _Moved)


def _revoked_as_asked(participant_id: str, actor: str, reason: str, note: str | None) -> bool:
    revocations = [event for event in registration.events(participant_id) if event.action == "REVOKED"]
    return bool(revocations) and (
        revocations[-1].actor,
        revocations[-1].reason,
        revocations[-1].details.get("note"),
    ) == (actor, reason, note)


def _revoke(participant: Participant, actor: str, reason: str, note: str | None = None) -> None:
    """Revoke as read: what is left of the balance returns to the programme (per province and wave),
    a place never used for training is freed for a later wave, and the person goes on the `REVOKED`
    exclusion list. Raises `_Moved` if the participant changed since."""
    returned = participant.balance or 0
    details: dict[str, str | int] = {"returned_balance": returned}
    if note:
        details["note"] = note
    event = Event(
        at=clock.now(),
        actor=actor,
        action="REVOKED",
        status_from=participant.status.value,
        status_to=Status.REVOKED.value,
        reason=reason,
        details=details,
    )
    unit = UnitOfWork()
    registration.revoke(unit, participant, reason)
    registration.record_event(unit, participant.participant_id, event)
    outbox.add(unit, participant.participant_id, "REVOKED", "REVOKED", {"reason": reason}, event.at)
    if participant.status in (Status.INCENTIVE, Status.FINISHED):
        # Payments may be owed: incentives stops those not yet sent (`schedules.take_training_events`).
        outbox.publish(unit, EVENTS, participant.participant_id, REVOKED, {"reason": reason}, event.at)
        # And surveys: none is sent to them any more, and none is rewarded.
        outbox.publish(unit, SURVEY_EVENTS, participant.participant_id, REVOKED, {"reason": reason}, event.at)
    figures.count(
        unit,
        participant.province_code,
        participant.participant_id,
        wave_id=participant.selected_wave,
        revoked=1,
        returned_balance=returned,
        freed_places=int(participant.status is Status.SELECTED),
    )
    try:
        unit.commit()
    except Refused as refused:
        raise _Moved() from refused
    # An admin's note is free text that may name the person: the audit trail keeps it, logs do not.
    logger.info(
        "revoked", extra={"participant_id": participant.participant_id, "actor": actor, "reason": reason}
    )
    count("ParticipantsRevoked")


NO_PURCHASE = "NO_PURCHASE_BY_DEADLINE"


def _as_read_then_afresh(participant: Participant) -> Callable[[], Participant]:
    """The participant as the sweep's page read them, then, on each retry, as they are now."""
    first = [participant]
    return lambda: first.pop() if first else registration.participant(participant.participant_id)


def _revoke_if_due(participant: Participant) -> bool:
    """The sweep's act on one participant of a past deadline day; read again if it moved meanwhile."""
    current = _as_read_then_afresh(participant)

    def attempt() -> bool:
        found = current()
        deadline = found.purchase_deadline
        if found.status is not Status.SELECTED or deadline is None or deadline >= clock.now():
            return False
        _revoke(found, "revocation", NO_PURCHASE)
        return True

    return retried(attempt, _Moved)


def _expire_if_due(participant: Participant) -> bool:
    """The sweep's act on one participant of a past expiry day. A run that lost a race with another
    may hold them as they were before the other expired them: only those still waiting in the
    expiry index are expired, so no balance is expired twice."""
    current = _as_read_then_afresh(participant)

    def attempt() -> bool:
        found = current()
        expires = found.balance_expires_at
        if expires is None or expires >= clock.now() or found.status is Status.REVOKED:
            return False
        returned = found.balance or 0
        event = Event(
            at=clock.now(),
            actor="balance-expiry",
            action="BALANCE_EXPIRED",
            status_from=found.status.value,
            status_to=found.status.value,
            details={"returned_balance": returned},
        )
        unit = UnitOfWork()
        registration.expire_balance(unit, found)
        registration.record_event(unit, found.participant_id, event)
        figures.count(
            unit,
            found.province_code,
            found.participant_id,
            wave_id=found.selected_wave,
            expired_balance=returned,
        )
        try:
            unit.commit()
        except Refused as refused:
            if not registration.awaits_expiry(found.participant_id):
                return False
            raise _Moved() from refused
        return True

    return retried(attempt, _Moved)


# A page's revocations (a transaction each) finish well inside the jobs' time margin.
PAGE = 200


def _sweep(kind: str, act: Callable[[Participant], bool], has_time: Callable[[], bool]) -> dict[str, Any]:
    """Walk the due index on the days that are over and can hold anyone, wave by wave, shard by
    shard, page by page.

    Each wave's selection recorded the days its people fall due on (`Wave.deadline_days`), and
    each wave keeps its own checkpoint: the days swept, and the shard and page of the day being
    swept. So no day that holds due people is skipped, whatever the clock did: a wave selected
    after the local clock was moved back has days of its own to sweep, however far the others
    have come. Only due participants are read: everyone else waits under a later day. The
    checkpoint is saved after every page, and acting on a participant takes them out of the index
    in the same transaction, so a run killed anywhere resumes without repeating anything, and an
    act that is repeated anyway is refused by its condition.
    """
    today = registration.programme_today()
    read = acted = 0
    for wave in registration.list_waves():
        wave_days = wave.deadline_days if kind == "DEADLINE" else wave.expiry_days
        checkpoint = sweeps.checkpoint(kind, wave.wave_id)
        for day in sorted(day for day in wave_days if day < today and day not in checkpoint.swept):
            shard, start_key = (
                (checkpoint.shard, checkpoint.start_key) if checkpoint.day == day else (0, None)
            )
            while shard < registration.DEADLINE_SHARDS:
                if not has_time():
                    return {"job": kind, "read": read, "acted": acted, "more": True}
                page, start_key = registration.due_participants(kind, day, shard, start_key, PAGE)
                read += len(page)
                acted += sum(act(participant) for participant in page)
                if start_key is None:
                    shard += 1
                checkpoint = replace(checkpoint, day=day, shard=shard, start_key=start_key)
                sweeps.save(checkpoint)
            checkpoint = replace(
                checkpoint, swept=checkpoint.swept | {day}, day=None, shard=0, start_key=None
            )
            sweeps.save(checkpoint)
    count(f"Sweep{kind.title()}Read", read)
    return {"job": kind, "read": read, "acted": acted}


def sweep_deadlines(has_time: Callable[[], bool]) -> dict[str, Any]:
    """Revoke everyone selected whose purchase deadline passed without a purchase."""
    return _sweep("DEADLINE", _revoke_if_due, has_time)


def expire_balances(has_time: Callable[[], bool]) -> dict[str, Any]:
    """Return what is left of balances whose usage period is over."""
    return _sweep("EXPIRY", _expire_if_due, has_time)
