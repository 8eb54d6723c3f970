"""Sending a payment again after it stopped for an admin (NEEDS_ACTION: the partner refused the
request itself, the attempts ran out): one admin asks, another approves, and only the approval
moves money (PAYMENTS.md). The decision and the payment's re-opening are one transaction, under
conditions that the request is still pending and the payment is as the asking admin saw it."""

from __future__ import annotations

from dataclasses import replace

from chalicelib.core import clock
from chalicelib.core.errors import Conflict, Forbidden, NotFound
from chalicelib.core.storage import Refused, UnitOfWork
from chalicelib.incentives import transitions
from chalicelib.incentives.errors import PaymentNotFound
from chalicelib.incentives.model import PaymentStatus
from chalicelib.incentives.stores import approvals, payments
from chalicelib.incentives.stores.approvals import Approval, ApprovalStatus

KIND = "REPAYMENT"
# Reasons no second admin can mend: the participant was revoked, or must link another account
# (the payment then resumes by itself, `accounts.link_account`).
NOT_REPAYABLE = frozenset({"REVOKED", *transitions.ACCOUNT_REASONS})
LISTED = 100


def request(payment_id: str, admin: str) -> Approval:
    """Ask for `payment_id` to be sent again; a second admin decides."""
    payment, _ = payments.payment(payment_id)
    if payment is None:
        raise PaymentNotFound()
    if payment.status is not PaymentStatus.NEEDS_ACTION:
        raise Conflict(
            "Hanya pembayaran yang menunggu tindakan yang dapat dibayar ulang.", code="NOT_NEEDS_ACTION"
        )
    if payment.reason in NOT_REPAYABLE:
        raise Conflict(
            "Pembayaran ini menunggu rekening baru dari peserta, atau pesertanya dicabut: "
            "tidak dapat dibayar ulang.",
            code="NOT_REPAYABLE",
        )
    asked = Approval(
        approval_id=f"{payment_id}-R{payment.version}",
        kind=KIND,
        payment_id=payment_id,
        payment_version=payment.version,
        amount=payment.amount,
        reason=payment.reason,
        requested_by=admin,
        requested_at=clock.now(),
    )
    unit = UnitOfWork()
    approvals.add(unit, asked)
    try:
        unit.commit()
    except Refused:
        raise Conflict("Pembayaran ulang ini sudah diajukan.", code="ALREADY_REQUESTED") from None
    return asked


def decide(approval_id: str, admin: str, approve: bool) -> Approval:
    """The second admin's decision; the one who asked may not decide."""
    asked = approvals.approval(approval_id)
    if asked is None:
        raise NotFound("Permintaan persetujuan tidak ditemukan.", code="APPROVAL_NOT_FOUND")
    if asked.requested_by == admin:
        raise Forbidden("Persetujuan harus diberikan oleh admin lain.", code="SAME_ADMIN")
    if asked.status is not ApprovalStatus.PENDING:
        raise Conflict("Permintaan ini sudah diputuskan.", code="ALREADY_DECIDED")
    now = clock.now()
    status = ApprovalStatus.APPROVED if approve else ApprovalStatus.REJECTED
    unit = UnitOfWork()
    approvals.decide(unit, asked, status, admin, now)
    if approve:
        payment, _ = payments.payment(asked.payment_id)
        if payment is None or payment.version != asked.payment_version:
            raise Conflict("Pembayaran sudah berubah sejak diajukan; ajukan ulang.", code="PAYMENT_MOVED")
        again = transitions.reopened(payment)
        payments.move(unit, payment, again)
        payments.add_history(unit, payment, again.status, now, "admin", {"approval": approval_id})
    try:
        unit.commit()
    except Refused as refused:
        if approvals.APPROVAL in refused.labels:
            raise Conflict("Permintaan ini sudah diputuskan.", code="ALREADY_DECIDED") from None
        raise Conflict(
            "Pembayaran sudah berubah sejak diajukan; ajukan ulang.", code="PAYMENT_MOVED"
        ) from None
    return replace(asked, status=status, decided_by=admin, decided_at=now)


def pending(status: ApprovalStatus = ApprovalStatus.PENDING) -> list[Approval]:
    return approvals.with_status(status, LISTED)
