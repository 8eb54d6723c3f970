"""The incentives domain's refusals, each with the contract's code and an Indonesian message."""

from __future__ import annotations

from chalicelib.core.errors import Conflict, NotFound, Unauthenticated, ValidationFailed


class UnknownPartner(ValidationFailed):
    code = "UNKNOWN_PARTNER"
    message = "Mitra pembayaran tidak dikenal."


class InvalidAccountNumber(ValidationFailed):
    code = "INVALID_ACCOUNT_NUMBER"
    message = "Nomor rekening tidak sesuai dengan format mitra pembayaran ini."


class AccountNotVerified(ValidationFailed):
    code = "ACCOUNT_NOT_VERIFIED"
    message = "Rekening tidak dapat diverifikasi oleh mitra pembayaran."


class PaymentNotFound(NotFound):
    code = "PAYMENT_NOT_FOUND"
    message = "Pembayaran tidak ditemukan."


class BadSignature(Unauthenticated):
    code = "BAD_SIGNATURE"
    message = "Tanda tangan permintaan tidak sah."


class AmountMismatch(Conflict):
    code = "AMOUNT_MISMATCH"
    message = "Jumlah atau mata uang tidak sesuai dengan pembayaran; dicatat untuk rekonsiliasi."
