"""Where a payment goes, written as one unit of work: the payment and its attempt under conditions
on what they were read as, the history record of the money movement, the figures it changes and
what the participant is told; and the answers that contradict what is recorded, kept for
reconciliation (`mismatch`). Every path of `disbursement`, the callbacks and reconciliation
settle a payment through here, so none can move money without its audit record or its figures.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from chalicelib.core import clock, outbox
from chalicelib.core.observability import count, logger
from chalicelib.core.storage import Refused, UnitOfWork
from chalicelib.incentives import figures, transitions
from chalicelib.incentives.model import Attempt, Payment, PaymentStatus
from chalicelib.incentives.stores import mismatches, payments
from chalicelib.registration import service as registration

# When a payment in flight is looked at again: an accepted transfer whose callback has not come,
# or one just claimed whose message may be lost, after this long.
AWAIT_CALLBACK = timedelta(minutes=30)


def settle(
    payment: Payment,
    attempt: Attempt | None,
    step: transitions.Step,
    now: datetime,
    *,
    transfer_id: str | None = None,
    actor: str = "disbursement",
) -> bool:
    """Write where a payment and its attempt go, with their history and figures, as one unit; False
    if either moved meanwhile."""
    to = step.payment
    unit = UnitOfWork()
    if to != payment:
        payments.move(unit, payment, to, look_at=now + AWAIT_CALLBACK)
        details: dict[str, object] = {"attempt": attempt.attempt_id if attempt else None, "reason": to.reason}
        payments.add_history(unit, payment, to.status, now, actor, details)
        _count(unit, payment, to)
        _tell(unit, payment, to, now)
    if attempt is not None and step.attempt is not attempt.state:
        payments.move_attempt(unit, attempt, step.attempt, transfer_id=transfer_id, reason=to.reason)
    try:
        unit.commit()
    except Refused:
        return False
    if to.status is PaymentStatus.PAID and payment.status is not PaymentStatus.PAID:
        count("PaymentsPaid")
        count("AmountPaid", to.amount)
    return True


# What the participant is told when their payment reaches these states, once per payment and state.
_TOLD = {PaymentStatus.PAID: "PAYMENT_SENT", PaymentStatus.NEEDS_ACTION: "PAYMENT_NEEDS_ACTION"}


def _tell(unit: UnitOfWork, payment: Payment, to: Payment, now: datetime) -> None:
    """The participant's notification, in the unit that moves the payment: told if and only if it
    moved (a move refused as stale tells nothing; the one that wins tells once)."""
    kind = _TOLD.get(to.status)
    if kind is None or to.status is payment.status:
        return
    details = {"amount": str(to.amount), "payment_kind": to.kind.value, "payment_id": to.payment_id}
    outbox.add(unit, to.participant_id, kind, f"PAYMENT#{to.payment_id}#{to.status.value}", details, now)


_STEPS = {
    PaymentStatus.SENT: "sent",
    PaymentStatus.PAID: "paid",
    PaymentStatus.FAILED: "failed",
    PaymentStatus.NEEDS_ACTION: "needs_action",
}


def _count(unit: UnitOfWork, payment: Payment, to: Payment) -> None:
    """The figures a move changes: the province's paid amounts and outcomes, and the day's steps per
    partner."""
    if to.status is payment.status or to.status not in _STEPS:
        return
    day = registration.programme_today()
    figures.step(unit, day, to.partner_id or "NONE", _STEPS[to.status], to.amount, payment.payment_id)
    if to.status is PaymentStatus.PAID:
        figures.paid(unit, to.province_code, to.kind, to.amount, payment.payment_id)
    if to.status is not PaymentStatus.SENT:
        figures.outcome(unit, to.province_code, day, _STEPS[to.status], to.amount, payment.payment_id)


def mismatch(payment: Payment, attempt: Attempt, kind: str, details: dict[str, object]) -> None:
    """An answer that contradicts what is recorded: kept for reconciliation, never applied."""
    mismatches.add(
        registration.programme_today(),
        attempt.partner_id,
        attempt.attempt_id,
        kind,
        {"payment_id": payment.payment_id, "recorded": attempt.state.value, **details},
        clock.now(),
    )
    logger.warning("payment exception", extra={"payment_id": payment.payment_id, "kind": kind})
    count("PaymentExceptions")
