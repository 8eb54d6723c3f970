"""What a participant is owed: the incentive schedule, made once, and survey rewards.

The schedule is owed once a first completed course is rated and a verified account is linked, in
whichever order: training publishes the rating on its event stream (read here every minute, see
docs/INCENTIVES.md for why a stream), and linking the account is this domain's own request. The
two marks are set on one item, one after the other; whichever sets the second makes the schedule.
It is frozen when made: its amounts and dates come from the programme's rules then, and ids from
the data (`<participant>-INCENTIVE-<n>`), written only if absent, so it is never made twice.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from chalicelib.core import clock, outbox
from chalicelib.core.observability import count, logger
from chalicelib.core.settings import programme
from chalicelib.core.storage import Refused, UnitOfWork
from chalicelib.incentives import figures
from chalicelib.incentives.model import Kind, Payment, PaymentStatus, payment_id
from chalicelib.incentives.stores import accounts, payments
from chalicelib.registration import service as registration
from chalicelib.registration.model import Participant, Status
from chalicelib.training import service as training
from chalicelib.training.model import EVENTS, FIRST_RATING, REVOKED

PAGE = 100


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day where it has none (31 January → 28 February)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def owe_incentives(participant_id: str) -> int:
    """Make the participant's incentive schedule, if it is owed and not made yet; how many payments
    it made (0 when made before, or not owed: revoked, no rated completion, no verified account)."""
    participant = registration.participant(participant_id)
    account = accounts.account(participant_id, consistent=True)
    if (
        participant.status is Status.REVOKED
        or account is None
        or not account.verified
        or not training.rated_completion(participant_id)
    ):
        return 0
    rules = programme()
    first = registration.programme_today() + timedelta(days=rules.incentive_first_due_days)
    owed = [
        Payment(
            payment_id=payment_id(participant_id, Kind.INCENTIVE, number),
            participant_id=participant_id,
            kind=Kind.INCENTIVE,
            number=number,
            amount=rules.incentive_amount,
            due_date=add_months(first, number - 1),
            province_code=participant.province_code,
            partner_id=account.partner_id,
        )
        for number in range(1, rules.incentive_months + 1)
    ]
    return _owe(participant, owed)


def owe_survey_reward(participant_id: str, survey_round: int) -> Payment | None:
    """The reward of an answered survey, due today, through the same payments as incentives; None
    when it was owed before or the participant is revoked."""
    participant = registration.participant(participant_id)
    if participant.status is Status.REVOKED:
        _check_round(survey_round)
        return None
    reward = survey_reward(participant, survey_round)
    return reward if _owe(participant, [reward]) else None


def add_survey_reward(unit: UnitOfWork, participant: Participant, survey_round: int) -> Payment:
    """The reward of an answered survey, owed in `unit`: the surveys stage commits it with the
    answer, so that an answer is never kept without its reward nor a reward owed without its
    answer. Refused with label `payments.EXISTS` if owed before."""
    reward = survey_reward(participant, survey_round)
    _add_owed(unit, reward, clock.now())
    return reward


def survey_reward(participant: Participant, survey_round: int) -> Payment:
    """What an answered survey of `survey_round` pays, to the account verified now (if any)."""
    _check_round(survey_round)
    account = accounts.account(participant.participant_id, consistent=True)
    return Payment(
        payment_id=payment_id(participant.participant_id, Kind.SURVEY, survey_round),
        participant_id=participant.participant_id,
        kind=Kind.SURVEY,
        number=survey_round,
        amount=programme().survey_reward,
        due_date=registration.programme_today(),
        province_code=participant.province_code,
        partner_id=account.partner_id if account and account.verified else None,
    )


def _check_round(survey_round: int) -> None:
    if not 1 <= survey_round <= programme().survey_count:
        raise ValueError(f"the programme has no survey round {survey_round}")


def _owe(participant: Participant, owed: list[Payment]) -> int:
    now = clock.now()
    unit = UnitOfWork()
    for payment in owed:
        _add_owed(unit, payment, now)
    try:
        unit.commit()
    except Refused as refused:
        if payments.EXISTS in refused.labels:
            return 0
        raise
    logger.info("payments owed", extra={"participant_id": participant.participant_id, "payments": len(owed)})
    count("PaymentsOwed", len(owed))
    return len(owed)


def _add_owed(unit: UnitOfWork, payment: Payment, now: datetime) -> None:
    payments.add_owed(unit, payment)
    payments.add_history(unit, payment, payment.status, now, "schedule", {"amount": payment.amount})
    if payment.partner_id:
        figures.step(unit, payment.due_date, payment.partner_id, "due", payment.amount, payment.payment_id)


def take_training_events(has_time: Callable[[], bool]) -> dict[str, Any]:
    """Read training's stream, shard by shard: a first rating marks the completion rated (and makes
    the schedule if the account is verified already); a revocation stops the payments not yet
    sent. Each event leaves the stream once acted on; acting twice changes nothing."""
    taken = scheduled = stopped = 0
    for event in outbox.each_pending(EVENTS, has_time, PAGE):
        if event.kind == FIRST_RATING and accounts.mark_ready(event.key, rated_at=event.created_at):
            scheduled += owe_incentives(event.key) > 0
        elif event.kind == REVOKED:
            stopped += stop_payments(event.key)
        unit = UnitOfWork()
        outbox.consumed(unit, event)
        unit.commit()
        taken += 1
    if not has_time():
        return {"events": taken, "scheduled": scheduled, "stopped": stopped, "more": True}
    count("TrainingEventsTaken", taken)
    return {"events": taken, "scheduled": scheduled, "stopped": stopped}


def stop_payments(participant_id: str) -> int:
    """A revoked participant's payments that wait to be sent never will be; how many stopped. One
    already claimed stops before its first call (`disbursement.send`); one sent is left to finish."""
    stopped = 0
    for payment in payments.payments_of(participant_id):
        if payment.status not in (PaymentStatus.DUE, PaymentStatus.FAILED):
            continue
        held = replace(payment, status=PaymentStatus.NEEDS_ACTION, reason="REVOKED")
        now = clock.now()
        unit = UnitOfWork()
        payments.move(unit, payment, held)
        payments.add_history(unit, payment, held.status, now, "revocation", {"reason": "REVOKED"})
        try:
            unit.commit()
        except Refused:
            continue  # claimed meanwhile: its send finds the participant revoked
        stopped += 1
    return stopped
