"""What the incentives domain shows: its part of the participant record, and the admins' view of
a day's disbursement. Account numbers appear masked, and mismatches name references, not people."""

from __future__ import annotations

from datetime import date

from chalicelib.incentives import figures
from chalicelib.incentives.model import Payment
from chalicelib.incentives.partners import PARTNERS
from chalicelib.incentives.schemas import (
    AccountView,
    ApprovalView,
    DisbursementView,
    MismatchView,
    PartnerDay,
    PaymentsSection,
    PaymentView,
    SettlementFile,
)
from chalicelib.incentives.stores import accounts, mismatches, payments, settlements
from chalicelib.incentives.stores.approvals import Approval
from chalicelib.registration import service as registration
from chalicelib.registration.model import Participant

# The mismatches of a day shown at once; the report file in the bucket lists them all.
MISMATCHES_SHOWN = 500


def payment_view(payment: Payment) -> PaymentView:
    return PaymentView(
        payment_id=payment.payment_id,
        kind=payment.kind,
        number=payment.number,
        amount=payment.amount,
        due_date=payment.due_date,
        status=payment.status,
        reason=payment.reason,
        paid_at=payment.paid_at,
    )


def account_view(participant_id: str) -> AccountView | None:
    shown = accounts.account_shown(participant_id)
    return None if shown is None else AccountView.model_validate(shown)


def _payments(participant: Participant) -> PaymentsSection:
    """Two reads, the account and the partition's payments, however many there are."""
    owed = sorted(payments.payments_of(participant.participant_id), key=lambda p: (p.kind, p.number))
    return PaymentsSection(
        payment_account=account_view(participant.participant_id),
        payments=[payment_view(payment) for payment in owed],
    )


# The incentives domain's part of the participant record (`app.py` adds it to registration's).
payments_section = registration.RecordSection(PaymentsSection, _payments)


def disbursement(day: date) -> DisbursementView:
    """Per partner on `day`: counts and amounts due, sent, paid, failed, waiting for action and
    reconciled, its settlement file's reconciliation, and the mismatches found."""
    found = mismatches.of_day(day)
    partners: dict[str, PartnerDay] = {}
    for partner_id in PARTNERS:
        reconciliation = settlements.state(partner_id, day)
        partners[partner_id] = PartnerDay.model_validate(
            {
                **figures.daily(day, partner_id),
                "settlement_file": None
                if reconciliation is None
                else SettlementFile(
                    stage=reconciliation.stage.value,
                    reason=reconciliation.reason,
                    counts=reconciliation.counts,
                ),
                "mismatch_count": sum(1 for mismatch in found if mismatch.partner_id == partner_id),
            }
        )
    return DisbursementView(
        date=day,
        partners=partners,
        mismatches=[
            MismatchView(
                partner_id=mismatch.partner_id,
                reference=mismatch.reference,
                kind=mismatch.kind,
                details=mismatch.details,
                found_at=mismatch.found_at,
            )
            for mismatch in found[:MISMATCHES_SHOWN]
        ],
    )


def approval(asked: Approval) -> ApprovalView:
    """A request for a second admin, as admins see it: references and amounts, never a person."""
    return ApprovalView(
        approval_id=asked.approval_id,
        kind=asked.kind,
        status=asked.status,
        payment_id=asked.payment_id,
        amount=asked.amount,
        reason=asked.reason,
        requested_by=asked.requested_by,
        requested_at=asked.requested_at,
        decided_by=asked.decided_by,
        decided_at=asked.decided_at,
    )
