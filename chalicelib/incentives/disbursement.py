"""Paying what is due, exactly once, through each payee's partner (PAYMENTS.md).

The scheduled `dispatch` reads only what is due (the due index, by date), claims each payment for
a new attempt with a conditional write, and hands it to its partner's queue: the partners are
reached in parallel, each within its own concurrency cap (its queue's consumer), and one that is
down delays only its own payments. `send`, the consumer, is where exactly once is made:

1. An attempt's id is written before the partner is called, moved to SUBMITTING under a condition,
   and sent as the partner's idempotency key and reference; every resend of it is the same request.
2. A worker that finds SUBMITTING or UNKNOWN never starts another attempt: it asks the partner
   about that reference, and resends it unchanged only when the partner has none.
3. Another attempt begins only after a definite failure.

So a crash between "the partner accepted" and "we recorded it" is mended by asking, never by
paying again. A payment in flight waits in the in-flight index under the time it is to be looked
at again: soon after a timeout or an unreachable partner, later while an accepted transfer waits
for its callback. `dispatch` hands those whose time has come back to their queue, so a lost
message, a crash or a callback that never comes delays a payment, and never loses it.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from chalicelib.core import clock, queues
from chalicelib.core.errors import ConcurrentUpdate
from chalicelib.core.observability import count, logger
from chalicelib.core.settings import programme, settings
from chalicelib.core.storage import Refused, UnitOfWork
from chalicelib.incentives import partners, settling, transitions
from chalicelib.incentives.model import (
    FINAL_ATTEMPTS,
    Attempt,
    AttemptState,
    Payment,
    PaymentStatus,
    attempt_id,
)
from chalicelib.incentives.settling import AWAIT_CALLBACK
from chalicelib.incentives.stores import accounts, payments
from chalicelib.registration import service as registration

PAGE = 100
# A page's claims go ten to a transaction (three items each: 30 of DynamoDB's 100), and the
# page's transactions side by side. One claim after another, 10,000 claims at a DynamoDB round
# trip each would take longer than the partners need to pay them. A claim's conditions race
# nothing but another run, and a transaction it refuses is claimed again payment by payment.
CLAIMS_PER_TRANSACTION = 10
CLAIMERS = 10
ANSWER_TRIES = 5
IN_FLIGHT = frozenset({PaymentStatus.SENDING, PaymentStatus.SENT})
# An attempt whose outcome is unknown (a timeout) or that could not be sent (the partner
# unreachable) is looked at again soon; others after `settling.AWAIT_CALLBACK`.
RETRY_SOON = timedelta(minutes=2)


def partner_queue(partner_id: str) -> str:
    return f"payments-{partner_id.lower()}"


# --- dispatch: what is due, claimed and handed to its partner's queue ---------------------------


def dispatch(has_time: Callable[[], bool]) -> dict[str, Any]:
    """Claim every payment due by today and queue it for its partner, page by page; then queue the
    payments in flight whose time to be looked at again has come. Nothing else is read."""
    today, now = registration.programme_today(), clock.now()
    claimed = looked = read = 0
    for shard in range(payments.SHARDS):
        start: str | None = None
        while True:
            if not has_time():
                return {"claimed": claimed, "looked_at": looked, "read": read, "more": True}
            page, start = payments.due(shard, today, start, PAGE)
            read += len(page)
            queued = _claim_all(page, now)
            _queue(queued)
            claimed += len(queued)
            if start is None:
                break
    for shard in range(payments.SHARDS):
        while has_time():
            late = payments.in_flight(shard, now, PAGE)
            read += len(late)
            # Moved on to be looked at later, before it is queued: a page is never queued twice.
            moved = [payment for payment in late if _look_again_later(payment, now)]
            _queue(moved)
            looked += len(moved)
            if len(late) < PAGE:
                break
    count("PaymentsClaimed", claimed)
    count("PaymentsLookedAgain", looked)
    return {"claimed": claimed, "looked_at": looked, "read": read, "more": not has_time()}


def _claim_all(page: list[Payment], now: datetime) -> list[Payment]:
    """The page's payments that this run claimed, several groups at once; each claim runs in a copy
    of this context (the clock and what the observability layer keeps there)."""
    payable = [payment for payment in page if payment.partner_id is not None]
    for payment in page:
        if payment.partner_id is None:
            settling.settle(payment, None, transitions.no_account(payment), now)
    groups = [
        payable[start : start + CLAIMS_PER_TRANSACTION]
        for start in range(0, len(payable), CLAIMS_PER_TRANSACTION)
    ]
    with ThreadPoolExecutor(CLAIMERS) as pool:
        claims = [pool.submit(contextvars.copy_context().run, _claim_group, group, now) for group in groups]
        return [claimed for claim in claims for claimed in claim.result()]


def _claim_group(group: list[Payment], now: datetime) -> list[Payment]:
    """Claim the group in one transaction; if another run took any of them, claim each alone, so
    that one taken payment holds back none of the others."""
    unit = UnitOfWork()
    claimed = [_add_claim(unit, payment, now) for payment in group]
    try:
        unit.commit()
    except Refused:
        return [alone for payment in group if (alone := _claim(payment, now)) is not None]
    return claimed


def _claim(payment: Payment, now: datetime) -> Payment | None:
    """Take a due payment for a new attempt: both written, or neither (another run took it)."""
    unit = UnitOfWork()
    claimed = _add_claim(unit, payment, now)
    try:
        unit.commit()
    except Refused:
        return None
    return claimed


def _add_claim(unit: UnitOfWork, payment: Payment, now: datetime) -> Payment:
    """The payment moved on to a new attempt, the attempt created and the move's audit record."""
    assert payment.partner_id is not None
    claimed = transitions.claimed(payment, payment.partner_id)
    attempt = Attempt(
        attempt_id=attempt_id(payment.payment_id, claimed.attempts),
        payment_id=payment.payment_id,
        partner_id=payment.partner_id,
        amount=payment.amount,
        state=AttemptState.CREATED,
        created_at=now,
    )
    payments.move(unit, payment, claimed, look_at=now + AWAIT_CALLBACK)
    payments.add_attempt(unit, attempt)
    payments.add_history(unit, payment, claimed.status, now, "disbursement", {"attempt": attempt.attempt_id})
    return claimed


def _look_again_later(payment: Payment, now: datetime) -> bool:
    unit = UnitOfWork()
    payments.move(unit, payment, payment, look_at=now + AWAIT_CALLBACK)
    try:
        unit.commit()
    except Refused:
        return False
    return True


def _queue(claimed: list[Payment]) -> None:
    by_partner: dict[str, list[Payment]] = {}
    for payment in claimed:
        if payment.partner_id:
            by_partner.setdefault(payment.partner_id, []).append(payment)
    for partner_id, group in by_partner.items():
        queues.send_all(partner_queue(partner_id), ({"payment_id": payment.payment_id} for payment in group))


# --- send: one payment through its partner ------------------------------------------------------


@dataclass(frozen=True)
class Ready:
    """A payment whose attempt may go to its partner: a first one already SUBMITTING (rule 1), or
    one that must be asked about before anything is sent again (rule 2)."""

    payment: Payment
    attempt: Attempt
    first: bool


def send(payment_id: str) -> str:
    """Move the payment's current attempt on with its partner; what happened, for the summary."""
    ready = prepare(payment_id)
    return "SKIPPED" if ready is None else exchange(ready)


def prepare(payment_id: str) -> Ready | None:
    """All that comes before the partner is called: None when there is nothing to send."""
    payment, attempts = payments.payment(payment_id)
    if payment is None or payment.status not in IN_FLIGHT:
        return None
    attempt = attempts.get(payment.current_attempt or "")
    if attempt is None or attempt.state in FINAL_ATTEMPTS:
        return None
    if attempt.state is not AttemptState.CREATED:
        return Ready(payment, attempt, first=False)
    submitting = _submitting(payment, attempt)
    return None if submitting is None else Ready(*submitting, first=True)


def exchange(ready: Ready) -> str:
    return _exchange(ready.payment, ready.attempt, ready.first)


def _exchange(payment: Payment, attempt: Attempt, first: bool) -> str:
    """A first send goes out at once; any other is asked about first (it may exist already)."""
    client = partners.client_for(attempt.partner_id)
    try:
        known = None if first else client.transfer(attempt.attempt_id)
        if known is None and attempt.state is AttemptState.ACCEPTED:
            settling.mismatch(payment, attempt, "ACCEPTED_THEN_NOT_FOUND", {})
            return "EXCEPTION"
        if known is None:
            known = _send_or_ask(client, payment, attempt)
    except partners.PartnerTimeout:
        _later(payment, attempt, AttemptState.UNKNOWN)
        return AttemptState.UNKNOWN.value
    except partners.PartnerUnavailable:
        _later(payment, attempt, attempt.state)
        return "DEFERRED"
    except partners.PartnerRefused as refused:
        return _refused(payment, attempt, refused)
    return record_answer(
        payment,
        attempt,
        known.status.value,
        known.reason,
        known.amount,
        known.transfer_id,
        settled_at=known.settled_at,
    )


def _send_or_ask(client: partners.PartnerClient, payment: Payment, attempt: Attempt) -> partners.Transfer:
    """Send the attempt; on a timeout ask once about it, and send it again if the partner has none."""
    try:
        return _transfer(client, payment, attempt)
    except partners.PartnerTimeout:
        known = client.transfer(attempt.attempt_id)
        return known if known is not None else _transfer(client, payment, attempt)


def _transfer(client: partners.PartnerClient, payment: Payment, attempt: Attempt) -> partners.Transfer:
    return client.send_transfer(
        attempt.attempt_id,
        attempt.amount,
        attempt.account_number or "",
        attempt.account_name or "",
        callback_url(payment.payment_id),
    )


def _submitting(payment: Payment, attempt: Attempt) -> tuple[Payment, Attempt] | None:
    """Before the first call: the attempt SUBMITTING with the account it is sent to (its resends go
    there too, whatever is linked later), under the condition that the participant is not revoked.
    A revoked participant's payment stops here; one whose account moved to another partner is due
    again through it."""
    now = clock.now()
    account = accounts.account(payment.participant_id, consistent=True)
    if account is None or account.partner_id != attempt.partner_id:
        settling.settle(
            payment,
            attempt,
            transitions.account_changed(payment, account.partner_id if account else None),
            now,
        )
        return None
    unit = UnitOfWork()
    payments.move_attempt(
        unit, attempt, AttemptState.SUBMITTING, account=(account.account_number, account.account_name)
    )
    registration.still_active(unit, payment.participant_id)
    try:
        unit.commit()
    except Refused as refused:
        if registration.PARTICIPANT_MOVED in refused.labels:
            settling.settle(payment, attempt, transitions.revoked(payment), now)
        return None
    return payment, replace(
        attempt,
        state=AttemptState.SUBMITTING,
        account_number=account.account_number,
        account_name=account.account_name,
        version=attempt.version + 1,
    )


def callback_url(payment_id: str) -> str:
    base = settings().partner_callback_base_url
    return f"{base.rstrip('/')}/v1/partner/payments/{payment_id}/status" if base else ""


def _later(payment: Payment, attempt: Attempt, state: AttemptState) -> None:
    """No definite answer: the attempt (UNKNOWN after a timeout) is looked at again soon."""
    now = clock.now()
    unit = UnitOfWork()
    payments.move(unit, payment, payment, look_at=now + RETRY_SOON)
    if state is not attempt.state:
        payments.move_attempt(unit, attempt, state)
    try:
        unit.commit()
    except Refused:
        logger.info("payment moved while its answer was awaited", extra={"payment_id": payment.payment_id})


def _refused(payment: Payment, attempt: Attempt, refused: partners.PartnerRefused) -> str:
    """A 4xx: the transfer was not made. One the partner refuses for the account fails the attempt;
    a reused key means the first request stands (asked about next time); anything else is ours to
    mend, so it waits for an admin rather than being retried blindly."""
    logger.warning("transfer refused", extra={"payment_id": payment.payment_id, "code": refused.code})
    if refused.code == "IDEMPOTENCY_KEY_REUSED":
        _later(payment, attempt, AttemptState.UNKNOWN)
        return AttemptState.UNKNOWN.value
    if refused.code in transitions.ACCOUNT_REASONS:
        return record_answer(payment, attempt, "FAILED", refused.code, None, None)
    settling.mismatch(payment, attempt, f"REFUSED_{refused.code}", {"status": refused.status})
    settling.settle(payment, attempt, transitions.held(payment, f"REFUSED_{refused.code}"), clock.now())
    return PaymentStatus.NEEDS_ACTION.value


def record_answer(
    payment: Payment,
    attempt: Attempt,
    status: str,
    reason: str | None,
    amount: int | None,
    transfer_id: str | None,
    *,
    actor: str = "disbursement",
    settled_at: datetime | None = None,
) -> str:
    """Apply a partner's answer about an attempt (a transfer it returned, a callback, a settlement
    line): a late or repeated one changes nothing; one that contradicts what is recorded, or names
    another amount, is kept for reconciliation and applied to nothing. Another writer that moved
    the payment meanwhile (a callback racing the consumer) makes it read again and re-apply, so no
    answer is lost to a race."""
    if amount is not None and amount != attempt.amount:
        settling.mismatch(payment, attempt, "AMOUNT_DIFFERS", {"answered": amount})
        return "EXCEPTION"
    for _ in range(ANSWER_TRIES):
        now = clock.now()
        step = transitions.answered(
            payment,
            attempt,
            status,
            reason,
            settled_at or now,
            registration.programme_today(),
            programme().payment_attempts,
        )
        if step.exception:
            settling.mismatch(payment, attempt, step.exception, {"answered": status})
            return "EXCEPTION"
        if not step.moves(payment, attempt) or settling.settle(
            payment, attempt, step, now, transfer_id=transfer_id, actor=actor
        ):
            return step.payment.status.value
        found, attempts = payments.payment(payment.payment_id)
        if found is None or attempt.attempt_id not in attempts:
            return "SKIPPED"
        payment, attempt = found, attempts[attempt.attempt_id]
    raise ConcurrentUpdate()
