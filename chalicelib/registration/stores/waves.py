"""Waves and the applications to them."""

from __future__ import annotations

from datetime import date

from pynamodb.attributes import (
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import PutError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from chalicelib.core.storage import Refused, UnitOfWork
from chalicelib.registration import figures
from chalicelib.registration.model import Event, Participant, SelectionState, Status, Wave
from chalicelib.registration.selection import StaleParticipant
from chalicelib.registration.stores import ledger
from chalicelib.registration.stores.participants import ProfileRecord, profile
from chalicelib.registration.stores.tables import WaveItem

# All waves share one partition: there are a handful a year, and listing them is one query.
WAVES_PARTITION = "WAVES"


class WaveRecord(WaveItem):
    opens_at = UTCDateTimeAttribute()
    closes_at = UTCDateTimeAttribute()
    quota = NumberAttribute()
    province_quotas = JSONAttribute(default=dict)
    created_by = UnicodeAttribute()
    seed = UnicodeAttribute()
    selection = UnicodeAttribute(default=SelectionState.NOT_STARTED.value)
    selection_requested_by = UnicodeAttribute(null=True)
    deadline_days = UnicodeSetAttribute(null=True)
    expiry_days = UnicodeSetAttribute(null=True)


def add_wave(wave: Wave, created_by: str) -> bool:
    """Store a new wave; False if one with that id exists already."""
    record = WaveRecord(
        WAVES_PARTITION,
        wave.wave_id,
        opens_at=wave.opens_at,
        closes_at=wave.closes_at,
        quota=wave.quota,
        province_quotas=dict(wave.province_quotas),
        created_by=created_by,
        seed=wave.seed,
        selection=wave.selection.value,
    )
    try:
        record.save(condition=WaveRecord.pk.does_not_exist())
    except PutError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def _wave(record: WaveRecord) -> Wave:
    return Wave(
        wave_id=record.sk,
        opens_at=record.opens_at,
        closes_at=record.closes_at,
        quota=int(record.quota),
        province_quotas={code: int(value) for code, value in record.province_quotas.items()},
        seed=record.seed,
        selection=SelectionState(record.selection),
        deadline_days=tuple(sorted(date.fromisoformat(day) for day in record.deadline_days or ())),
        expiry_days=tuple(sorted(date.fromisoformat(day) for day in record.expiry_days or ())),
    )


def waves() -> list[Wave]:
    return [_wave(record) for record in WaveRecord.query(WAVES_PARTITION)]


def wave(wave_id: str) -> Wave | None:
    try:
        return _wave(WaveRecord.get(WAVES_PARTITION, wave_id))
    except WaveRecord.DoesNotExist:
        return None


def add_due_days(wave_id: str, deadline_days: set[date], expiry_days: set[date]) -> None:
    """Days on which people this wave selects fall due, so that the sweeps read those days alone."""
    recorded = ((WaveRecord.deadline_days, deadline_days), (WaveRecord.expiry_days, expiry_days))
    # DynamoDB has no empty sets.
    actions: list[Action] = [
        attribute.add({day.isoformat() for day in days}) for attribute, days in recorded if days
    ]
    if actions:
        WaveRecord(WAVES_PARTITION, wave_id).update(actions=actions)


def set_selection(
    wave_id: str, state: SelectionState, expected: set[SelectionState], by: str | None = None
) -> bool:
    """Move a wave's selection to `state` if it is in one of the `expected` states."""
    record = WaveRecord(WAVES_PARTITION, wave_id)
    actions: list[Action] = [WaveRecord.selection.set(state.value)]
    if by is not None:
        actions.append(WaveRecord.selection_requested_by.set(by))
    try:
        record.update(
            actions=actions,
            condition=WaveRecord.pk.exists()
            & WaveRecord.selection.is_in(*(state.value for state in expected)),
        )
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def not_selecting(unit: UnitOfWork, wave_id: str) -> None:
    """A condition of `unit`: the wave's selection has not started."""
    unit.check(
        WaveRecord,
        WAVES_PARTITION,
        wave_id,
        condition=WaveRecord.selection == SelectionState.NOT_STARTED.value,
        label="wave",
    )


# --- applications -------------------------------------------------------------------------------


class ApplicationRecord(WaveItem):
    participant_id = UnicodeAttribute()
    wave_id = UnicodeAttribute()
    pool = UnicodeAttribute()
    applied_at = UTCDateTimeAttribute()


def application_key(wave_id: str, participant_id: str) -> str:
    return f"APP#{wave_id}#{participant_id}"


def applicants_key(wave_id: str, pool: str, priority: bool, rank: str) -> str:
    """The index partition an application lives in: by wave, pool, priority, and rank's first digit.

    Splitting by the rank's first hex digit spreads a spike's writes over 16 index partitions per
    pool, and reading the partitions 0…f in turn still yields the whole pool in rank order.
    """
    return f"APPLICANTS#{wave_id}#{pool}#{'P' if priority else 'N'}{rank[0]}"


def unchanged(participant: Participant) -> Condition:
    """The profile is still as `participant` was read."""
    return ProfileRecord.version == participant.version


def add_application(participant: Participant, wave: Wave, rank: str, priority: bool, event: Event) -> None:
    """The participant's move to APPLIED, their application, and the audit event, all or nothing."""
    pool = wave.pool_of(participant.province_code)
    application = ApplicationRecord(
        application_key(wave.wave_id, participant.participant_id),
        "APPLICATION",
        participant_id=participant.participant_id,
        wave_id=wave.wave_id,
        pool=pool,
        applied_at=event.at,
    )
    application.gsi1pk = applicants_key(wave.wave_id, pool, priority, rank)
    application.gsi1sk = f"{rank}#{participant.participant_id}"
    unit = UnitOfWork()
    unit.update(
        profile(participant.participant_id),
        actions=[
            ProfileRecord.status.set(Status.APPLIED.value),
            ProfileRecord.wave_id.set(wave.wave_id),
            ProfileRecord.version.add(1),
        ],
        condition=unchanged(participant),
    )
    unit.put(application, condition=ApplicationRecord.pk.does_not_exist())
    ledger.record(unit, participant.participant_id, event)
    figures.count_applied(unit, participant, event.at)
    try:
        unit.commit()
    except Refused as refused:
        raise StaleParticipant(participant.participant_id) from refused


def open_application(found: Participant) -> ApplicationRecord | None:
    """The participant's application to the wave they stand applied to, if they do."""
    if found.status is not Status.APPLIED or found.wave_id is None:
        return None
    try:
        return ApplicationRecord.get(application_key(found.wave_id, found.participant_id), "APPLICATION")
    except ApplicationRecord.DoesNotExist:
        return None
