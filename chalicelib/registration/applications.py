"""Applying to a wave, and the cohorts that give an application priority."""

from __future__ import annotations

import hashlib
import hmac
from datetime import date

from chalicelib.core import clock
from chalicelib.core.observability import logger
from chalicelib.core.retry import retried
from chalicelib.core.settings import programme
from chalicelib.registration import rules
from chalicelib.registration.errors import (
    AlreadyApplied,
    AlreadySelected,
    NoPlacesInProvince,
    NotEligible,
    Revoked,
    WaveClosed,
    WaveNotFound,
)
from chalicelib.registration.model import (
    Account,
    Event,
    Participant,
    SelectionState,
    Status,
    Verification,
    Wave,
)
from chalicelib.registration.registrations import own_record, participant_id_for, programme_today
from chalicelib.registration.selection import StaleParticipant
from chalicelib.registration.stores import ledger, lists, participants, waves

_MAY_APPLY = {Status.REGISTERED, Status.NOT_SELECTED}


def rank_in(wave: Wave, participant_id: str) -> str:
    """The participant's place in the wave's random order: reproducible from the wave's seed alone."""
    return hmac.new(wave.seed.encode(), participant_id.encode(), hashlib.sha256).hexdigest()


def _passed_over(participant: Participant) -> bool:
    """Applied to a wave whose selection finished without deciding them: their application landed
    after the selection had read its pool (a request still in flight at the closing time, or an
    index that had not caught up). Nobody selected them, so they stand as not selected."""
    if participant.wave_id is None:
        return False
    applied_to = waves.wave(participant.wave_id)
    return applied_to is not None and applied_to.selection is SelectionState.DONE


def _refuse_application(participant: Participant, wave: Wave, today: date) -> None:
    if participant.status is Status.REVOKED:
        raise Revoked()
    if participant.status is Status.APPLIED:
        if not _passed_over(participant):
            raise AlreadyApplied()
    elif participant.status not in _MAY_APPLY:
        raise AlreadySelected()
    if not wave.accepts_applications(clock.now()):
        raise WaveClosed()
    if not wave.has_places_in(participant.province_code):
        raise NoPlacesInProvince()
    if participant.verification is Verification.NIK_REJECTED:
        raise NotEligible(fields={"rule": "nik_verification"})
    refused = rules.eligibility(
        programme(), birth_date=participant.birth_date, declarations=participant.declarations, on=today
    )
    if refused is not None:
        raise NotEligible(fields={"rule": refused.rule})


def apply_to_wave(account: Account, wave_id: str) -> Participant:
    """The account's participant applies to the wave; checked again if their record moved meanwhile."""
    wave = waves.wave(wave_id)
    if wave is None:
        raise WaveNotFound()

    def attempt() -> Participant:
        participant = own_record(account)
        _refuse_application(participant, wave, programme_today())
        priority = bool(set(participant.cohorts) & set(programme().priority_cohorts))
        event = Event(
            at=clock.now(),
            actor=str(account),
            action="APPLIED",
            status_from=participant.status.value,
            status_to=Status.APPLIED.value,
            details={"wave_id": wave.wave_id},
        )
        waves.add_application(participant, wave, rank_in(wave, participant.participant_id), priority, event)
        logger.info("applied", extra={"participant_id": participant.participant_id, "wave_id": wave_id})
        return own_record(account)

    return retried(attempt, StaleParticipant)


def applied_through(account: Account, wave_id: str) -> bool:
    """Whether the account's participant stands applied to the wave by that account's own request.

    An office import's row is its own account: run again after a crash, the row meets the
    application its first attempt made, which is no refusal, while an application made by
    anyone else still is one.
    """
    found = participants.participant(participant_id_for(account), consistent=True)
    if found is None or found.status is not Status.APPLIED or found.wave_id != wave_id:
        return False
    return any(
        event.action == "APPLIED" and event.actor == str(account) and event.details.get("wave_id") == wave_id
        for event in ledger.events(found.participant_id)
    )


def tag_cohort(participant_id: str, cohort: str, event: Event) -> None:
    """Tag a partner agency's person with a cohort. A priority cohort tagged after they applied
    counts in that wave too, unless its selection has started: offices send their cohort files
    when they can, not before the people on them apply."""
    moved = retried(
        lambda: lists.tag_cohort(participant_id, cohort, event, programme().priority_cohorts),
        StaleParticipant,
    )
    if moved:
        logger.info(
            "application moved to priority", extra={"participant_id": participant_id, "cohort": cohort}
        )
