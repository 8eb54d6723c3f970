"""The payment state rules alone: answers in any order, repeated, late, never undo a final answer."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.incentives import transitions
from chalicelib.incentives.model import Attempt, AttemptState, Kind, Payment, PaymentStatus

AT = datetime(2021, 8, 1, 3, 0, tzinfo=UTC)
TODAY = date(2021, 8, 1)
ALLOWED = 3


def _sending(failures: int = 0) -> tuple[Payment, Attempt]:
    payment = Payment(
        payment_id="ab12-INCENTIVE-1",
        participant_id="ab12",
        kind=Kind.INCENTIVE,
        number=1,
        amount=600_000,
        due_date=TODAY,
        province_code="31",
        failures=failures,
        partner_id="OVO",
    )
    claimed = transitions.claimed(payment, "OVO")
    attempt = Attempt(
        attempt_id="ab12-INCENTIVE-1-A1",
        payment_id=payment.payment_id,
        partner_id="OVO",
        amount=600_000,
        state=AttemptState.SUBMITTING,
        created_at=AT,
    )
    return claimed, attempt


def _apply(
    payment: Payment, attempt: Attempt, status: str, reason: str | None = None
) -> tuple[Payment, Attempt]:
    step = transitions.answered(payment, attempt, status, reason, AT, TODAY, ALLOWED)
    if step.exception:
        return payment, attempt
    return step.payment, replace(attempt, state=step.attempt)


def test_a_claim_starts_a_new_attempt_through_the_payees_partner() -> None:
    payment, _ = _sending()
    assert (payment.status, payment.attempts, payment.current_attempt) == (
        PaymentStatus.SENDING,
        1,
        "ab12-INCENTIVE-1-A1",
    )


def test_accepted_then_paid_is_sent_then_paid() -> None:
    payment, attempt = _sending()
    payment, attempt = _apply(payment, attempt, "ACCEPTED")
    assert (payment.status, attempt.state) == (PaymentStatus.SENT, AttemptState.ACCEPTED)
    payment, attempt = _apply(payment, attempt, "PAID")
    assert (payment.status, attempt.state, payment.paid_at) == (
        PaymentStatus.PAID,
        AttemptState.SUCCEEDED,
        AT,
    )


def test_a_late_accepted_never_overwrites_paid() -> None:
    payment, attempt = _apply(*_sending(), "COMPLETED")
    step = transitions.answered(payment, attempt, "ACCEPTED", None, AT, TODAY, ALLOWED)
    assert step.exception is None
    assert not step.moves(payment, attempt)


def test_failed_after_paid_is_an_exception_and_moves_nothing() -> None:
    payment, attempt = _apply(*_sending(), "PAID")
    step = transitions.answered(payment, attempt, "FAILED", "ACCOUNT_CLOSED", AT, TODAY, ALLOWED)
    assert step.exception == "SUCCEEDED_THEN_FAILED"
    assert step.payment == payment


def test_an_unknown_status_moves_nothing() -> None:
    payment, attempt = _sending()
    step = transitions.answered(payment, attempt, "SETTLING", None, AT, TODAY, ALLOWED)
    assert (step.exception, step.moves(payment, attempt)) == (None, False)


def test_a_definite_failure_is_due_again_today_until_the_attempts_run_out() -> None:
    payment, _ = _apply(*_sending(), "FAILED", "LIMIT_EXCEEDED")
    assert (payment.status, payment.failures, payment.due_date) == (PaymentStatus.FAILED, 1, TODAY)
    last, _ = _apply(*_sending(failures=ALLOWED - 1), "FAILED", "LIMIT_EXCEEDED")
    assert (last.status, last.reason) == (PaymentStatus.NEEDS_ACTION, "LIMIT_EXCEEDED")


def test_a_closed_account_waits_for_the_participant_at_once() -> None:
    payment, _ = _apply(*_sending(), "FAILED", "ACCOUNT_CLOSED")
    assert (payment.status, payment.reason, payment.failures) == (
        PaymentStatus.NEEDS_ACTION,
        "ACCOUNT_CLOSED",
        1,
    )


def test_an_older_attempts_answer_moves_only_that_attempt() -> None:
    payment, attempt = _sending()
    newer = replace(payment, attempts=2)
    step = transitions.answered(newer, attempt, "FAILED", "LIMIT_EXCEEDED", AT, TODAY, ALLOWED)
    assert (step.payment, step.attempt) == (newer, AttemptState.FAILED)


def test_only_a_paid_payment_is_reconciled() -> None:
    payment, _ = _apply(*_sending(), "PAID")
    assert transitions.reconciled(payment).status is PaymentStatus.RECONCILED
    unpaid, _ = _sending()
    try:
        transitions.reconciled(unpaid)
    except ValueError:
        return
    raise AssertionError("a payment in flight was reconciled")


ANSWERS = st.lists(
    st.tuples(
        st.sampled_from(["ACCEPTED", "COMPLETED", "PAID", "FAILED", "SETTLING"]),
        st.sampled_from([None, "ACCOUNT_CLOSED", "LIMIT_EXCEEDED"]),
    ),
    max_size=12,
)


@given(ANSWERS)
def test_answers_in_any_order_and_number_settle_at_most_once(answers: list[tuple[str, str | None]]) -> None:
    """Whatever a partner says, repeated, reordered or contradicting itself: once the attempt is
    final it stays so, and the payment is paid at most once and never leaves PAID by an answer."""
    payment, attempt = _sending()
    final: AttemptState | None = None
    paid = 0
    for status, reason in answers:
        before = payment.status
        payment, attempt = _apply(payment, attempt, status, reason)
        if final is not None:
            assert attempt.state is final
        if attempt.state in (AttemptState.SUCCEEDED, AttemptState.FAILED):
            final = attempt.state
        paid += before is not PaymentStatus.PAID and payment.status is PaymentStatus.PAID
        if before is PaymentStatus.PAID:
            assert payment.status is PaymentStatus.PAID
    assert paid <= 1
    assert (payment.status is PaymentStatus.PAID) == (final is AttemptState.SUCCEEDED)
