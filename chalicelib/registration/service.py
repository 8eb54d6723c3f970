"""Registration use cases; no HTTP, no DynamoDB details."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import uuid
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import Any

from chalicelib.core import clock, queues
from chalicelib.core.auth import PROVINCIAL_ROLES, Caller
from chalicelib.core.errors import Conflict, DomainError, Forbidden, NotFound, Throttled, ValidationFailed
from chalicelib.core.observability import logger
from chalicelib.core.settings import programme, settings
from chalicelib.core.storage import derived_id, pii_key
from chalicelib.registration import rules, selection, store
from chalicelib.registration.model import (
    Account,
    Event,
    OfficeRow,
    Participant,
    SelectionState,
    Status,
    Verification,
    Wave,
)
from chalicelib.registration.schemas import RegistrationRequest, WaveRequest


class WaveExists(Conflict):
    code = "WAVE_EXISTS"
    message = "Gelombang dengan kode ini sudah ada."


def create_wave(request: WaveRequest, admin: str) -> Wave:
    wave = Wave(
        wave_id=request.wave_id,
        opens_at=request.opens_at,
        closes_at=request.closes_at,
        quota=request.quota,
        province_quotas=dict(request.province_quotas),
        seed=secrets.token_hex(16),
    )
    if not store.add_wave(wave, created_by=admin):
        raise WaveExists()
    logger.info("wave created", extra={"wave_id": wave.wave_id, "quota": wave.quota})
    return wave


def list_waves() -> list[Wave]:
    return sorted(store.waves(), key=lambda wave: (wave.opens_at, wave.wave_id))


def applications_open(wave: Wave) -> bool:
    return wave.accepts_applications(clock.now())


# --- registration -------------------------------------------------------------------------------


class DuplicateNik(Conflict):
    code = "DUPLICATE_NIK"
    message = "NIK ini sudah terdaftar."


class DuplicateEmail(Conflict):
    code = "DUPLICATE_EMAIL"
    message = "Alamat e-mail ini sudah terdaftar."


class DuplicatePhone(Conflict):
    code = "DUPLICATE_PHONE"
    message = "Nomor ponsel ini sudah terdaftar."


class AlreadyRegistered(Conflict):
    code = "ALREADY_REGISTERED"
    message = "Akun ini sudah mendaftar dengan data lain."


class NotEligible(ValidationFailed):
    code = "NOT_ELIGIBLE"
    message = "Anda tidak memenuhi syarat peserta Kartu Prakerja."


class NotRegistered(NotFound):
    code = "NOT_REGISTERED"
    message = "Akun ini belum terdaftar sebagai peserta."


# Checked in this order when several claims are taken at once: the caller's own account first
# (a retry), then the identity number, then the contact details.
_DUPLICATES: dict[str, type[Conflict]] = {
    "ACCOUNT": AlreadyRegistered,
    "NIK": DuplicateNik,
    "EMAIL": DuplicateEmail,
    "PHONE": DuplicatePhone,
}


def programme_today() -> date:
    """Today in the programme's timezone (WIB): ages and deadlines are counted in Jakarta."""
    return clock.now().astimezone(programme().timezone).date()


def participant_id_for(account: Account) -> str:
    """One participant per account: the id is derived from the account, never chosen twice."""
    if isinstance(account, OfficeRow):
        return str(uuid.UUID(derived_id("OFFICE_ROW", f"{account.import_id}:{account.row}")))
    return str(uuid.UUID(derived_id("ACCOUNT", account)))


def check_identity(request: RegistrationRequest, today: date) -> None:
    """Every rule an identity must pass, online or offline; raises the contract's error."""
    if request.birth_date > today:
        raise ValidationFailed(fields={"birth_date": "tanggal lahir di masa depan"})
    try:
        rules.check_nik_matches(
            request.nik,
            birth_date=request.birth_date,
            gender=request.gender,
            province_code=request.province_code,
            regency_code=request.regency_code,
        )
        rules.check_kk(request.kk_number)
    except rules.IdentityError as error:
        raise ValidationFailed(error.reason, code=error.code, fields={error.field: error.reason}) from error
    refused = rules.eligibility(
        programme(), birth_date=request.birth_date, declarations=request.declarations.model_dump(), on=today
    )
    if refused is not None:
        raise NotEligible(fields={"rule": refused.rule})


def _new_participant(request: RegistrationRequest, account: Account, channel: str) -> Participant:
    check_identity(request, programme_today())
    canonical = json.dumps(request.model_dump(mode="json"), sort_keys=True)
    return Participant(
        participant_id=participant_id_for(account),
        nik=request.nik,
        kk_number=request.kk_number,
        full_name=request.full_name,
        birth_date=request.birth_date,
        gender=request.gender,
        email=request.email.lower() if request.email else None,
        phone=request.phone,
        province_code=request.province_code,
        regency_code=request.regency_code,
        education=request.education,
        employment_status=request.employment_status,
        declarations=request.declarations.model_dump(),
        registered_at=clock.now(),
        registered_by=str(account),
        channel=channel,
        fingerprint=pii_key("REGISTRATION", canonical),
    )


def _settled(participant: Participant, claimed: store.Claimed | None) -> Participant:
    """The registered participant, or the conflict the claims make: a retry meets itself."""
    if claimed is None:
        logger.info(
            "registered",
            extra={"participant_id": participant.participant_id, "province_code": participant.province_code},
        )
        return participant
    existing = claimed.existing
    if existing is not None and existing.fingerprint == participant.fingerprint:
        return existing
    first = next(kind for kind in _DUPLICATES if kind in claimed.kinds)
    logger.info("registration refused", extra={"reason": first, "province_code": participant.province_code})
    raise _DUPLICATES[first]() from claimed


def register(request: RegistrationRequest, account: str, channel: str = "ONLINE") -> Participant:
    """Register the account's holder; the same request again returns the same participant."""
    participant = _new_participant(request, account, channel)
    try:
        store.add_registration(participant)
    except store.Claimed as claimed:
        existing = claimed.existing
        if existing is None or existing.fingerprint != participant.fingerprint:
            _count_refusal(participant.participant_id)
        return _settled(participant, claimed)
    return _settled(participant, None)


def _count_refusal(participant_id: str) -> None:
    """Each refusal tells the caller that a NIK, e-mail or phone is registered: an account may
    learn that a few times a day (the per-address limit is the API's WAF rule), then hears 429."""
    if not store.count_refusal(participant_id, programme_today(), settings().registration_refusals_per_day):
        logger.warning("registrations throttled", extra={"participant_id": participant_id})
        raise Throttled()


def register_many(
    requests: Sequence[tuple[RegistrationRequest, Account]], channel: str
) -> list[Participant | DomainError]:
    """Register many (request, account) pairs with a few batched requests (see `store.add_registrations`);
    each gets what `register` would have given it, an error included."""
    results: list[Participant | DomainError] = []
    fresh: list[Participant] = []
    for request, account in requests:
        try:
            participant = _new_participant(request, account, channel)
        except DomainError as error:
            results.append(error)
            continue
        results.append(participant)
        fresh.append(participant)
    outcomes = dict(zip((p.participant_id for p in fresh), store.add_registrations(fresh), strict=True))
    settled: list[Participant | DomainError] = []
    for result in results:
        if isinstance(result, DomainError):
            settled.append(result)
            continue
        try:
            settled.append(_settled(result, outcomes[result.participant_id]))
        except DomainError as error:
            settled.append(error)
    return settled


def record_for(participant_id: str, caller: Caller) -> tuple[Participant, list[Event], dict[str, str]]:
    """A participant's record with its audit trail and the exclusion lists they are on (list → the
    import it came from), for an admin or the office or Pemda of its province."""
    found = participant(participant_id)
    if caller.role in PROVINCIAL_ROLES and caller.province != found.province_code:
        raise Forbidden("Anda hanya berhak atas data provinsi Anda.", code="WRONG_PROVINCE")
    registered = Event(
        at=found.registered_at,
        actor=found.registered_by,
        action="REGISTERED",
        status_from=None,
        status_to=Status.REGISTERED.value,
        details={"channel": found.channel},
    )
    return found, [registered, *store.events(participant_id)], store.exclusions_of(found.nik)


def participant(participant_id: str) -> Participant:
    """Read consistently, as `own_record`: callers act on it (revoke, complete) and answer with it."""
    found = store.participant(participant_id, consistent=True)
    if found is None:
        raise NotFound("Peserta tidak ditemukan.", code="PARTICIPANT_NOT_FOUND")
    return found


def own_record(account: Account) -> Participant:
    """Read consistently: people act on what they just did (registered, applied, bought), and a
    stale copy would answer NOT_REGISTERED or fail a version check for nothing."""
    found = store.participant(participant_id_for(account), consistent=True)
    if found is None:
        raise NotRegistered()
    return found


# --- applications -------------------------------------------------------------------------------


class WaveNotFound(NotFound):
    code = "WAVE_NOT_FOUND"
    message = "Gelombang tidak ditemukan."


class WaveClosed(ValidationFailed):
    code = "WAVE_CLOSED"
    message = "Pendaftaran gelombang ini tidak sedang dibuka."


class NoPlacesInProvince(ValidationFailed):
    code = "WAVE_CLOSED"
    message = "Gelombang ini tidak membuka kuota untuk provinsi Anda."


class AlreadyApplied(Conflict):
    code = "ALREADY_APPLIED"
    message = "Anda sudah mendaftar pada sebuah gelombang yang belum diumumkan."


class AlreadySelected(Conflict):
    code = "ALREADY_SELECTED"
    message = "Anda sudah menjadi penerima Kartu Prakerja."


class Revoked(Conflict):
    code = "REVOKED"
    message = "Kepesertaan Anda telah dicabut; Anda tidak dapat mendaftar lagi."


_MAY_APPLY = {Status.REGISTERED, Status.NOT_SELECTED}
_ATTEMPTS = 3


def rank_in(wave: Wave, participant_id: str) -> str:
    """The participant's place in the wave's random order: reproducible from the wave's seed alone."""
    return hmac.new(wave.seed.encode(), participant_id.encode(), hashlib.sha256).hexdigest()


def _passed_over(participant: Participant) -> bool:
    """Applied to a wave whose selection finished without deciding them: their application landed
    after the selection had read its pool (a request still in flight at the closing time, or an
    index that had not caught up). Nobody selected them, so they stand as not selected."""
    if participant.wave_id is None:
        return False
    applied_to = store.wave(participant.wave_id)
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
    wave = store.wave(wave_id)
    if wave is None:
        raise WaveNotFound()
    for _ in range(_ATTEMPTS):
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
        try:
            store.add_application(
                participant, wave, rank_in(wave, participant.participant_id), priority, event
            )
        except selection.StaleParticipant:
            continue
        logger.info("applied", extra={"participant_id": participant.participant_id, "wave_id": wave_id})
        return own_record(account)
    raise Conflict("Data Anda sedang berubah; coba lagi.", code="CONCURRENT_UPDATE")


def applied_through(account: Account, wave_id: str) -> bool:
    """Whether the account's participant stands applied to the wave by that account's own request.

    An office import's row is its own account: run again after a crash, the row meets the
    application its first attempt made, which is no refusal, while an application made by
    anyone else still is one.
    """
    found = store.participant(participant_id_for(account), consistent=True)
    if found is None or found.status is not Status.APPLIED or found.wave_id != wave_id:
        return False
    return any(
        event.action == "APPLIED" and event.actor == str(account) and event.details.get("wave_id") == wave_id
        for event in store.events(found.participant_id)
    )


def tag_cohort(participant_id: str, cohort: str, event: Event) -> None:
    """Tag a partner agency's person with a cohort. A priority cohort tagged after they applied
    counts in that wave too, unless its selection has started: offices send their cohort files
    when they can, not before the people on them apply."""
    if store.tag_cohort(participant_id, cohort, event, programme().priority_cohorts):
        logger.info(
            "application moved to priority", extra={"participant_id": participant_id, "cohort": cohort}
        )


# --- selection ----------------------------------------------------------------------------------


class WaveStillOpen(Conflict):
    code = "WAVE_OPEN"
    message = "Seleksi hanya dapat dimulai setelah pendaftaran gelombang ditutup."


def request_selection(wave_id: str, admin: str) -> Wave:
    """Ask for the wave's selection; the selection job picks it up. Asking again changes nothing."""
    wave = store.wave(wave_id)
    if wave is None:
        raise WaveNotFound()
    if clock.now() < wave.closes_at:
        raise WaveStillOpen()
    if store.set_selection(wave_id, SelectionState.REQUESTED, {SelectionState.NOT_STARTED}, by=admin):
        logger.info("selection requested", extra={"wave_id": wave_id})
    return store.wave(wave_id) or wave


def start_requested_selections() -> dict[str, Any]:
    """Fan every requested wave out to one selection message per pool (province or nation).

    Messages go out before the wave is marked running, so a crash in between only sends them
    again, and a pool's selection runs safely twice (see `selection.select_pool`).
    """
    started = []
    for wave in store.waves():
        if wave.selection is not SelectionState.REQUESTED:
            continue
        queues.send_all("selection", ({"wave_id": wave.wave_id, "pool": pool} for pool in wave.pools()))
        store.set_selection(wave.wave_id, SelectionState.RUNNING, {SelectionState.REQUESTED})
        started.append(wave.wave_id)
    return {"waves_started": started}


LAMBDA_LIFETIME = timedelta(minutes=15)


def continue_selection(wave_id: str, pool: str, has_time: Callable[[], bool]) -> dict[str, Any]:
    """Select in one pool until done or out of time; hands the rest on, and closes the wave at the end."""
    wave = store.wave(wave_id)
    if wave is None or wave.selection is SelectionState.DONE:
        return {"wave_id": wave_id, "pool": pool, "skipped": True}
    now = clock.now()
    # Every decision of this invocation is taken between these moments (a Lambda lives 15 minutes),
    # under the rules this container holds: the days its people fall due on are recorded first.
    moments = (now, now + LAMBDA_LIFETIME)
    store.add_due_days(
        wave_id,
        deadline_days={selection.purchase_deadline(moment).date() for moment in moments},
        expiry_days={selection.balance_expiry(moment).date() for moment in moments},
    )
    selections = store.DynamoSelectionStore()
    checkpoint = selection.select_pool(selections, wave, pool, has_time)
    if not checkpoint.done:
        queues.send("selection", {"wave_id": wave_id, "pool": pool})
    elif selections.pools_done(wave_id, len(wave.pools())):
        store.set_selection(wave_id, SelectionState.DONE, {SelectionState.RUNNING})
        logger.info("selection done", extra={"wave_id": wave_id})
    return {"wave_id": wave_id, "pool": pool, "selected": checkpoint.selected, "done": checkpoint.done}
