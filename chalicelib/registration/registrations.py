"""Registering people, online one at a time and from office files many at once, and reading them back."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import date

from chalicelib.core import clock
from chalicelib.core.auth import Caller, ensure_province
from chalicelib.core.errors import Conflict, DomainError, Throttled, ValidationFailed
from chalicelib.core.observability import count, logger
from chalicelib.core.settings import programme, settings
from chalicelib.core.storage import derived_id, pii_key
from chalicelib.registration import rules
from chalicelib.registration.errors import (
    AlreadyRegistered,
    DuplicateEmail,
    DuplicateNik,
    DuplicatePhone,
    NotEligible,
    NotRegistered,
    ParticipantNotFound,
)
from chalicelib.registration.model import Account, Event, OfficeRow, Participant, Status
from chalicelib.registration.schemas import RegistrationRequest
from chalicelib.registration.stores import ledger, lists, participants
from chalicelib.registration.stores import registrations as store

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
        count("Registered")
        return participant
    existing = claimed.existing
    if existing is not None and existing.fingerprint == participant.fingerprint:
        return existing
    first = next(kind for kind in _DUPLICATES if kind in claimed.kinds)
    logger.info("registration refused", extra={"reason": first, "province_code": participant.province_code})
    count("RegistrationRefused")
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
        count("RegistrationThrottled")
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
    ensure_province(caller, found.province_code)
    registered = Event(
        at=found.registered_at,
        actor=found.registered_by,
        action="REGISTERED",
        status_from=None,
        status_to=Status.REGISTERED.value,
        details={"channel": found.channel},
    )
    return found, [registered, *ledger.events(participant_id)], lists.exclusions_of(found.nik)


def participant(participant_id: str) -> Participant:
    """Read consistently, as `own_record`: callers act on it (revoke, complete) and answer with it."""
    found = participants.participant(participant_id, consistent=True)
    if found is None:
        raise ParticipantNotFound()
    return found


def own_record(account: Account) -> Participant:
    """Read consistently: people act on what they just did (registered, applied, bought), and a
    stale copy would answer NOT_REGISTERED or fail a version check for nothing."""
    found = participants.participant(participant_id_for(account), consistent=True)
    if found is None:
        raise NotRegistered()
    return found
