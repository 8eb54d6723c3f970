"""Requests that wait for a second admin (PAYMENTS.md: reconciliation proposes, a second person
approves). Each is one item of the payments table, listed by status through the shared index
(`APPROVALS#<status>`, newest first); a decision moves it under a condition that it is still
PENDING, so two admins deciding at once decide once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute

from chalicelib.core.storage import UnitOfWork
from chalicelib.incentives.stores.tables import PaymentItem

APPROVAL = "APPROVAL"


class ApprovalStatus(StrEnum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


@dataclass(frozen=True)
class Approval:
    """A re-payment asked for by one admin: `payment_version` is the payment as that admin saw it,
    so an approval never re-opens a payment that moved since."""

    approval_id: str
    kind: str
    payment_id: str
    payment_version: int
    amount: int
    reason: str | None
    requested_by: str
    requested_at: datetime
    status: ApprovalStatus = ApprovalStatus.PENDING
    decided_by: str | None = None
    decided_at: datetime | None = None


class _ApprovalRecord(PaymentItem, discriminator="APPROVAL"):
    kind = UnicodeAttribute()
    payment_id = UnicodeAttribute()
    payment_version = NumberAttribute()
    amount = NumberAttribute()
    reason = UnicodeAttribute(null=True)
    requested_by = UnicodeAttribute()
    requested_at = UTCDateTimeAttribute()
    status = UnicodeAttribute()
    decided_by = UnicodeAttribute(null=True)
    decided_at = UTCDateTimeAttribute(null=True)


def _key(approval_id: str) -> str:
    return f"APPROVAL#{approval_id}"


def _listed(status: ApprovalStatus, approval: Approval) -> tuple[str, str]:
    return f"APPROVALS#{status.value}", f"{approval.requested_at.isoformat()}#{approval.approval_id}"


def add(unit: UnitOfWork, approval: Approval) -> None:
    """A new request (label `APPROVAL` if one with its id exists: the same request asked again)."""
    pk, sk = _listed(approval.status, approval)
    unit.put(
        _ApprovalRecord(
            _key(approval.approval_id),
            APPROVAL,
            kind=approval.kind,
            payment_id=approval.payment_id,
            payment_version=approval.payment_version,
            amount=approval.amount,
            reason=approval.reason,
            requested_by=approval.requested_by,
            requested_at=approval.requested_at,
            status=approval.status.value,
            gsi1pk=pk,
            gsi1sk=sk,
        ),
        condition=_ApprovalRecord.pk.does_not_exist(),
        label=APPROVAL,
    )


def decide(unit: UnitOfWork, approval: Approval, status: ApprovalStatus, by: str, at: datetime) -> None:
    """The decision, if the request is still PENDING (label `APPROVAL` otherwise)."""
    pk, sk = _listed(status, approval)
    unit.update(
        _ApprovalRecord(_key(approval.approval_id), APPROVAL),
        actions=[
            _ApprovalRecord.status.set(status.value),
            _ApprovalRecord.decided_by.set(by),
            _ApprovalRecord.decided_at.set(at),
            _ApprovalRecord.gsi1pk.set(pk),
            _ApprovalRecord.gsi1sk.set(sk),
        ],
        condition=_ApprovalRecord.status == ApprovalStatus.PENDING.value,
        label=APPROVAL,
    )


def approval(approval_id: str) -> Approval | None:
    try:
        record = _ApprovalRecord.get(_key(approval_id), APPROVAL, consistent_read=True)
    except _ApprovalRecord.DoesNotExist:
        return None
    return _approval(record)


def with_status(status: ApprovalStatus, limit: int) -> list[Approval]:
    """The newest `limit` requests in `status`: one query of the index."""
    records = _ApprovalRecord.gsi1.query(f"APPROVALS#{status.value}", scan_index_forward=False, limit=limit)
    return [_approval(record) for record in records if isinstance(record, _ApprovalRecord)]


def _approval(record: _ApprovalRecord) -> Approval:
    return Approval(
        approval_id=record.pk.removeprefix("APPROVAL#"),
        kind=record.kind,
        payment_id=record.payment_id,
        payment_version=int(record.payment_version),
        amount=int(record.amount),
        reason=record.reason,
        requested_by=record.requested_by,
        requested_at=record.requested_at,
        status=ApprovalStatus(record.status),
        decided_by=record.decided_by,
        decided_at=record.decided_at,
    )
