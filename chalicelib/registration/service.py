"""Registration's one door: its use cases, and what later stages may ask of a participant.

Other domains import this module and `registration.model`, nothing else of registration (an
import-linter contract keeps it so). They never touch the participant's item: a use case of
theirs that changes it (a purchase debits the balance, a revocation ends the participation) adds
registration's writes to its own unit of work through the functions here, and commits once.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel

from chalicelib.core.storage import UnitOfWork
from chalicelib.registration import figures, records
from chalicelib.registration.applications import applied_through, apply_to_wave, rank_in, tag_cohort
from chalicelib.registration.errors import (
    AlreadyApplied,
    AlreadyRegistered,
    AlreadySelected,
    DuplicateEmail,
    DuplicateNik,
    DuplicatePhone,
    NotEligible,
    NotRegistered,
    Revoked,
    WaveClosed,
    WaveExists,
    WaveNotFound,
    WaveStillOpen,
)
from chalicelib.registration.model import Contact, Event, Participant
from chalicelib.registration.registrations import (
    check_identity,
    own_record,
    participant,
    participant_id_for,
    programme_today,
    record_for,
    register,
    register_many,
)
from chalicelib.registration.stores import balance, ledger, lists, participants
from chalicelib.registration.waves import (
    applications_open,
    continue_selection,
    create_wave,
    list_waves,
    request_selection,
    start_requested_selections,
    wave,
)

__all__ = [
    "AlreadyApplied",
    "AlreadyRegistered",
    "AlreadySelected",
    "DuplicateEmail",
    "DuplicateNik",
    "DuplicatePhone",
    "NotEligible",
    "NotRegistered",
    "Revoked",
    "WaveClosed",
    "WaveExists",
    "WaveNotFound",
    "WaveStillOpen",
    "applications_open",
    "applied_through",
    "apply_to_wave",
    "check_identity",
    "continue_selection",
    "create_wave",
    "list_waves",
    "own_record",
    "participant",
    "participant_id_for",
    "participants_in_province",
    "participants_pending",
    "programme_today",
    "rank_in",
    "record_for",
    "register",
    "register_many",
    "request_selection",
    "start_requested_selections",
    "tag_cohort",
    "wave",
]

FIGURES = figures.FIGURES
DEADLINE_SHARDS = balance.DEADLINE_SHARDS
VERIFICATION_SHARDS = participants.VERIFICATION_SHARDS
# The labels a refused unit of work names registration's conditions by.
BALANCE_REFUSED = balance.BALANCE
PARTICIPANT_MOVED = balance.PARTICIPANT


RecordSection = records.Section


def participant_record(participant: Participant) -> BaseModel:
    """The contract's participant record, with every later stage's section (see `records`)."""
    return records.record(participant)


def record_model() -> type[BaseModel]:
    """The model of `participant_record`'s answer, once every section has been added."""
    return records.record_model()


def add_record_section(section: RecordSection) -> None:
    """A later stage's part of the participant record; `app.py` adds each when it wires the app."""
    records.add_section(section)


def cohorts(groups: dict[str, dict[str, int]]) -> dict[str, int]:
    """Participants per cohort, from the groups of a province's counters (`counters.totals`)."""
    return figures.cohorts(groups)


def participants_in_province(
    province_code: str, after: str | None, limit: int
) -> tuple[list[Participant], str | None]:
    """A page of the province's decided participants (for the drift check): the page, and the
    position the next one starts after (None at the end)."""
    return participants.in_province(province_code, after, limit)


def participants_pending(shard: int, after: str | None, limit: int) -> tuple[list[Participant], str | None]:
    """A page of one shard (of `VERIFICATION_SHARDS`) of the participants whose identity check
    is pending: not in their province's index yet, and perhaps applied already."""
    return participants.pending(shard, after, limit)


def events(participant_id: str) -> list[Event]:
    """The participant's audit trail, oldest first."""
    return ledger.events(participant_id)


def record_event(unit: UnitOfWork, participant_id: str, event: Event) -> None:
    """An audit event, written if and only if the rest of `unit` is."""
    ledger.record(unit, participant_id, event)


def debit_balance(unit: UnitOfWork, participant: Participant, price: int, at: datetime) -> None:
    """Take `price` off the balance as part of `unit`, under DynamoDB's conditions (never below
    zero, within the deadline or the usage period); refused as `BALANCE_REFUSED`."""
    balance.debit(unit, participant, price, at)


def start_incentive_stage(unit: UnitOfWork, participant: Participant) -> None:
    """The first completed course moves TRAINING on to INCENTIVE, once (`PARTICIPANT_MOVED`)."""
    balance.start_incentive_stage(unit, participant)


def still_active(unit: UnitOfWork, participant_id: str) -> None:
    """A condition of `unit`: the participant is not revoked when it commits (`PARTICIPANT_MOVED`)."""
    balance.not_revoked(unit, participant_id)


def revoke(unit: UnitOfWork, participant: Participant, reason: str) -> None:
    """End the participation for `reason` (a code) as read: what is left of the balance is given
    back, and the person goes on the `REVOKED` exclusion list (`PARTICIPANT_MOVED` if they changed)."""
    balance.give_back(unit, participant, revoked_for=reason)
    lists.add_revoked(unit, participant.nik)


def expire_balance(unit: UnitOfWork, participant: Participant) -> None:
    """The usage period is over: what is left of the balance is given back (`PARTICIPANT_MOVED`)."""
    balance.give_back(unit, participant, revoked_for=None)


def awaits_expiry(participant_id: str) -> bool:
    """Whether the participant still waits to have their balance expired."""
    return balance.awaits_expiry(participant_id)


def due_participants(
    kind: str, day: date, shard: int, start_key: str | None, limit: int
) -> tuple[list[Participant], str | None]:
    """One page of the participants due on `day` (`DEADLINE` to buy, `EXPIRY` of the balance)."""
    return balance.due_participants(kind, day, shard, start_key, limit)


def contacts(participant_ids: list[str]) -> dict[str, Contact]:
    """How to reach each participant (batched reads), for the stage that tells people things: their
    personal data leaves registration only here, and only as much as a message needs."""
    found = participants.participants(sorted(set(participant_ids)))
    return {
        participant_id: Contact(participant_id, person.full_name, person.email, person.phone, person.status)
        for participant_id, person in found.items()
    }
