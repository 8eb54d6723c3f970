"""A partner's status callback (docs/PARTNERS.md): verified, then applied like any of its answers.

The signature is checked over the raw bytes before anything reads them. Callbacks come at least
once and in any order: `disbursement.record_answer` applies one only if it ranks above what is
recorded, so a repeat or a late `ACCEPTED` changes nothing and a `FAILED` after `PAID` is kept
for reconciliation, never applied. What cannot be applied (an unknown payment, another amount or
currency, a reversal) is kept as a mismatch of the day for reconciliation, and the partner is told
why. The answer is 2xx only once the callback's effect is stored.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from chalicelib.core import clock
from chalicelib.core.errors import Forbidden, ValidationFailed
from chalicelib.core.observability import logger
from chalicelib.incentives import disbursement, partners
from chalicelib.incentives.errors import AmountMismatch, BadSignature, PaymentNotFound
from chalicelib.incentives.model import payment_id_shape
from chalicelib.incentives.stores import mismatches, payments
from chalicelib.registration import service as registration

CURRENCY = "IDR"


def receive(
    partner_id: str, payment_id: str, headers: Mapping[str, str], raw_body: bytes
) -> dict[str, object]:
    if not partners.verify_callback(partner_id, headers, raw_body, time.time()):
        raise BadSignature()
    try:
        callback = partners.read_callback(raw_body)
    except partners.Unreadable as error:
        raise ValidationFailed(fields={"body": str(error)}) from error
    payment, attempts = payments.payment(payment_id) if payment_id_shape(payment_id) else (None, {})
    attempt = attempts.get(callback.reference)
    details: dict[str, object] = {
        "payment_id": payment_id,
        "status": callback.partner_status,
        "amount": callback.amount,
        "currency": callback.currency,
        "transfer_id": callback.transfer_id,
    }
    if payment is None or attempt is None:
        _park(partner_id, callback.reference, "UNKNOWN_PAYMENT", details)
        raise PaymentNotFound()
    if attempt.partner_id != partner_id:
        raise Forbidden("Pembayaran ini dikirim melalui mitra lain.", code="WRONG_PARTNER")
    if callback.currency != CURRENCY or callback.amount != attempt.amount:
        _park(partner_id, callback.reference, "AMOUNT_DIFFERS", {**details, "recorded": attempt.amount})
        raise AmountMismatch()
    if callback.status in (partners.CallbackStatus.REVERSED, partners.CallbackStatus.UNKNOWN):
        _park(partner_id, callback.reference, f"CALLBACK_{callback.status.value}", details)
        return {"payment_id": payment_id, "status": payment.status.value}
    disbursement.record_answer(
        payment,
        attempt,
        callback.status.value,
        callback.reason,
        callback.amount,
        callback.transfer_id,
        actor=f"partner:{partner_id}",
        settled_at=callback.settled_at,
    )
    current, _ = payments.payment(payment_id)
    return {"payment_id": payment_id, "status": (current or payment).status.value}


def _park(partner_id: str, reference: str, kind: str, details: dict[str, object]) -> None:
    mismatches.add(registration.programme_today(), partner_id, reference[:120], kind, details, clock.now())
    logger.warning("partner callback parked", extra={"partner_id": partner_id, "kind": kind})
