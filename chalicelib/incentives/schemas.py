"""Request and response shapes of the incentives routes; validators are built on first use (see
registration)."""

from __future__ import annotations

import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from chalicelib.core.schemas import Instant, ResponseModel
from chalicelib.core.validation import Plain
from chalicelib.incentives.model import Kind, PaymentStatus
from chalicelib.incentives.stores.approvals import ApprovalStatus


class AccountRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    # Checked against the partners by the use case, which answers UNKNOWN_PARTNER.
    partner_id: Annotated[str, StringConstraints(min_length=1, max_length=20)]
    # Its shape is the partner's (`partners.valid_account_number`), answered INVALID_ACCOUNT_NUMBER.
    account_number: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]
    account_name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), Plain
    ]


class DecisionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    decision: Literal["APPROVE", "REJECT"]


class ApprovalQuery(BaseModel):
    """The approvals list's query parameter (the view reads it itself: this documents it)."""

    status: ApprovalStatus = ApprovalStatus.PENDING


class CallbackBody(BaseModel):
    """A partner's status callback (docs/PARTNERS.md, "Status callback"), signed in its headers.
    `callbacks.receive` reads it after the signature holds: this documents it."""

    status: str = Field(description="PAID, FAILED, REVERSED (a paid transfer taken back) or UNKNOWN.")
    reference: str = Field(description="The attempt's reference, the partner's idempotency key.")
    transfer_id: str
    amount: int
    currency: str = Field(description="IDR.")
    reason: str | None = None
    settled_at: str | None = Field(default=None, description="ISO 8601 with offset.")


class DisbursementQuery(BaseModel):
    """The disbursement view's query parameter (the view reads it itself: this documents it)."""

    date: datetime.date | None = Field(
        default=None, description="The day (YYYY-MM-DD); the programme's today if left out."
    )


# --- answers ------------------------------------------------------------------------------------


class AccountView(ResponseModel):
    partner_id: str
    account_number: str = Field(description="Masked to its last four digits.")
    verified: bool
    reason: str | None


class PaymentView(ResponseModel):
    payment_id: str
    kind: Kind
    number: int
    amount: int
    due_date: datetime.date
    status: PaymentStatus
    reason: str | None
    paid_at: Instant | None


class PaymentsSection(ResponseModel):
    """The incentives domain's part of the participant record."""

    payment_account: AccountView | None
    payments: list[PaymentView]


class PaymentState(ResponseModel):
    payment_id: str
    status: PaymentStatus


class SettlementFile(ResponseModel):
    stage: str
    reason: str | None
    counts: dict[str, int]


class PartnerDay(ResponseModel):
    """A partner's payments of the day: a count and an amount for each step a payment takes."""

    due_count: int
    due_amount: int
    sent_count: int
    sent_amount: int
    paid_count: int
    paid_amount: int
    failed_count: int
    failed_amount: int
    needs_action_count: int
    needs_action_amount: int
    reconciled_count: int
    reconciled_amount: int
    settlement_file: SettlementFile | None
    mismatch_count: int


class MismatchView(ResponseModel):
    partner_id: str
    reference: str
    kind: str
    details: dict[str, Any]
    found_at: Instant


class DisbursementView(ResponseModel):
    date: datetime.date
    partners: dict[str, PartnerDay]
    mismatches: list[MismatchView] = Field(description="The first 500 of the day.")


class ApprovalView(ResponseModel):
    """A request for a second admin, as admins see it: references and amounts, never a person."""

    approval_id: str
    kind: str
    status: ApprovalStatus
    payment_id: str
    amount: int
    reason: str | None
    requested_by: str
    requested_at: Instant
    decided_by: str | None
    decided_at: Instant | None


class ApprovalList(ResponseModel):
    approvals: list[ApprovalView]
