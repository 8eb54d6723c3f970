"""The participant's profile and its uniqueness guards: the one mapping between the stored item and
the domain's `Participant`, and the reads everyone needs.

Only registration knows this layout. Other domains (training's purchases and revocations) change
a participant through `registration.service`, whose functions add this module's writes to their
unit of work.
"""

from __future__ import annotations

from datetime import UTC, date
from functools import cache
from typing import Any

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from chalicelib.core.storage import pii_key
from chalicelib.registration.model import Participant, Status, Verification
from chalicelib.registration.stores.tables import GuardItem, ParticipantItem

PROFILE = "PROFILE"
# Pending identity checks are found through a sparse index spread over shards, so that no index
# partition takes every registration of a spike.
VERIFICATION_SHARDS = 16


def participant_key(participant_id: str) -> str:
    return f"P#{participant_id}"


def verification_shard_key(participant_id: str) -> str:
    return f"VERIFY#{int(participant_id[:4], 16) % VERIFICATION_SHARDS:02d}"


def province_entry(participant: Participant) -> tuple[str, str]:
    """A decided profile's entry in `gsi2`: its province's partition, in order of registration.

    Pending checks use the same index under `VERIFY#…`; a decision moves the entry here, so the
    drift check reads one province's participants page by page, never the whole table. A spike
    writes the decisions of one province into one index partition: at most the registry's rate
    (`REGISTRY_RATE_PER_SECOND`), far under a partition's 1,000 writes a second.
    """
    registered = participant.registered_at.astimezone(UTC).isoformat()
    return f"PROVINCE#{participant.province_code}", f"{registered}#{participant.participant_id}"


class ProfileRecord(ParticipantItem):
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


def profile(participant_id: str) -> ProfileRecord:
    """The profile's key alone: the item an update of it names."""
    return ProfileRecord(participant_key(participant_id), PROFILE)


class GuardRecord(GuardItem):
    pass


# Every field of `Participant` that the profile stores under the same name and value.
_SAME = (
    "participant_id",
    "nik",
    "kk_number",
    "full_name",
    "gender",
    "email",
    "phone",
    "province_code",
    "regency_code",
    "education",
    "employment_status",
    "registered_at",
    "registered_by",
    "channel",
    "fingerprint",
    "wave_id",
    "selected_wave",
    "purchase_deadline",
    "balance_expires_at",
    "revocation_reason",
)


def profile_values(participant: Participant) -> dict[str, Any]:
    """The profile's attribute values by `ProfileRecord`'s names: the one mapping from the domain's
    `Participant` to the stored item (registration, import and the local stack's seed all use it)."""
    values: dict[str, Any] = {name: getattr(participant, name) for name in _SAME}
    values |= {
        "pk": participant_key(participant.participant_id),
        "sk": PROFILE,
        "status": participant.status.value,
        "verification": participant.verification.value,
        "birth_date": participant.birth_date.isoformat(),
        "declarations": participant.declarations,
        "cohorts": list(participant.cohorts),
        "balance": participant.balance,
        "version": participant.version,
    }
    if participant.verification is Verification.PENDING:
        values["gsi2pk"] = verification_shard_key(participant.participant_id)
        # In UTC, so that the index's string order is the order in time whatever the clock's zone.
        registered = participant.registered_at.astimezone(UTC).isoformat()
        values["gsi2sk"] = f"{registered}#{participant.participant_id}"
    else:
        values["gsi2pk"], values["gsi2sk"] = province_entry(participant)
    return values


def participant_of(record: ProfileRecord) -> Participant:
    """The one mapping from the stored profile back to the domain's `Participant`."""
    same = {name: getattr(record, name) for name in _SAME}
    return Participant(
        **same,
        birth_date=date.fromisoformat(record.birth_date),
        declarations=dict(record.declarations),
        status=Status(record.status),
        verification=Verification(record.verification),
        cohorts=tuple(record.cohorts),
        balance=None if record.balance is None else int(record.balance),
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
    guards = [GuardRecord(key, participant_id=participant.participant_id) for key in keys.values()]
    return [ProfileRecord(**profile_values(participant)), *guards]


def participant(participant_id: str, consistent: bool = False) -> Participant | None:
    try:
        record = ProfileRecord.get(participant_key(participant_id), PROFILE, consistent_read=consistent)
    except ProfileRecord.DoesNotExist:
        return None
    return participant_of(record)


def participants(participant_ids: list[str]) -> dict[str, Participant]:
    """Many profiles in batched reads, by id; the ones that exist."""
    keys = [(participant_key(participant_id), PROFILE) for participant_id in participant_ids]
    return {record.participant_id: participant_of(record) for record in ProfileRecord.batch_get(keys)}


def holder_of(kind: str, value: str) -> str | None:
    """The participant holding a uniqueness claim (`holder_of("NIK", nik)`), if anyone does."""
    try:
        return str(GuardRecord.get(pii_key(kind, value)).participant_id)
    except GuardRecord.DoesNotExist:
        return None


# --- a new item in DynamoDB's own shape, without building its model ------------------------------


def item(model: type[Model], values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """`model(**values).serialize()` without building the model: the same attributes' own serialisers,
    defaults and null checks. Building the four models of a registration and serialising them cost
    as much CPU as the rest of the request besides the SDK call; this costs a fifth of that."""
    attributes = model.get_attributes()
    unknown = values.keys() - attributes.keys()
    if unknown:
        raise ValueError(f"Attribute {', '.join(sorted(unknown))} specified does not exist")
    serialised: dict[str, dict[str, Any]] = {}
    for name, attribute in attributes.items():
        if name in values:
            value = values[name]
        else:
            value = attribute.default() if callable(attribute.default) else attribute.default
        if value is None:
            if not attribute.null:
                raise ValueError(f"Attribute '{name}' cannot be None")
            continue
        serialised[attribute.attr_name] = {attribute.attr_type: attribute.serialize(value)}
    return serialised


@cache
def _absent(model: type[ProfileRecord | GuardRecord]) -> tuple[str, dict[str, str]]:
    """The condition `model.pk.does_not_exist()`, as PynamoDB writes it, serialised once."""
    names: dict[str, str] = {}
    expression = model.pk.does_not_exist().serialize(names, {})
    return expression, {placeholder: name for name, placeholder in names.items()}


def put_new(model: type[ProfileRecord | GuardRecord], values: dict[str, Any]) -> dict[str, Any]:
    """A transaction's put of a new item: refused if an item with its key exists."""
    expression, names = _absent(model)
    return {
        "TableName": model.Meta.table_name,
        "Item": item(model, values),
        "ConditionExpression": expression,
        "ExpressionAttributeNames": dict(names),
    }


def in_province(province_code: str, after: str | None, limit: int) -> tuple[list[Participant], str | None]:
    """Up to `limit` of the province's decided participants in order of registration, after the
    index position `after`; the position to go on from, None at the end. A query of one index
    partition (`province_entry`), never a scan of the table."""
    return _index_page(f"PROVINCE#{province_code}", after, limit)


def pending(shard: int, after: str | None, limit: int) -> tuple[list[Participant], str | None]:
    """The same, of one shard of the participants whose identity check is pending."""
    return _index_page(f"VERIFY#{shard:02d}", after, limit)


def _index_page(partition: str, after: str | None, limit: int) -> tuple[list[Participant], str | None]:
    condition = None if after is None else ProfileRecord.gsi2sk > after
    records = list(ProfileRecord.gsi2.query(partition, condition, limit=limit))
    position = str(records[-1].gsi2sk) if len(records) == limit else None
    return [participant_of(record) for record in records], position
