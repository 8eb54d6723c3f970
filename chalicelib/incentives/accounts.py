"""Linking the account incentives are paid into, verified with its partner."""

from __future__ import annotations

from dataclasses import replace

from chalicelib.core import clock
from chalicelib.core.errors import ServiceUnavailable
from chalicelib.core.observability import logger
from chalicelib.core.storage import Refused, UnitOfWork
from chalicelib.incentives import partners, schedules
from chalicelib.incentives.errors import AccountNotVerified, InvalidAccountNumber, UnknownPartner
from chalicelib.incentives.model import PaymentAccount, PaymentStatus
from chalicelib.incentives.schemas import AccountRequest
from chalicelib.incentives.stores import accounts as store
from chalicelib.incentives.stores import payments
from chalicelib.incentives.transitions import ACCOUNT_REASONS
from chalicelib.registration import service as registration
from chalicelib.registration.model import Status

# Waiting for someone to act, or not yet sent: such payments follow the newly linked account.
_FOLLOW = frozenset({PaymentStatus.DUE, PaymentStatus.FAILED, PaymentStatus.NEEDS_ACTION})


def link_account(account: str, request: AccountRequest) -> dict[str, object]:
    """Verify the account with its partner and keep it if it passes; a payment that waited for a
    new account (a closed one) is due again."""
    participant = registration.own_record(account)
    if participant.status is Status.REVOKED:
        raise registration.Revoked()
    if not partners.is_partner(request.partner_id):
        raise UnknownPartner(fields={"partner_id": "salah satu dari " + ", ".join(partners.PARTNERS)})
    if not partners.valid_account_number(request.partner_id, request.account_number):
        hint = partners.account_number_hint(request.partner_id)
        raise InvalidAccountNumber(fields={"account_number": hint})
    try:
        check = partners.client_for(request.partner_id).verify_account(
            request.account_number, request.account_name, participant.nik
        )
    except partners.PartnerError as error:
        raise ServiceUnavailable("Mitra pembayaran sedang tidak dapat dihubungi; coba lagi.") from error
    if not check.verified:
        logger.info(
            "payment account refused", extra={"partner_id": request.partner_id, "reason": check.reason}
        )
        raise AccountNotVerified(fields={"account_number": check.reason or "tidak terverifikasi"})
    now = clock.now()
    linked = PaymentAccount(
        participant_id=participant.participant_id,
        partner_id=request.partner_id,
        account_number=request.account_number,
        account_name=request.account_name,
        verified=True,
        reason=None,
        linked_at=now,
    )
    store.save_account(linked)
    _follow(participant.participant_id, request.partner_id)
    if store.mark_ready(participant.participant_id, verified_at=now):
        schedules.owe_incentives(participant.participant_id)
    logger.info("payment account linked", extra={"participant_id": participant.participant_id})
    shown = store.account_shown(participant.participant_id)
    assert shown is not None
    return shown


def _follow(participant_id: str, partner_id: str) -> None:
    """Point the payments not yet under way at the new account's partner; one that waited for a
    new account is due again, today."""
    today = registration.programme_today()
    for payment in payments.payments_of(participant_id):
        if payment.status not in _FOLLOW:
            continue
        waited = payment.status is PaymentStatus.NEEDS_ACTION and (payment.reason or "") in ACCOUNT_REASONS
        if payment.status is PaymentStatus.NEEDS_ACTION and not waited:
            continue
        moved = replace(payment, partner_id=partner_id)
        if waited:
            moved = replace(moved, status=PaymentStatus.DUE, due_date=today, reason=None)
        unit = UnitOfWork()
        payments.move(unit, payment, moved)
        if waited:
            payments.add_history(
                unit, payment, moved.status, clock.now(), "participant", {"relinked": partner_id}
            )
        try:
            unit.commit()
        except Refused:
            logger.info("payment moved while its account changed", extra={"payment_id": payment.payment_id})
