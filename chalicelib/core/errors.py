"""The domain's errors, by kind: each carries the contract's stable code and an Indonesian message.

Domain code raises these and never builds a response, nor knows what HTTP is: `core.http` maps
each kind to its status and the contract's JSON, in one place. Messages reach the public and never
carry personal data: `fields` names what was wrong, not what was sent.
"""

from __future__ import annotations


class DomainError(Exception):
    code = "BAD_REQUEST"
    message = "Permintaan tidak dapat diproses."

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        fields: dict[str, str] | None = None,
    ) -> None:
        self.message = message or type(self).message
        self.code = code or type(self).code
        self.fields = fields or {}
        super().__init__(self.code)


class MalformedRequest(DomainError):
    code = "MALFORMED_JSON"
    message = "Isi permintaan bukan JSON yang sah."


class Unauthenticated(DomainError):
    code = "UNAUTHENTICATED"
    message = "Token tidak ada atau tidak sah."


class Forbidden(DomainError):
    code = "FORBIDDEN"
    message = "Anda tidak berhak mengakses sumber ini."


class WrongProvince(Forbidden):
    code = "WRONG_PROVINCE"
    message = "Anda hanya berhak atas data provinsi Anda."


class NotFound(DomainError):
    code = "NOT_FOUND"
    message = "Data tidak ditemukan."


class Conflict(DomainError):
    code = "CONFLICT"
    message = "Permintaan bertentangan dengan keadaan saat ini."


class ConcurrentUpdate(Conflict):
    """Whatever a use case acted on kept changing under it: the caller may simply try again."""

    code = "CONCURRENT_UPDATE"
    message = "Data Anda sedang berubah; coba lagi."


class PayloadTooLarge(DomainError):
    code = "PAYLOAD_TOO_LARGE"
    message = "Isi permintaan terlalu besar."


class ValidationFailed(DomainError):
    code = "VALIDATION_FAILED"
    message = "Data tidak valid."


class Throttled(DomainError):
    code = "THROTTLED"
    message = "Terlalu banyak permintaan; coba lagi sebentar lagi."


class ServiceUnavailable(DomainError):
    """A dependency (DynamoDB, a partner) failed; the request may be retried as it is."""

    code = "SERVICE_UNAVAILABLE"
    message = "Layanan sedang sibuk; coba lagi sebentar lagi."
