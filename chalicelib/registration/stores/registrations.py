"""Writing new registrations: one online, many from an office file, and the refusals an account has had."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from pynamodb.attributes import NumberAttribute
from pynamodb.constants import ALL_OLD
from pynamodb.exceptions import UpdateError

from chalicelib.core.storage import Refused, UnitOfWork
from chalicelib.registration.model import Participant
from chalicelib.registration.stores.participants import (
    PROFILE,
    GuardRecord,
    ProfileRecord,
    guard_keys,
    participant_key,
    participant_of,
    profile_values,
    put_new,
)
from chalicelib.registration.stores.tables import JobItem


class Claimed(Exception):
    """Some of the participant's claims are held already; `existing` is the account's own record."""

    def __init__(self, kinds: set[str], existing: Participant | None) -> None:
        super().__init__(", ".join(sorted(kinds)))
        self.kinds, self.existing = kinds, existing


def _label(participant_id: str, kind: str) -> str:
    return f"{participant_id}#{kind}"


def _add_to(unit: UnitOfWork, participant: Participant, claims: dict[str, str]) -> None:
    """A registration's puts, the profile first, each refused if its key is taken; the profile's
    refusal hands back the account's own record (a retry is recognised without another read)."""
    profile = put_new(ProfileRecord, profile_values(participant))
    profile["ReturnValuesOnConditionCheckFailure"] = ALL_OLD
    unit.add_raw("put", profile, _label(participant.participant_id, "ACCOUNT"))
    for kind, key in claims.items():
        guard = put_new(GuardRecord, {"pk": key, "participant_id": participant.participant_id})
        unit.add_raw("put", guard, _label(participant.participant_id, kind))


def _claimed(refused: Refused, participant_id: str) -> Claimed | None:
    kinds = {label.partition("#")[2] for label in refused.labels if label.startswith(f"{participant_id}#")}
    if not kinds:
        return None
    old = refused.old.get(_label(participant_id, "ACCOUNT"))
    return Claimed(kinds, participant_of(ProfileRecord.from_raw_data(old)) if old else None)


def add_registration(participant: Participant) -> None:
    """The profile and its NIK, e-mail and phone guards, all or nothing, in one transaction.

    The profile's key is derived from the account, so the profile's own `attribute_not_exists`
    is the one-registration-per-account guard.
    """
    unit = UnitOfWork()
    _add_to(unit, participant, guard_keys(participant))
    try:
        unit.commit()
    except Refused as refused:
        claimed = _claimed(refused, participant.participant_id)
        if claimed is None:
            raise
        raise claimed from refused


# A transaction holds at most 100 items: 25 registrations of four items each.
_REGISTRATIONS_PER_TRANSACTION = 25


def add_registrations(participants: list[Participant]) -> list[Claimed | None]:
    """Many registrations with a handful of requests: one batched read of every claim and profile,
    then transactions of 25. Each gets None (written) or what `add_registration` would have raised.

    Claims are checked before writing, so a clash seldom cancels a transaction; when one does (an
    online registration took a claim in between), the clashing participants are taken out and the
    rest written again.
    """
    outcomes: dict[str, Claimed | None] = {}
    profiles = {
        record.participant_id: participant_of(record)
        for record in ProfileRecord.batch_get(
            [(participant_key(p.participant_id), PROFILE) for p in participants]
        )
    }
    claims = {p.participant_id: guard_keys(p) for p in participants}
    keys = {key for keys_of in claims.values() for key in keys_of.values()}
    holders = {record.pk: record.participant_id for record in GuardRecord.batch_get(list(keys))}
    writable: list[Participant] = []
    for candidate in participants:
        kinds = {
            kind
            for kind, key in claims[candidate.participant_id].items()
            if holders.get(key, candidate.participant_id) != candidate.participant_id
        }
        if candidate.participant_id in profiles:
            kinds.add("ACCOUNT")
        if kinds:
            outcomes[candidate.participant_id] = Claimed(kinds, profiles.get(candidate.participant_id))
            continue
        for key in claims[candidate.participant_id].values():
            holders[key] = candidate.participant_id
        writable.append(candidate)
    for start in range(0, len(writable), _REGISTRATIONS_PER_TRANSACTION):
        outcomes |= _write_registrations(writable[start : start + _REGISTRATIONS_PER_TRANSACTION], claims)
    return [outcomes[p.participant_id] for p in participants]


def _write_registrations(
    group: list[Participant], claims: dict[str, dict[str, str]]
) -> dict[str, Claimed | None]:
    outcomes: dict[str, Claimed | None] = {}
    while group:
        unit = UnitOfWork()
        for participant in group:
            _add_to(unit, participant, claims[participant.participant_id])
        try:
            unit.commit()
        except Refused as refused:
            # The account's own profile, written meanwhile (by another run of the same import, say):
            # `service` recognises its own registration in it, as for `add_registration`.
            clashing = {p.participant_id: _claimed(refused, p.participant_id) for p in group}
            if not any(clashing.values()):
                raise
            outcomes |= {participant_id: claimed for participant_id, claimed in clashing.items() if claimed}
            group = [p for p in group if clashing[p.participant_id] is None]
            continue
        outcomes |= dict.fromkeys((p.participant_id for p in group), None)
        group = []
    return outcomes


class _RefusalsRecord(JobItem):
    refusals = NumberAttribute()
    expires_at = NumberAttribute()


def count_refusal(participant_id: str, day: date, cap: int) -> bool:
    """Count one refused registration of the account whose participant would be `participant_id`
    on `day`; False, counting nothing, once `cap` are counted. Counters expire after two days."""
    expiry = datetime.combine(day + timedelta(days=2), datetime.min.time(), UTC)
    record = _RefusalsRecord(f"REFUSALS#{participant_id}", day.isoformat())
    actions: list[Any] = [
        _RefusalsRecord.refusals.add(1),
        _RefusalsRecord.expires_at.set(int(expiry.timestamp())),
    ]
    try:
        record.update(
            actions=actions,
            condition=_RefusalsRecord.refusals.does_not_exist() | (_RefusalsRecord.refusals < cap),
        )
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True
