"""What the incentives domain shows: its part of the participant record, and the admins' view of
a day's disbursement. Account numbers appear masked, and mismatches name references, not people."""

from __future__ import annotations

from datetime import date
from typing import Any

from chalicelib.incentives import figures
from chalicelib.incentives.model import Payment
from chalicelib.incentives.partners import PARTNERS
from chalicelib.incentives.stores import accounts, mismatches, payments, settlements
from chalicelib.incentives.stores.approvals import Approval
from chalicelib.registration.model import Participant

# The mismatches of a day shown at once; the report file in the bucket lists them all.
MISMATCHES_SHOWN = 500


def payment_view(payment: Payment) -> dict[str, object]:
    return {
        "payment_id": payment.payment_id,
        "kind": payment.kind.value,
        "number": payment.number,
        "amount": payment.amount,
        "due_date": payment.due_date.isoformat(),
        "status": payment.status.value,
        "reason": payment.reason,
        "paid_at": payment.paid_at.isoformat() if payment.paid_at else None,
    }


def payments_section(participant: Participant) -> dict[str, object]:
    """The incentives domain's part of the participant record (`app.py` adds it to registration's):
    two reads, the account and the partition's payments, however many there are."""
    owed = sorted(payments.payments_of(participant.participant_id), key=lambda p: (p.kind, p.number))
    return {
        "payment_account": accounts.account_shown(participant.participant_id),
        "payments": [payment_view(payment) for payment in owed],
    }


def disbursement(day: date) -> dict[str, object]:
    """Per partner on `day`: counts and amounts due, sent, paid, failed, waiting for action and
    reconciled, its settlement file's reconciliation, and the mismatches found."""
    found = mismatches.of_day(day)
    view: dict[str, object] = {"date": day.isoformat(), "partners": {}}
    partners: dict[str, object] = {}
    for partner_id in PARTNERS:
        reconciliation = settlements.state(partner_id, day)
        partners[partner_id] = {
            **figures.daily(day, partner_id),
            "settlement_file": None
            if reconciliation is None
            else {
                "stage": reconciliation.stage.value,
                "reason": reconciliation.reason,
                "counts": reconciliation.counts,
            },
            "mismatch_count": sum(1 for mismatch in found if mismatch.partner_id == partner_id),
        }
    view["partners"] = partners
    view["mismatches"] = [
        {
            "partner_id": mismatch.partner_id,
            "reference": mismatch.reference,
            "kind": mismatch.kind,
            "details": mismatch.details,
            "found_at": mismatch.found_at.isoformat(),
        }
        for mismatch in found[:MISMATCHES_SHOWN]
    ]
    return view


def approval(asked: Approval) -> dict[str, Any]:
    """A request for a second admin, as admins see it: references and amounts, never a person."""
    return {
        "approval_id": asked.approval_id,
        "kind": asked.kind,
        "status": asked.status.value,
        "payment_id": asked.payment_id,
        "amount": asked.amount,
        "reason": asked.reason,
        "requested_by": asked.requested_by,
        "requested_at": asked.requested_at.isoformat(),
        "decided_by": asked.decided_by,
        "decided_at": asked.decided_at.isoformat() if asked.decided_at else None,
    }
