"""What each event means for a payment and its attempt: pure functions, no I/O, property-tested.

The states only move forward. An attempt's answer is final once SUCCEEDED or FAILED, and the only
way back from SUCCEEDED is REVERSED, which only reconciliation proposes and an admin approves. A
late or repeated answer that ranks no higher than what is recorded changes nothing; one that
contradicts a final answer is an exception for reconciliation, never applied.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from chalicelib.incentives.model import FINAL_ATTEMPTS, Attempt, AttemptState, Payment, PaymentStatus

# A definite refusal that no retry can mend: the participant must link another account.
ACCOUNT_REASONS = frozenset(
    {"ACCOUNT_CLOSED", "NOT_FOUND", "NIK_MISMATCH", "INVALID_ACCOUNT_NUMBER", "NO_ACCOUNT"}
)
_RANK = {
    AttemptState.CREATED: 0,
    AttemptState.SUBMITTING: 1,
    AttemptState.UNKNOWN: 2,
    AttemptState.ACCEPTED: 3,
    AttemptState.SUCCEEDED: 4,
    AttemptState.FAILED: 4,
    AttemptState.REVERSED: 5,
}


@dataclass(frozen=True)
class Step:
    """Where a payment and its attempt go on an answer; `exception` when the answer contradicts
    a final one (nothing moves, reconciliation looks at it)."""

    payment: Payment
    attempt: AttemptState
    exception: str | None = None

    def moves(self, payment: Payment, attempt: Attempt) -> bool:
        return self.exception is None and (self.payment != payment or self.attempt is not attempt.state)


def claimed(payment: Payment, partner_id: str) -> Payment:
    """A due payment taken for sending: a new attempt, through the payee's partner."""
    return replace(
        payment, status=PaymentStatus.SENDING, attempts=payment.attempts + 1, partner_id=partner_id
    )


_TARGETS = {
    "ACCEPTED": AttemptState.ACCEPTED,
    "COMPLETED": AttemptState.SUCCEEDED,
    "PAID": AttemptState.SUCCEEDED,
    "FAILED": AttemptState.FAILED,
}


def answered(
    payment: Payment,
    attempt: Attempt,
    status: str,
    reason: str | None,
    at: datetime,
    today: date,
    allowed: int,
) -> Step:
    """The partner's answer about an attempt: `ACCEPTED`, `COMPLETED` (or a callback's `PAID`),
    `FAILED`; anything else is unknown and moves nothing."""
    target = _TARGETS.get(status)
    if target is None:
        return Step(payment, attempt.state)
    if attempt.state in FINAL_ATTEMPTS:
        agrees = target is attempt.state or target is AttemptState.ACCEPTED
        return Step(payment, attempt.state, None if agrees else f"{attempt.state.value}_THEN_{target.value}")
    if _RANK[target] <= _RANK[attempt.state]:
        return Step(payment, attempt.state)
    if attempt.attempt_id != payment.current_attempt:
        # An older attempt's answer: recorded on the attempt, the payment has moved on.
        return Step(payment, target)
    return Step(_payment_on(payment, target, reason, at, today, allowed), target)


def _payment_on(
    payment: Payment, attempt: AttemptState, reason: str | None, at: datetime, today: date, allowed: int
) -> Payment:
    if attempt is AttemptState.ACCEPTED:
        return replace(payment, status=PaymentStatus.SENT)
    if attempt is AttemptState.SUCCEEDED:
        return replace(payment, status=PaymentStatus.PAID, paid_at=at, reason=None)
    return failed(payment, reason, today, allowed)


def failed(payment: Payment, reason: str | None, today: date, allowed: int) -> Payment:
    """A definite failure: tried again (due now) while attempts are left and the account is not
    at fault; else it waits for the participant (a new account) or an admin."""
    failures = payment.failures + 1
    if (reason or "") in ACCOUNT_REASONS or failures >= allowed:
        return replace(payment, status=PaymentStatus.NEEDS_ACTION, failures=failures, reason=reason)
    return replace(payment, status=PaymentStatus.FAILED, failures=failures, reason=reason, due_date=today)


def no_account(payment: Payment) -> Step:
    """A due payment with no verified account to send it to: it waits for the participant."""
    held = replace(payment, status=PaymentStatus.NEEDS_ACTION, reason="NO_ACCOUNT")
    return Step(held, AttemptState.FAILED)


def account_changed(payment: Payment, partner_id: str | None) -> Step:
    """The account moved to another partner (or went) before the attempt was sent: the attempt
    ends unsent, and the payment is due again through the new account (or waits for one)."""
    if partner_id is None:
        return no_account(payment)
    return Step(replace(payment, status=PaymentStatus.DUE, partner_id=partner_id), AttemptState.FAILED)


def revoked(payment: Payment) -> Step:
    """The participant was revoked before the payment was sent: it is never sent."""
    return Step(replace(payment, status=PaymentStatus.NEEDS_ACTION, reason="REVOKED"), AttemptState.FAILED)


def held(payment: Payment, reason: str) -> Step:
    """A partner refused the request itself (not the account): nothing was paid, and an admin
    looks at it before it is sent again."""
    return Step(replace(payment, status=PaymentStatus.NEEDS_ACTION, reason=reason), AttemptState.FAILED)


def reopened(payment: Payment) -> Payment:
    """A payment waiting for an admin, sent again because a second admin approved it: due now,
    with a new budget of attempts (its attempt ids go on counting, so none is ever reused)."""
    if payment.status is not PaymentStatus.NEEDS_ACTION:
        raise ValueError(f"only a payment that needs action is re-opened, not {payment.status.value}")
    return replace(payment, status=PaymentStatus.DUE, failures=0, reason=None)


def reconciled(payment: Payment) -> Payment:
    """A paid payment found in its partner's settlement file with the same amount."""
    if payment.status is not PaymentStatus.PAID:
        raise ValueError(f"only a paid payment is reconciled, not {payment.status.value}")
    return replace(payment, status=PaymentStatus.RECONCILED)
