"""Payment accounts, and the readiness of a participant's incentive schedule.

The account number is sealed (`core.storage.seal`): only the payment path opens it; everything
else sees its last four digits.
"""

from __future__ import annotations

from datetime import datetime

from pynamodb.attributes import BooleanAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.expressions.update import Action

from chalicelib.core.storage import seal, unseal
from chalicelib.incentives.model import PaymentAccount
from chalicelib.incentives.stores.tables import PaymentItem

SEALED = "PAYMENT_ACCOUNT"


def payee_key(participant_id: str) -> str:
    return f"PAYEE#{participant_id}"


class _AccountRecord(PaymentItem, discriminator="ACCOUNT"):
    partner_id = UnicodeAttribute()
    account_sealed = UnicodeAttribute()
    account_last4 = UnicodeAttribute()
    account_name = UnicodeAttribute()
    verified = BooleanAttribute()
    reason = UnicodeAttribute(null=True)
    linked_at = UTCDateTimeAttribute()


class _ReadinessRecord(PaymentItem, discriminator="READINESS"):
    rated_at = UTCDateTimeAttribute(null=True)
    account_verified_at = UTCDateTimeAttribute(null=True)


def save_account(account: PaymentAccount) -> None:
    _AccountRecord(
        payee_key(account.participant_id),
        "ACCOUNT",
        partner_id=account.partner_id,
        account_sealed=seal(SEALED, account.account_number),
        account_last4=account.account_number[-4:],
        account_name=account.account_name,
        verified=account.verified,
        reason=account.reason,
        linked_at=account.linked_at,
    ).save()


def account(participant_id: str, consistent: bool = False) -> PaymentAccount | None:
    """The account, its number opened: for the payment path only."""
    try:
        record = _AccountRecord.get(payee_key(participant_id), "ACCOUNT", consistent_read=consistent)
    except _AccountRecord.DoesNotExist:
        return None
    return PaymentAccount(
        participant_id=participant_id,
        partner_id=record.partner_id,
        account_number=unseal(SEALED, record.account_sealed),
        account_name=record.account_name,
        verified=bool(record.verified),
        reason=record.reason,
        linked_at=record.linked_at,
    )


def account_shown(participant_id: str) -> dict[str, object] | None:
    """The account as any view shows it: the number masked to its last four digits, never opened."""
    try:
        record = _AccountRecord.get(payee_key(participant_id), "ACCOUNT")
    except _AccountRecord.DoesNotExist:
        return None
    return {
        "partner_id": record.partner_id,
        "account_number": "*" * 8 + record.account_last4,
        "verified": bool(record.verified),
        "reason": record.reason,
    }


def mark_ready(
    participant_id: str, rated_at: datetime | None = None, verified_at: datetime | None = None
) -> bool:
    """Record that a first completion was rated, or an account verified (the first time each), and
    say whether both are now true: the one who completes the pair makes the schedule, and since
    DynamoDB applies the two updates one after the other, one of them always sees both."""
    record = _ReadinessRecord(payee_key(participant_id), "OWED")
    actions: list[Action] = [_ReadinessRecord.item.set(_ReadinessRecord)]
    if rated_at is not None:
        actions.append(_ReadinessRecord.rated_at.set(_ReadinessRecord.rated_at | rated_at))
    if verified_at is not None:
        verified = _ReadinessRecord.account_verified_at
        actions.append(verified.set(verified | verified_at))
    record.update(actions=actions)  # PynamoDB reads the item back as the update left it (ALL_NEW)
    return record.rated_at is not None and record.account_verified_at is not None


def readiness(participant_id: str) -> tuple[datetime | None, datetime | None]:
    """When the completion was rated and the account verified (each None until it was)."""
    try:
        record = _ReadinessRecord.get(payee_key(participant_id), "OWED", consistent_read=True)
    except _ReadinessRecord.DoesNotExist:
        return None, None
    return record.rated_at, record.account_verified_at
