"""The registration domain's only door to DynamoDB."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any

from pynamodb.attributes import (
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.constants import ALL_OLD
from pynamodb.exceptions import PutError, TransactWriteError, UpdateError
from pynamodb.expressions.update import Action
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.core import counters as stats
from chalicelib.core.settings import programme
from chalicelib.core.storage import (
    GuardItem,
    JobItem,
    OutboxItem,
    ParticipantItem,
    WaveItem,
    condition_failed,
    connection,
    pii_key,
    transaction,
)
from chalicelib.registration.model import (
    Event,
    Import,
    ImportKind,
    ImportStatus,
    Participant,
    SelectionState,
    Status,
    Verification,
    Wave,
)
from chalicelib.registration.selection import PARTITIONS, Checkpoint, Decision, StaleParticipant

# All waves share one partition: there are a handful a year, and listing them is one query.
WAVES_PARTITION = "WAVES"


class _WaveRecord(WaveItem):
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
    record = _WaveRecord(
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
        record.save(condition=_WaveRecord.pk.does_not_exist())
    except PutError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def _wave(record: _WaveRecord) -> Wave:
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


def waves() -> Iterator[Wave]:
    return (_wave(record) for record in _WaveRecord.query(WAVES_PARTITION))


def wave(wave_id: str) -> Wave | None:
    try:
        return _wave(_WaveRecord.get(WAVES_PARTITION, wave_id))
    except _WaveRecord.DoesNotExist:
        return None


def add_due_days(wave_id: str, deadline_days: set[date], expiry_days: set[date]) -> None:
    """Days on which people this wave selects fall due, so that the sweeps read those days alone."""
    recorded = ((_WaveRecord.deadline_days, deadline_days), (_WaveRecord.expiry_days, expiry_days))
    # DynamoDB has no empty sets.
    actions: list[Action] = [
        attribute.add({day.isoformat() for day in days}) for attribute, days in recorded if days
    ]
    if actions:
        _WaveRecord(WAVES_PARTITION, wave_id).update(actions=actions)


def set_selection(
    wave_id: str, state: SelectionState, expected: set[SelectionState], by: str | None = None
) -> bool:
    """Move a wave's selection to `state` if it is in one of the `expected` states."""
    record = _WaveRecord(WAVES_PARTITION, wave_id)
    actions: list[Action] = [_WaveRecord.selection.set(state.value)]
    if by is not None:
        actions.append(_WaveRecord.selection_requested_by.set(by))
    try:
        record.update(
            actions=actions,
            condition=_WaveRecord.pk.exists()
            & _WaveRecord.selection.is_in(*(state.value for state in expected)),
        )
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


# --- participants -------------------------------------------------------------------------------

PROFILE = "PROFILE"
# Pending identity checks are found through a sparse index spread over shards, so that no index
# partition takes every registration of a spike.
VERIFICATION_SHARDS = 16


def participant_key(participant_id: str) -> str:
    return f"P#{participant_id}"


def verification_shard_key(participant_id: str) -> str:
    return f"VERIFY#{int(participant_id[:4], 16) % VERIFICATION_SHARDS:02d}"


class _ProfileRecord(ParticipantItem):
    participant_id = UnicodeAttribute()
    status = UnicodeAttribute()
    verification = UnicodeAttribute()
    nik = UnicodeAttribute()
    kk_number = UnicodeAttribute()
    full_name = UnicodeAttribute()
    birth_date = UnicodeAttribute()
    gender = UnicodeAttribute()
    email = UnicodeAttribute(null=True)
    phone = UnicodeAttribute()
    province_code = UnicodeAttribute()
    regency_code = UnicodeAttribute()
    education = UnicodeAttribute()
    employment_status = UnicodeAttribute()
    declarations = JSONAttribute()
    registered_at = UTCDateTimeAttribute()
    registered_by = UnicodeAttribute()
    channel = UnicodeAttribute()
    fingerprint = UnicodeAttribute()
    wave_id = UnicodeAttribute(null=True)
    cohorts = JSONAttribute(default=list)
    verification_reason = UnicodeAttribute(null=True)
    verification_dispatched_at = UTCDateTimeAttribute(null=True)
    verification_asked_at = UTCDateTimeAttribute(null=True)
    selected_wave = UnicodeAttribute(null=True)
    balance = NumberAttribute(null=True)
    purchase_deadline = UTCDateTimeAttribute(null=True)
    balance_expires_at = UTCDateTimeAttribute(null=True)
    revocation_reason = UnicodeAttribute(null=True)
    version = NumberAttribute()


class _GuardRecord(GuardItem):
    pass


def _profile(participant: Participant) -> dict[str, Any]:
    """A new profile's attribute values by `_ProfileRecord`'s names: `_record` makes the model of them,
    `add_registration` serialises them straight into its request (see `_item`)."""
    values: dict[str, Any] = dict(
        pk=participant_key(participant.participant_id),
        sk=PROFILE,
        participant_id=participant.participant_id,
        status=participant.status.value,
        verification=participant.verification.value,
        nik=participant.nik,
        kk_number=participant.kk_number,
        full_name=participant.full_name,
        birth_date=participant.birth_date.isoformat(),
        gender=participant.gender,
        email=participant.email,
        phone=participant.phone,
        province_code=participant.province_code,
        regency_code=participant.regency_code,
        education=participant.education,
        employment_status=participant.employment_status,
        declarations=participant.declarations,
        registered_at=participant.registered_at,
        registered_by=participant.registered_by,
        channel=participant.channel,
        fingerprint=participant.fingerprint,
        wave_id=participant.wave_id,
        cohorts=list(participant.cohorts),
        version=participant.version,
    )
    if participant.verification is Verification.PENDING:
        values["gsi2pk"] = verification_shard_key(participant.participant_id)
        # In UTC, so that the index's string order is the order in time whatever the clock's zone.
        registered = participant.registered_at.astimezone(UTC).isoformat()
        values["gsi2sk"] = f"{registered}#{participant.participant_id}"
    return values


def _record(participant: Participant) -> _ProfileRecord:
    return _ProfileRecord(**_profile(participant))


def _participant(record: _ProfileRecord) -> Participant:
    return Participant(
        participant_id=record.participant_id,
        nik=record.nik,
        kk_number=record.kk_number,
        full_name=record.full_name,
        birth_date=date.fromisoformat(record.birth_date),
        gender=record.gender,
        email=record.email,
        phone=record.phone,
        province_code=record.province_code,
        regency_code=record.regency_code,
        education=record.education,
        employment_status=record.employment_status,
        declarations=dict(record.declarations),
        registered_at=record.registered_at,
        registered_by=record.registered_by,
        channel=record.channel,
        fingerprint=record.fingerprint,
        status=Status(record.status),
        verification=Verification(record.verification),
        wave_id=record.wave_id,
        cohorts=tuple(record.cohorts),
        selected_wave=record.selected_wave,
        balance=None if record.balance is None else int(record.balance),
        purchase_deadline=record.purchase_deadline,
        balance_expires_at=record.balance_expires_at,
        revocation_reason=record.revocation_reason,
        version=int(record.version),
    )


def guard_keys(participant: Participant) -> dict[str, str]:
    """The uniqueness claims a participant makes, by kind; keyed hashes, never the values."""
    claims = {"NIK": pii_key("NIK", participant.nik), "PHONE": pii_key("PHONE", participant.phone)}
    if participant.email:
        claims["EMAIL"] = pii_key("EMAIL", participant.email.lower())
    return claims


def registration_items(participant: Participant, claims: dict[str, str] | None = None) -> list[Model]:
    """The items a registration writes: the profile, then one guard per claim (`guard_keys`, unless
    the caller has computed them already: each is an HMAC)."""
    keys = guard_keys(participant) if claims is None else claims
    guards = [_GuardRecord(key, participant_id=participant.participant_id) for key in keys.values()]
    return [_record(participant), *guards]


class Claimed(Exception):
    """Some of the participant's claims are held already; `existing` is the account's own record."""

    def __init__(self, kinds: set[str], existing: Participant | None) -> None:
        super().__init__(", ".join(sorted(kinds)))
        self.kinds, self.existing = kinds, existing


def _item(model: type[Model], values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """`model(**values).serialize()` without building the model: the same attributes' own serialisers,
    defaults and null checks. Building the four models of a registration and serialising them cost
    as much CPU as the rest of the request besides the SDK call; this costs a fifth of that."""
    attributes = model.get_attributes()
    unknown = values.keys() - attributes.keys()
    if unknown:
        raise ValueError(f"Attribute {', '.join(sorted(unknown))} specified does not exist")
    item: dict[str, dict[str, Any]] = {}
    for name, attribute in attributes.items():
        if name in values:
            value = values[name]
        else:
            value = attribute.default() if callable(attribute.default) else attribute.default
        if value is None:
            if not attribute.null:
                raise ValueError(f"Attribute '{name}' cannot be None")
            continue
        item[attribute.attr_name] = {attribute.attr_type: attribute.serialize(value)}
    return item


@cache
def _absent(model: type[_ProfileRecord | _GuardRecord]) -> tuple[str, dict[str, str]]:
    """The condition `model.pk.does_not_exist()`, as PynamoDB writes it, serialised once."""
    names: dict[str, str] = {}
    expression = model.pk.does_not_exist().serialize(names, {})
    return expression, {placeholder: name for name, placeholder in names.items()}


def _put_new(model: type[_ProfileRecord | _GuardRecord], values: dict[str, Any]) -> dict[str, Any]:
    """A transaction's put of a new item: refused if an item with its key exists."""
    expression, names = _absent(model)
    return {
        "TableName": model.Meta.table_name,
        "Item": _item(model, values),
        "ConditionExpression": expression,
        "ExpressionAttributeNames": dict(names),
    }


def _registration_puts(participant: Participant, claims: dict[str, str]) -> list[dict[str, Any]]:
    """A registration's puts, the profile first, each refused if its key is taken."""
    guards = [{"pk": key, "participant_id": participant.participant_id} for key in claims.values()]
    return [
        _put_new(_ProfileRecord, _profile(participant)),
        *(_put_new(_GuardRecord, guard) for guard in guards),
    ]


def add_registration(participant: Participant) -> None:
    """The profile and its NIK, e-mail and phone guards, all or nothing, in one transaction.

    The profile's key is derived from the account, so the profile's own `attribute_not_exists`
    is the one-registration-per-account guard; a conflict returns the holder's record, so a
    retry of the same registration is recognised without another read.
    """
    claims = guard_keys(participant)
    puts = _registration_puts(participant, claims)
    puts[0]["ReturnValuesOnConditionCheckFailure"] = ALL_OLD
    try:
        connection().transact_write_items(
            condition_check_items=(), delete_items=(), put_items=puts, update_items=()
        )
    except TransactWriteError as error:
        reasons = error.cancellation_reasons
        if not reasons:
            raise
        kinds = {
            kind
            for kind, reason in zip(["ACCOUNT", *claims], reasons, strict=False)
            if reason is not None and reason.code == "ConditionalCheckFailed"
        }
        if not kinds:
            raise
        existing = None
        if "ACCOUNT" in kinds and reasons[0] is not None and reasons[0].raw_item:
            existing = _participant(_ProfileRecord.from_raw_data(reasons[0].raw_item))
        raise Claimed(kinds, existing) from error


class _RefusalsRecord(JobItem):
    refusals = NumberAttribute()
    expires_at = NumberAttribute()


def count_refusal(participant_id: str, day: date, cap: int) -> bool:
    """Count one refused registration of the account whose participant would be `participant_id`
    on `day`; False, counting nothing, once `cap` are counted. Counters expire after two days."""
    expiry = datetime.combine(day + timedelta(days=2), datetime.min.time(), UTC)
    record = _RefusalsRecord(f"REFUSALS#{participant_id}", day.isoformat())
    try:
        record.update(
            actions=[
                _RefusalsRecord.refusals.add(1),
                _RefusalsRecord.expires_at.set(int(expiry.timestamp())),
            ],
            condition=_RefusalsRecord.refusals.does_not_exist() | (_RefusalsRecord.refusals < cap),
        )
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


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
        record.participant_id: _participant(record)
        for record in _ProfileRecord.batch_get(
            [(participant_key(p.participant_id), PROFILE) for p in participants]
        )
    }
    claims = {p.participant_id: guard_keys(p) for p in participants}
    keys = {key for keys_of in claims.values() for key in keys_of.values()}
    holders = {record.pk: record.participant_id for record in _GuardRecord.batch_get(list(keys))}
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
        owners = [(p, kind) for p in group for kind in ("ACCOUNT", *claims[p.participant_id])]
        puts = []
        for p in group:
            own = _registration_puts(p, claims[p.participant_id])
            own[0]["ReturnValuesOnConditionCheckFailure"] = ALL_OLD
            puts += own
        try:
            connection().transact_write_items(
                condition_check_items=(), delete_items=(), put_items=puts, update_items=()
            )
        except TransactWriteError as error:
            if not condition_failed(error):
                raise
            clashing: dict[str, set[str]] = {}
            # The account's own profile, written meanwhile (by another run of the same import, say):
            # `service` recognises its own registration in it, as `add_registration` does.
            existing: dict[str, Participant] = {}
            for (p, kind), reason in zip(owners, error.cancellation_reasons, strict=False):
                if reason is not None and reason.code == "ConditionalCheckFailed":
                    clashing.setdefault(p.participant_id, set()).add(kind)
                    if kind == "ACCOUNT" and reason.raw_item:
                        existing[p.participant_id] = _participant(
                            _ProfileRecord.from_raw_data(reason.raw_item)
                        )
            for p in group:
                if p.participant_id in clashing:
                    outcomes[p.participant_id] = Claimed(
                        clashing[p.participant_id], existing.get(p.participant_id)
                    )
            group = [p for p in group if p.participant_id not in clashing]
            continue
        outcomes |= dict.fromkeys((p.participant_id for p in group), None)
        group = []
    return outcomes


def participant(participant_id: str, consistent: bool = False) -> Participant | None:
    try:
        record = _ProfileRecord.get(participant_key(participant_id), PROFILE, consistent_read=consistent)
        return _participant(record)
    except _ProfileRecord.DoesNotExist:
        return None


# --- applications and the audit trail ----------------------------------------------------------

EVENT_PREFIX = "EVENT#"


class _EventRecord(ParticipantItem):
    at = UTCDateTimeAttribute()
    actor = UnicodeAttribute()
    action = UnicodeAttribute()
    status_from = UnicodeAttribute(null=True)
    status_to = UnicodeAttribute(null=True)
    reason = UnicodeAttribute(null=True)
    details = JSONAttribute(default=dict)


class _ApplicationRecord(WaveItem):
    participant_id = UnicodeAttribute()
    wave_id = UnicodeAttribute()
    pool = UnicodeAttribute()
    applied_at = UTCDateTimeAttribute()


def _event_record(participant_id: str, event: Event) -> _EventRecord:
    return _EventRecord(
        participant_key(participant_id),
        f"{EVENT_PREFIX}{event.at.isoformat()}#{uuid.uuid4().hex[:8]}",
        at=event.at,
        actor=event.actor,
        action=event.action,
        status_from=event.status_from,
        status_to=event.status_to,
        reason=event.reason,
        details=event.details,
    )


def application_key(wave_id: str, participant_id: str) -> str:
    return f"APP#{wave_id}#{participant_id}"


def applicants_key(wave_id: str, pool: str, priority: bool, rank: str) -> str:
    """The index partition an application lives in: by wave, pool, priority, and rank's first digit.

    Splitting by the rank's first hex digit spreads a spike's writes over 16 index partitions per
    pool, and reading the partitions 0…f in turn still yields the whole pool in rank order.
    """
    return f"APPLICANTS#{wave_id}#{pool}#{'P' if priority else 'N'}{rank[0]}"


def add_application(participant: Participant, wave: Wave, rank: str, priority: bool, event: Event) -> None:
    """The participant's move to APPLIED, their application, and the audit event, all or nothing."""
    pool = wave.pool_of(participant.province_code)
    application = _ApplicationRecord(
        application_key(wave.wave_id, participant.participant_id),
        "APPLICATION",
        participant_id=participant.participant_id,
        wave_id=wave.wave_id,
        pool=pool,
        applied_at=event.at,
    )
    application.gsi1pk = applicants_key(wave.wave_id, pool, priority, rank)
    application.gsi1sk = f"{rank}#{participant.participant_id}"
    profile = _ProfileRecord(participant_key(participant.participant_id), PROFILE)
    try:
        with TransactWrite(connection=connection()) as transaction:
            transaction.update(
                profile,
                actions=[
                    _ProfileRecord.status.set(Status.APPLIED.value),
                    _ProfileRecord.wave_id.set(wave.wave_id),
                    _ProfileRecord.version.add(1),
                ],
                condition=_ProfileRecord.version == participant.version,
            )
            transaction.save(application, condition=_ApplicationRecord.pk.does_not_exist())
            transaction.save(_event_record(participant.participant_id, event))
            stats.add_in(
                transaction,
                stats.province_scope(participant.province_code),
                participant.participant_id,
                {"applied": 1},
            )
    except TransactWriteError as error:
        if condition_failed(error):
            raise StaleParticipant(participant.participant_id) from error
        raise


def events(participant_id: str) -> list[Event]:
    return [
        Event(
            at=record.at,
            actor=record.actor,
            action=record.action,
            status_from=record.status_from,
            status_to=record.status_to,
            reason=record.reason,
            details=dict(record.details),
        )
        for record in _EventRecord.query(
            participant_key(participant_id), _EventRecord.sk.startswith(EVENT_PREFIX)
        )
    ]


# --- selection ---------------------------------------------------------------------------------

DEADLINE_SHARDS = 16


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


class _CheckpointRecord(JobItem):
    version = NumberAttribute()
    partition = NumberAttribute()
    start_key = UnicodeAttribute(null=True)
    selected = NumberAttribute()
    examined = NumberAttribute()


class _FamilyRecord(GuardItem):
    recipients = NumberAttribute(null=True)


class _NotificationRecord(OutboxItem):
    participant_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    details = JSONAttribute(default=dict)
    created_at = UTCDateTimeAttribute()


OUTBOX_SHARDS = 16


def _notification(
    participant_id: str, kind: str, topic: str, details: dict[str, str], at: datetime
) -> _NotificationRecord:
    """One notification per participant and topic: the key makes re-sending it a no-op."""
    record = _NotificationRecord(
        f"NOTIFY#{participant_id}",
        topic,
        participant_id=participant_id,
        kind=kind,
        details=details,
        created_at=at,
    )
    record.gsi1pk = f"PENDING#{int(participant_id[:4], 16) % OUTBOX_SHARDS:02d}"
    record.gsi1sk = f"{at.isoformat()}#{participant_id}"
    return record


def _decided_in(participant: Participant, wave_id: str) -> Any:
    return (
        (_ProfileRecord.version == participant.version)
        & (_ProfileRecord.status == Status.APPLIED.value)
        & (_ProfileRecord.wave_id == wave_id)
    )


class DynamoSelectionStore:
    """Selection's storage: applications through the waves index, decisions as transactions."""

    def checkpoint(self, wave_id: str, pool: str) -> Checkpoint | None:
        """Read consistently, as every checkpoint here: a continuation starts right after the save of
        the run that sent it, and an eventually consistent read could still return the state before
        it, whose save would then be refused as stale."""
        try:
            record = _CheckpointRecord.get(f"SELECTION#{wave_id}", f"POOL#{pool}", consistent_read=True)
        except _CheckpointRecord.DoesNotExist:
            return None
        return Checkpoint(
            wave_id,
            pool,
            int(record.partition),
            record.start_key,
            int(record.selected),
            int(record.examined),
            int(record.version),
        )

    def save_checkpoint(self, checkpoint: Checkpoint) -> Checkpoint:
        saved = replace(checkpoint, version=checkpoint.version + 1)
        record = _CheckpointRecord(
            f"SELECTION#{checkpoint.wave_id}",
            f"POOL#{checkpoint.pool}",
            version=saved.version,
            partition=checkpoint.partition,
            start_key=checkpoint.start_key,
            selected=checkpoint.selected,
            examined=checkpoint.examined,
        )
        first = checkpoint.version == 0
        record.save(
            condition=_CheckpointRecord.pk.does_not_exist()
            if first
            else _CheckpointRecord.version == checkpoint.version
        )
        return saved

    def pools_done(self, wave_id: str, pools: int) -> bool:
        """Each pool asks after saving its last checkpoint: of two that finish at once, the later
        one's consistent read sees both, where eventually consistent ones could leave the wave
        RUNNING for good."""
        done = [
            record
            for record in _CheckpointRecord.query(f"SELECTION#{wave_id}", consistent_read=True)
            if int(record.partition) >= len(PARTITIONS)
        ]
        return len(done) >= pools

    def applicants(
        self, wave_id: str, pool: str, partition: tuple[bool, str], start_key: str | None, limit: int
    ) -> tuple[list[str], str | None]:
        priority, digit = partition
        results = _ApplicationRecord.gsi1.query(
            applicants_key(wave_id, pool, priority, digit),
            limit=limit,
            last_evaluated_key=json.loads(start_key) if start_key else None,
        )
        ids = [record.participant_id for record in results]
        last = results.last_evaluated_key
        return ids, json.dumps(last) if last else None

    def participants(self, participant_ids: list[str]) -> dict[str, Participant]:
        keys = [(participant_key(participant_id), PROFILE) for participant_id in participant_ids]
        return {record.participant_id: _participant(record) for record in _ProfileRecord.batch_get(keys)}

    def excluded(self, participants: list[Participant]) -> set[str]:
        """Who is on a list in a version that counts (see `exclusion_versions`): an older upload of
        a list no longer does."""
        versions = exclusion_versions()
        by_key = {
            exclusion_key(participant.nik, name): participant.participant_id
            for participant in participants
            for name in versions
        }
        return {
            by_key[record.pk]
            for record in _ExclusionRecord.batch_get(list(by_key))
            if record.uploads() & set(versions.get(record.list_name, ()))
        }

    def record_selection(self, decision: Decision, family_cap: int) -> bool:
        participant, deadline = decision.participant, decision.purchase_deadline
        expires = decision.balance_expires_at
        assert deadline is not None and expires is not None
        wave_id = str(decision.event.details["wave_id"])
        family = _FamilyRecord(pii_key("KK", participant.kk_number))
        try:
            with TransactWrite(connection=connection()) as transaction:
                transaction.update(
                    _ProfileRecord(participant_key(participant.participant_id), PROFILE),
                    actions=[
                        _ProfileRecord.status.set(Status.SELECTED.value),
                        _ProfileRecord.selected_wave.set(wave_id),
                        _ProfileRecord.balance.set(decision.balance),
                        _ProfileRecord.purchase_deadline.set(deadline),
                        _ProfileRecord.balance_expires_at.set(expires),
                        _ProfileRecord.gsi1pk.set(deadline_key(deadline, participant.participant_id)),
                        _ProfileRecord.gsi1sk.set(participant.participant_id),
                        _ProfileRecord.version.add(1),
                    ],
                    condition=_decided_in(participant, wave_id),
                )
                transaction.update(
                    family,
                    actions=[_FamilyRecord.recipients.add(1)],
                    condition=_FamilyRecord.recipients.does_not_exist()
                    | (_FamilyRecord.recipients < family_cap),
                )
                transaction.save(_event_record(participant.participant_id, decision.event))
                for scope in (
                    stats.province_scope(participant.province_code),
                    stats.wave_scope(wave_id, participant.province_code),
                ):
                    stats.add_in(transaction, scope, participant.participant_id, {"selected": 1})
                transaction.save(
                    _notification(
                        participant.participant_id,
                        "SELECTED",
                        f"WAVE#{wave_id}",
                        {"wave_id": wave_id},
                        decision.event.at,
                    )
                )
        except TransactWriteError as error:
            reasons = error.cancellation_reasons
            # pynamodb sends puts before updates, in order: the two puts (event, notification), then
            # the profile, the family card, and the counters (which have no condition).
            if len(reasons) > 3 and reasons[3] is not None and reasons[2] is None:
                return False
            if condition_failed(error):
                raise StaleParticipant(participant.participant_id) from error
            raise
        return True

    def record_rejection(self, decision: Decision) -> None:
        participant = decision.participant
        wave_id = str(decision.event.details["wave_id"])
        try:
            with TransactWrite(connection=connection()) as transaction:
                transaction.update(
                    _ProfileRecord(participant_key(participant.participant_id), PROFILE),
                    actions=[
                        _ProfileRecord.status.set(Status.NOT_SELECTED.value),
                        _ProfileRecord.version.add(1),
                    ],
                    condition=_decided_in(participant, wave_id),
                )
                transaction.save(_event_record(participant.participant_id, decision.event))
                transaction.save(
                    _notification(
                        participant.participant_id,
                        "NOT_SELECTED",
                        f"WAVE#{wave_id}",
                        {"wave_id": wave_id, "reason": decision.reason or ""},
                        decision.event.at,
                    )
                )
        except TransactWriteError as error:
            if condition_failed(error):
                raise StaleParticipant(participant.participant_id) from error
            raise


# --- identity verification ---------------------------------------------------------------------


def record_verification(
    participant: Participant, outcome: Verification, reason: str | None, event: Event
) -> bool:
    """Store the registry's answer once; False if the participant was already decided (or is gone).

    The province's `registered` figure moves here, once per person, rather than on the
    registration's own hot path: exact as soon as the identity checks have caught up.
    """
    participant_id = participant.participant_id
    try:
        with TransactWrite(connection=connection()) as transaction:
            stats.add_in(
                transaction,
                stats.province_scope(participant.province_code),
                participant_id,
                {"registered": 1},
            )
            transaction.update(
                _ProfileRecord(participant_key(participant_id), PROFILE),
                actions=[
                    _ProfileRecord.verification.set(outcome.value),
                    _ProfileRecord.verification_reason.set(reason)
                    if reason
                    else _ProfileRecord.verification_reason.remove(),
                    _ProfileRecord.gsi2pk.remove(),
                    _ProfileRecord.gsi2sk.remove(),
                    _ProfileRecord.version.add(1),
                ],
                condition=_ProfileRecord.verification == Verification.PENDING.value,
            )
            transaction.save(_event_record(participant_id, event))
    except TransactWriteError as error:
        if condition_failed(error):
            return False
        raise
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
            "pk": {"S": participant_key(participant_id)},
            "sk": {"S": PROFILE},
        }
    results = _ProfileRecord.gsi2.query(
        partition,
        _ProfileRecord.gsi2sk < _dispatched_until(now),
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
            _ProfileRecord(participant_key(participant_id), PROFILE).update(
                actions=[
                    _ProfileRecord.gsi2sk.set(f"{_dispatched_until(until)}#{participant_id}"),
                    _ProfileRecord.verification_dispatched_at.set(at),
                    _ProfileRecord.verification_asked_at.remove(),
                ],
                condition=(_ProfileRecord.verification == Verification.PENDING.value)
                & (_ProfileRecord.gsi2sk == position),
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
    record = _ProfileRecord(participant_key(participant_id), PROFILE)
    try:
        record.update(
            actions=[_ProfileRecord.verification_asked_at.set(at)],
            condition=(_ProfileRecord.verification == Verification.PENDING.value)
            & _ProfileRecord.verification_asked_at.does_not_exist(),
        )
    except UpdateError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise
        return None
    return _participant(record)


def give_back_lookup(participant_id: str, taken_at: datetime) -> None:
    """Give back a lookup the registry did not answer, so that the message's retry may ask again."""
    try:
        _ProfileRecord(participant_key(participant_id), PROFILE).update(
            actions=[_ProfileRecord.verification_asked_at.remove()],
            condition=(_ProfileRecord.verification == Verification.PENDING.value)
            & (_ProfileRecord.verification_asked_at == taken_at),
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


# --- imports -----------------------------------------------------------------------------------


class _ImportRecord(JobItem):
    kind = UnicodeAttribute()
    province = UnicodeAttribute()
    filename = UnicodeAttribute()
    requested_by = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute(null=True)
    status = UnicodeAttribute()
    counts = JSONAttribute(default=dict)
    codes = JSONAttribute(default=dict)
    reason = UnicodeAttribute(null=True)
    columns = JSONAttribute(default=list)
    delimiter = UnicodeAttribute(default=",")
    offset = NumberAttribute(default=0)
    rows = NumberAttribute(default=0)
    parts = NumberAttribute(default=0)
    lists = JSONAttribute(default=list)
    version = NumberAttribute(default=0)
    upload_version = UnicodeAttribute(null=True)


# Imports not yet DONE or REJECTED, one marker each, so that the watchdog reads them alone.
_ACTIVE_IMPORTS = "IMPORTS#ACTIVE"


class _ActiveImportRecord(JobItem):
    pass


def add_import(batch: Import) -> None:
    save_import(batch)


class StaleImport(Exception):
    """The import moved on since it was read (another run of it got there first)."""


def save_import(batch: Import) -> Import:
    """Store the import's new state if nobody else moved it since it was read; raises otherwise.

    The first save marks the import active and the save that finishes it takes the mark away,
    in the same transaction as the state.
    """
    saved = replace(batch, version=batch.version + 1)
    record = _ImportRecord(
        f"IMPORT#{batch.import_id}",
        "STATE",
        kind=batch.kind.value,
        province=batch.province,
        filename=batch.filename,
        requested_by=batch.requested_by,
        created_at=batch.created_at,
        updated_at=batch.updated_at or batch.created_at,
        status=batch.status.value,
        counts=dict(batch.counts),
        codes=dict(batch.codes),
        reason=batch.reason,
        columns=list(batch.columns),
        delimiter=batch.delimiter,
        offset=batch.offset,
        rows=batch.rows,
        parts=batch.parts,
        lists=list(batch.lists),
        version=saved.version,
        upload_version=batch.upload_version,
    )
    first = batch.version == 0
    condition = _ImportRecord.pk.does_not_exist() if first else _ImportRecord.version == batch.version
    marker = _ActiveImportRecord(_ACTIVE_IMPORTS, batch.import_id)
    finished = batch.status in (ImportStatus.DONE, ImportStatus.REJECTED)
    try:
        if not (first or finished):
            record.save(condition=condition)
            return saved
        with transaction() as writes:
            writes.save(record, condition=condition)
            if finished:
                writes.delete(marker)
            else:
                writes.save(marker)
    except PutError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            raise StaleImport(batch.import_id) from error
        raise
    except TransactWriteError as error:
        if condition_failed(error):
            raise StaleImport(batch.import_id) from error
        raise
    return saved


def active_imports() -> list[str]:
    """The ids of the imports that are neither DONE nor REJECTED (and, briefly, of some just finished)."""
    return [record.sk for record in _ActiveImportRecord.query(_ACTIVE_IMPORTS, consistent_read=True)]


def forget_active_import(import_id: str) -> None:
    _ActiveImportRecord(_ACTIVE_IMPORTS, import_id).delete()


def import_batch(import_id: str) -> Import | None:
    """Read consistently: each continuation starts from the checkpoint its sender saved just before,
    and a stale one would make its own save stale, ending the import's chain of runs unfinished."""
    try:
        record = _ImportRecord.get(f"IMPORT#{import_id}", "STATE", consistent_read=True)
    except _ImportRecord.DoesNotExist:
        return None
    return Import(
        import_id=import_id,
        kind=ImportKind(record.kind),
        province=record.province,
        filename=record.filename,
        requested_by=record.requested_by,
        created_at=record.created_at,
        updated_at=record.updated_at,
        status=ImportStatus(record.status),
        counts={name: int(count) for name, count in record.counts.items()},
        codes={code: int(count) for code, count in record.codes.items()},
        reason=record.reason,
        columns=tuple(record.columns),
        delimiter=record.delimiter,
        offset=int(record.offset),
        rows=int(record.rows),
        parts=int(record.parts),
        lists=tuple(record.lists),
        version=int(record.version),
        upload_version=record.upload_version,
    )


# --- cohorts and exclusion lists ---------------------------------------------------------------


class _ExclusionRecord(GuardItem):
    list_name = UnicodeAttribute()
    # Every upload of the list that carried the person: a new upload adds itself rather than
    # replacing the one in force, which must still find them until the new one is done.
    import_ids = UnicodeSetAttribute(null=True)
    # The one upload of an entry written before uploads were kept side by side.
    import_id = UnicodeAttribute(null=True)

    def uploads(self) -> set[str]:
        return {*(self.import_ids or ()), *([self.import_id] if self.import_id else [])}


def exclusion_key(nik: str, list_name: str) -> str:
    return f"{pii_key('EXCLUDED', nik)}#{list_name}"


class _ListRecord(JobItem):
    import_id = UnicodeAttribute(null=True)
    incoming = UnicodeSetAttribute(null=True)


def holder_of(kind: str, value: str) -> str | None:
    """The participant holding a uniqueness claim (`holder_of("NIK", nik)`), if anyone does."""
    try:
        return str(_GuardRecord.get(pii_key(kind, value)).participant_id)
    except _GuardRecord.DoesNotExist:
        return None


def tag_cohort(participant_id: str, cohort: str, event: Event, priority_cohorts: tuple[str, ...]) -> bool:
    """Add the cohort to the participant's cohorts, once; with its audit event.

    A cohort in `priority_cohorts` also moves the participant's open application into its pool's
    priority partitions (`_prioritised`), in the same transaction, so that the wave's selection
    sees them first, as if they had been tagged before applying. True if an application moved.
    """
    for _ in range(3):
        found = participant(participant_id)
        if found is None or cohort in found.cohorts:
            return False
        application = _prioritised(found) if cohort in priority_cohorts else None
        try:
            with TransactWrite(connection=connection()) as transaction:
                transaction.update(
                    _ProfileRecord(participant_key(participant_id), PROFILE),
                    actions=[
                        _ProfileRecord.cohorts.set([*found.cohorts, cohort]),
                        _ProfileRecord.version.add(1),
                    ],
                    condition=_ProfileRecord.version == found.version,
                )
                transaction.save(_event_record(participant_id, event))
                stats.count_cohort_in(transaction, found.province_code, cohort, participant_id)
                if application is not None:
                    record, partition = application
                    transaction.update(
                        record,
                        actions=[_ApplicationRecord.gsi1pk.set(partition)],
                        condition=_ApplicationRecord.gsi1pk == record.gsi1pk,
                    )
                    # A selection that has started may have read the priority partitions already:
                    # moving the application there then would hide it from the selection for good.
                    transaction.condition_check(
                        _WaveRecord,
                        WAVES_PARTITION,
                        record.wave_id,
                        condition=_WaveRecord.selection == SelectionState.NOT_STARTED.value,
                    )
            return application is not None
        except TransactWriteError as error:
            if not condition_failed(error):
                raise
    raise StaleParticipant(participant_id)


def _prioritised(found: Participant) -> tuple[_ApplicationRecord, str] | None:
    """The participant's open application and the priority partition it belongs in, if it is not
    there yet and its wave's selection has not started (after that, the priority counts from the
    next wave they apply to). Read again on every attempt of `tag_cohort`, so a selection asked
    for in between is seen, and the transaction's check on the wave catches the rest."""
    if found.status is not Status.APPLIED or found.wave_id is None:
        return None
    applied_to = wave(found.wave_id)
    if applied_to is None or applied_to.selection is not SelectionState.NOT_STARTED:
        return None
    try:
        record = _ApplicationRecord.get(application_key(found.wave_id, found.participant_id), "APPLICATION")
    except _ApplicationRecord.DoesNotExist:
        return None
    if record.gsi1sk is None:
        return None
    partition = applicants_key(record.wave_id, record.pool, True, record.gsi1sk.partition("#")[0])
    return None if record.gsi1pk == partition else (record, partition)


EXCLUSION_LISTS = "EXCLUSION_LISTS"


def open_exclusion_lists(list_names: set[str], import_id: str) -> None:
    """The upload counts for each list it carries from before its first person on it is written,
    beside the list's current version, until it is done: while a list is replaced, the people on
    either version are excluded (excluding more for a while is the safe direction)."""
    for name in list_names:
        _ListRecord(EXCLUSION_LISTS, name).update(actions=[_ListRecord.incoming.add({import_id})])


def add_exclusion(nik: str, list_name: str, import_id: str) -> None:
    """Put the person on `list_name` as uploaded by `import_id`, beside the uploads that put them
    on it before."""
    _ExclusionRecord(exclusion_key(nik, list_name)).update(
        actions=[_ExclusionRecord.list_name.set(list_name), _ExclusionRecord.import_ids.add({import_id})]
    )


def activate_exclusion_lists(list_names: set[str], import_id: str) -> None:
    """A finished upload becomes the current version of each list it carried, and the one it
    replaces stops counting, in one write per list."""
    for name in list_names:
        _ListRecord(EXCLUSION_LISTS, name).update(
            actions=[_ListRecord.import_id.set(import_id), _ListRecord.incoming.delete({import_id})]
        )


def exclusion_versions() -> dict[str, tuple[str, ...]]:
    """The uploads of each list that count, its current version first, then any still running;
    revoked people are always on one. A read that misses the latest switch counts an upload
    more, never one fewer."""
    versions = {
        record.sk: (*([record.import_id] if record.import_id else []), *sorted(record.incoming or ()))
        for record in _ListRecord.query(EXCLUSION_LISTS)
    }
    return {**versions, REVOKED_LIST: (REVOCATION_SOURCE,)}


def exclusions_of(nik: str) -> dict[str, str]:
    """The lists the person is on in a version that counts, with the upload it came from (the
    current version, if it carries them)."""
    versions = exclusion_versions()
    records = _ExclusionRecord.batch_get([exclusion_key(nik, name) for name in versions])
    found = {}
    for record in records:
        uploads = record.uploads()
        counting = [upload for upload in versions.get(record.list_name, ()) if upload in uploads]
        if counting:
            found[record.list_name] = counting[0]
    return found


# --- for later stages: what their transactions write beside their own items -------------------

# Revoked people are on this list for every later wave; no upload can replace it.
REVOKED_LIST = "REVOKED"
REVOCATION_SOURCE = "REVOCATION"


def event_item(participant_id: str, event: Event) -> Model:
    """An audit event, to be written in the same transaction as the change it records."""
    return _event_record(participant_id, event)


def notification_item(
    participant_id: str, kind: str, topic: str, details: dict[str, str], at: datetime
) -> Model:
    """A notification for the outbox, once per participant and topic."""
    return _notification(participant_id, kind, topic, details, at)


def revoked_item(nik: str) -> Model:
    """The revoked person's entry on the `REVOKED` exclusion list."""
    return _ExclusionRecord(
        exclusion_key(nik, REVOKED_LIST), list_name=REVOKED_LIST, import_ids={REVOCATION_SOURCE}
    )


def due_participants(key: str, start_key: str | None, limit: int) -> tuple[list[Participant], str | None]:
    """One page of the participants waiting under a `due_key`; the index holds whole profiles."""
    results = _ProfileRecord.gsi1.query(
        key, limit=limit, last_evaluated_key=json.loads(start_key) if start_key else None
    )
    found = [_participant(record) for record in results]
    last = results.last_evaluated_key
    return found, json.dumps(last) if last else None
