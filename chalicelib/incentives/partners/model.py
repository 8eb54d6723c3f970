"""The partners' answers as the programme reads them: frozen, and never more certain than the partner.

A status the programme does not know is `UNKNOWN`, never a success: a partner that adds a state
(`SETTLING`, `ON_HOLD`) must not make a payment look paid. Names and account numbers are kept out
of `repr`, so an answer logged whole carries no personal data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

_Status = TypeVar("_Status", bound=StrEnum)


class AccountStatus(StrEnum):
    VERIFIED = "VERIFIED"
    REJECTED = "REJECTED"
    UNKNOWN = "UNKNOWN"


class TransferStatus(StrEnum):
    ACCEPTED = "ACCEPTED"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    UNKNOWN = "UNKNOWN"


class CallbackStatus(StrEnum):
    PAID = "PAID"
    FAILED = "FAILED"
    REVERSED = "REVERSED"
    UNKNOWN = "UNKNOWN"


class Unreadable(ValueError):
    """An answer or callback without the fields the protocol promises."""


@dataclass(frozen=True)
class AccountCheck:
    status: AccountStatus
    reason: str | None = None
    account_holder: str | None = field(default=None, repr=False)

    @property
    def verified(self) -> bool:
        return self.status is AccountStatus.VERIFIED

    @classmethod
    def of(cls, answer: Any) -> AccountCheck:
        if not isinstance(answer, dict) or not isinstance(answer.get("status"), str):
            raise Unreadable("an account check without a status")
        return cls(
            _member(AccountStatus, answer["status"]),
            _text(answer.get("reason")),
            _text(answer.get("account_holder")),
        )


@dataclass(frozen=True)
class Transfer:
    """One transfer as the partner holds it; `reference` is the programme's attempt id."""

    transfer_id: str
    reference: str
    status: TransferStatus
    amount: int
    reason: str | None = None
    created_at: datetime | None = None
    partner_status: str = ""
    settled_at: datetime | None = None

    @property
    def final(self) -> bool:
        return self.status in (TransferStatus.COMPLETED, TransferStatus.FAILED)

    @classmethod
    def of(cls, answer: Any) -> Transfer:
        if not isinstance(answer, dict):
            raise Unreadable("a transfer that is not an object")
        transfer_id, reference, status = (answer.get(name) for name in ("transfer_id", "reference", "status"))
        amount = answer.get("amount")
        if not (isinstance(transfer_id, str) and isinstance(reference, str) and isinstance(status, str)):
            raise Unreadable("a transfer without its id, reference or status")
        if not isinstance(amount, int) or isinstance(amount, bool):
            raise Unreadable("a transfer without an integer amount")
        return cls(
            transfer_id=transfer_id,
            reference=reference,
            status=_member(TransferStatus, status),
            amount=amount,
            reason=_text(answer.get("reason")),
            created_at=_moment(answer.get("created_at")),
            partner_status=status,
            settled_at=_moment(answer.get("settled_at")),
        )


@dataclass(frozen=True)
class Callback:
    """A partner's status callback, read only after its signature held (`verify_callback`)."""

    status: CallbackStatus
    reference: str
    transfer_id: str
    amount: int
    currency: str
    reason: str | None = None
    settled_at: datetime | None = None
    partner_status: str = ""


def read_callback(raw_body: bytes) -> Callback:
    """The callback's fields (docs/PARTNERS.md, "Status callback"), or `Unreadable`."""
    try:
        body = json.loads(raw_body)
    except ValueError as error:
        raise Unreadable("a callback that is not JSON") from error
    if not isinstance(body, dict):
        raise Unreadable("a callback that is not an object")
    status, reference, transfer_id, currency = (
        body.get(name) for name in ("status", "reference", "transfer_id", "currency")
    )
    amount = body.get("amount")
    if not all(isinstance(value, str) for value in (status, reference, transfer_id, currency)):
        raise Unreadable("a callback without its status, reference, transfer id or currency")
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise Unreadable("a callback without an integer amount")
    return Callback(
        status=_member(CallbackStatus, str(status)),
        reference=str(reference),
        transfer_id=str(transfer_id),
        amount=amount,
        currency=str(currency),
        reason=_text(body.get("reason")),
        settled_at=_moment(body.get("settled_at")),
        partner_status=str(status),
    )


def _member(kind: type[_Status], value: str) -> _Status:
    try:
        return kind(value)
    except ValueError:
        return kind("UNKNOWN")


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _moment(value: Any) -> datetime | None:
    """An aware time, or None: a partner's odd timestamp must not cost the answer it came with."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None
