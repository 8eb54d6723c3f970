"""Training's refusals, each with the contract's code and an Indonesian message."""

from __future__ import annotations

from chalicelib.core.errors import Conflict, Forbidden, NotFound, ValidationFailed


class CourseNotFound(NotFound):
    code = "COURSE_NOT_FOUND"
    message = "Pelatihan tidak ditemukan."


class CourseOfAnotherPlatform(Forbidden):
    code = "COURSE_OF_ANOTHER_PLATFORM"
    message = "Pelatihan ini milik platform lain."


class CourseInactive(Conflict):
    code = "COURSE_INACTIVE"
    message = "Pelatihan ini sedang tidak dijual."


class NotSelected(Conflict):
    code = "NOT_SELECTED"
    message = "Hanya penerima Kartu Prakerja yang dapat membeli pelatihan."


class Revoked(Conflict):
    code = "REVOKED"
    message = "Kepesertaan Anda telah dicabut."


class InsufficientBalance(Conflict):
    code = "INSUFFICIENT_BALANCE"
    message = "Saldo pelatihan Anda tidak cukup."


class BalanceExpired(Conflict):
    code = "BALANCE_EXPIRED"
    message = "Masa penggunaan saldo pelatihan Anda telah berakhir."


class PurchaseDeadlinePassed(Conflict):
    code = "PURCHASE_DEADLINE_PASSED"
    message = "Batas waktu pembelian pelatihan pertama Anda telah lewat."


class PriceChanged(Conflict):
    code = "PRICE_CHANGED"
    message = "Harga pelatihan ini sudah berubah; periksa harga barunya sebelum membeli."


class AlreadyPurchased(Conflict):
    code = "ALREADY_PURCHASED"
    message = "Anda sudah membeli pelatihan ini."


class PurchaseNotFound(NotFound):
    code = "PURCHASE_NOT_FOUND"
    message = "Pembelian tidak ditemukan."


class PurchaseOfAnotherPlatform(Forbidden):
    code = "PURCHASE_OF_ANOTHER_PLATFORM"
    message = "Pembelian ini bukan milik platform Anda."


class CompletedBeforePurchase(ValidationFailed):
    code = "COMPLETED_BEFORE_PURCHASE"
    message = "Waktu selesai tidak boleh sebelum waktu pembelian."


class CompletedInFuture(ValidationFailed):
    code = "COMPLETED_IN_FUTURE"
    message = "Waktu selesai tidak boleh di masa depan."


class AlreadyCompleted(Conflict):
    code = "ALREADY_COMPLETED"
    message = "Pembelian ini sudah dilaporkan selesai dengan data lain."


class NotCompleted(Conflict):
    code = "NOT_COMPLETED"
    message = "Anda hanya dapat menilai pelatihan yang sudah Anda selesaikan."


class AlreadyRated(Conflict):
    code = "ALREADY_RATED"
    message = "Anda sudah menilai pelatihan ini."


class AlreadyRevoked(Conflict):
    code = "ALREADY_REVOKED"
    message = "Kepesertaan ini sudah dicabut."
