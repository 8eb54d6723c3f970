"""Selecting a wave's recipients, pool by pool (a province, or the nation for a wave without a split).

Within a pool, applicants are taken in the wave's random order (reproducible from its seed),
priority cohorts first. The first `quota` who are NIK-verified, not excluded and whose family
card still has room are selected; everyone else is told they were not. The work is done in
pages with a checkpoint after each: killed anywhere and run again, it reaches the same set,
because every decision is stored on the participant in the same transaction as its effects,
and a decision found already made is counted, never made twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from typing import Protocol

from chalicelib.core import clock
from chalicelib.core.observability import count, logger
from chalicelib.core.settings import programme
from chalicelib.registration.model import Event, Participant, Status, Verification, Wave

PAGE = 200
# The index partitions of a pool, in the order selection reads them: priority first, then the
# rest, each by the first hex digit of the rank (see `store.applicants_key`).
PARTITIONS: tuple[tuple[bool, str], ...] = tuple(
    (priority, digit) for priority in (True, False) for digit in "0123456789abcdef"
)


@dataclass(frozen=True)
class Checkpoint:
    wave_id: str
    pool: str
    partition: int = 0
    start_key: str | None = None
    selected: int = 0
    examined: int = 0
    version: int = 0

    @property
    def done(self) -> bool:
        return self.partition >= len(PARTITIONS)


@dataclass(frozen=True)
class Decision:
    participant: Participant
    selected: bool
    reason: str | None
    event: Event
    balance: int = 0
    purchase_deadline: datetime | None = None
    balance_expires_at: datetime | None = None


class StaleParticipant(Exception):
    """The participant changed since it was read; read again and decide again."""


class SelectionStore(Protocol):
    """What selection needs from storage; `store.py` is the DynamoDB one, tests have a fake."""

    def checkpoint(self, wave_id: str, pool: str) -> Checkpoint | None: ...

    def save_checkpoint(self, checkpoint: Checkpoint) -> Checkpoint:
        """Store the checkpoint if nobody else moved it since it was read; raises otherwise."""
        ...

    def applicants(
        self, wave_id: str, pool: str, partition: tuple[bool, str], start_key: str | None, limit: int
    ) -> tuple[list[str], str | None]: ...

    def participants(self, participant_ids: list[str]) -> dict[str, Participant]: ...

    def excluded(self, participants: list[Participant]) -> set[str]: ...

    def record_selection(self, decision: Decision, family_cap: int) -> bool: ...

    def record_rejection(self, decision: Decision) -> None: ...


def _end_of_day_after(selected_at: datetime, days: int) -> datetime:
    rules = programme()
    day = selected_at.astimezone(rules.timezone).date() + timedelta(days=days)
    return datetime.combine(day, time(23, 59, 59), tzinfo=rules.timezone)


def purchase_deadline(selected_at: datetime) -> datetime:
    """The end of the programme day `purchase_deadline_days` after selection, in Jakarta time."""
    return _end_of_day_after(selected_at, programme().purchase_deadline_days)


def balance_expiry(selected_at: datetime) -> datetime:
    """When what is left of the balance returns to the programme (`balance_usage_days`)."""
    return _end_of_day_after(selected_at, programme().balance_usage_days)


def _event(participant: Participant, wave: Wave, selected: bool, reason: str | None, at: datetime) -> Event:
    return Event(
        at=at,
        actor="selection",
        action="SELECTED" if selected else "NOT_SELECTED",
        status_from=participant.status.value,
        status_to=(Status.SELECTED if selected else Status.NOT_SELECTED).value,
        reason=reason,
        details={"wave_id": wave.wave_id},
    )


def _refusal(participant: Participant, excluded: set[str], room: bool) -> str | None:
    if not room:
        return "QUOTA_FULL"
    if participant.verification is not Verification.NIK_VERIFIED:
        return "NOT_VERIFIED"
    if participant.participant_id in excluded:
        return "EXCLUDED"
    return None


def _decide(
    store: SelectionStore,
    wave: Wave,
    quota: int,
    checkpoint: Checkpoint,
    participant: Participant,
    excluded: set[str],
) -> Checkpoint:
    if participant.wave_id != wave.wave_id or participant.status is not Status.APPLIED:
        already = participant.selected_wave == wave.wave_id
        return replace(checkpoint, selected=checkpoint.selected + already)
    now = clock.now()
    reason = _refusal(participant, excluded, room=checkpoint.selected < quota)
    if reason is None:
        decision = Decision(
            participant,
            True,
            None,
            _event(participant, wave, True, None, now),
            balance=programme().training_balance,
            purchase_deadline=purchase_deadline(now),
            balance_expires_at=balance_expiry(now),
        )
        if store.record_selection(decision, programme().family_cap):
            count("ParticipantsSelected")
            return replace(checkpoint, selected=checkpoint.selected + 1)
        reason = "FAMILY_CAP"
    store.record_rejection(
        Decision(participant, False, reason, _event(participant, wave, False, reason, now))
    )
    count("ParticipantsNotSelected")
    return checkpoint


def select_pool(
    store: SelectionStore, wave: Wave, pool: str, has_time: Callable[[], bool] = lambda: True
) -> Checkpoint:
    """Run the pool's selection from its checkpoint until done or out of time; returns where it stands.

    Every call takes at least one page, so a continuation always moves the pool forward.
    """
    quota = wave.pools()[pool]
    checkpoint = store.checkpoint(wave.wave_id, pool) or Checkpoint(wave.wave_id, pool)
    first = True
    while not checkpoint.done and (first or has_time()):
        first = False
        ids, next_key = store.applicants(
            wave.wave_id, pool, PARTITIONS[checkpoint.partition], checkpoint.start_key, PAGE
        )
        found = store.participants(ids)
        page = [found[participant_id] for participant_id in ids if participant_id in found]
        excluded = store.excluded(page)
        for participant in page:
            try:
                checkpoint = _decide(store, wave, quota, checkpoint, participant, excluded)
            except StaleParticipant:
                # Changed since the page was read (an admin revoked them, say): decide on what it is now.
                fresh = store.participants([participant.participant_id])[participant.participant_id]
                checkpoint = _decide(store, wave, quota, checkpoint, fresh, excluded)
        checkpoint = store.save_checkpoint(
            replace(
                checkpoint,
                examined=checkpoint.examined + len(ids),
                start_key=next_key,
                partition=checkpoint.partition + (next_key is None),
            )
        )
    logger.info(
        "selection progress",
        extra={
            "wave_id": wave.wave_id,
            "pool": pool,
            "selected": checkpoint.selected,
            "done": checkpoint.done,
        },
    )
    return checkpoint
