"""The incentives domain's objects: what a participant is owed, each try at paying it, and the
account it is paid into (PAYMENTS.md: entitlements and attempts).

A payment is one entitlement: its id comes from the data (`<participant>-INCENTIVE-<n>`,
`<participant>-SURVEY-<n>`), so the same thing can never be owed twice. An attempt is one try at
paying it through a partner; its id (`<payment id>-A<k>`) is ours, written before the first call,
sent as the partner's idempotency key and reference, and reused for every resend of that attempt.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum


class Kind(StrEnum):
    INCENTIVE = "INCENTIVE"
    SURVEY = "SURVEY"


class PaymentStatus(StrEnum):
    """The contract's payment states. DUE waits in the due index; SENDING has an attempt under way;
    SENT was accepted by the partner, which has not yet said it paid; PAID and RECONCILED are
    final; FAILED failed definitely and will be tried again; NEEDS_ACTION waits for the
    participant (a closed account) or an admin (a revoked participant's payment, never sent)."""

    DUE = "DUE"
    SENDING = "SENDING"
    SENT = "SENT"
    PAID = "PAID"
    FAILED = "FAILED"
    NEEDS_ACTION = "NEEDS_ACTION"
    RECONCILED = "RECONCILED"


class AttemptState(StrEnum):
    """One try at paying (PAYMENTS.md). SUBMITTING is written before the partner is called; a
    worker that finds SUBMITTING or UNKNOWN asks the partner about that reference, or resends it
    unchanged, and never starts another attempt."""

    CREATED = "CREATED"
    SUBMITTING = "SUBMITTING"
    ACCEPTED = "ACCEPTED"
    UNKNOWN = "UNKNOWN"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    REVERSED = "REVERSED"


FINAL_ATTEMPTS = frozenset({AttemptState.SUCCEEDED, AttemptState.FAILED, AttemptState.REVERSED})


@dataclass(frozen=True)
class Payment:
    """What a participant is owed, frozen when the schedule is made: later changes of the
    programme's rules or of the participant change no amount or date already owed."""

    payment_id: str
    participant_id: str
    kind: Kind
    number: int
    amount: int
    due_date: date
    province_code: str
    status: PaymentStatus = PaymentStatus.DUE
    attempts: int = 0
    failures: int = 0
    partner_id: str | None = None
    reason: str | None = None
    paid_at: datetime | None = None
    version: int = 0

    @property
    def current_attempt(self) -> str | None:
        return attempt_id(self.payment_id, self.attempts) if self.attempts else None


@dataclass(frozen=True)
class Attempt:
    attempt_id: str
    payment_id: str
    partner_id: str
    amount: int
    state: AttemptState
    created_at: datetime
    transfer_id: str | None = None
    reason: str | None = None
    account_number: str | None = None
    account_name: str | None = None
    version: int = 0


@dataclass(frozen=True)
class PaymentAccount:
    """Where a participant's incentives go; the number itself is held encrypted and shown masked."""

    participant_id: str
    partner_id: str
    account_number: str
    account_name: str
    verified: bool
    reason: str | None
    linked_at: datetime


_PAYMENT_ID = re.compile(r"^[0-9A-Za-z-]{1,64}-(INCENTIVE|SURVEY)-[0-9]{1,2}$")


def payment_id_shape(value: str) -> bool:
    """Whether `value` is shaped like a payment id (a path parameter is checked before any read)."""
    return bool(_PAYMENT_ID.match(value))


def payment_id(participant_id: str, kind: Kind, number: int) -> str:
    return f"{participant_id}-{kind.value}-{number}"


def attempt_id(payment: str, number: int) -> str:
    return f"{payment}-A{number}"


def payment_of_attempt(attempt: str) -> str:
    return attempt.rpartition("-A")[0]


def participant_of_payment(payment: str) -> str:
    """The participant a payment id names (ids are `<participant id>-<KIND>-<n>`)."""
    return payment.rsplit("-", 2)[0]
