"""The domain's errors: each carries the contract's stable code and the HTTP status it maps to.

Domain code raises these and never builds a response; `chalicelib.core.http` turns them into the
contract's JSON in one place. Messages are Indonesian (they reach the public) and never carry
personal data: `fields` names what was wrong, not what was sent.
"""

from __future__ import annotations


class DomainError(Exception):
    status = 400
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
    status = 400
    code = "MALFORMED_JSON"
    message = "Isi permintaan bukan JSON yang sah."


class Unauthenticated(DomainError):
    status = 401
    code = "UNAUTHENTICATED"
    message = "Token tidak ada atau tidak sah."


class Forbidden(DomainError):
    status = 403
    code = "FORBIDDEN"
    message = "Anda tidak berhak mengakses sumber ini."


class NotFound(DomainError):
    status = 404
    code = "NOT_FOUND"
    message = "Data tidak ditemukan."


class Conflict(DomainError):
    status = 409
    code = "CONFLICT"
    message = "Permintaan bertentangan dengan keadaan saat ini."


class PayloadTooLarge(DomainError):
    status = 413
    code = "PAYLOAD_TOO_LARGE"
    message = "Isi permintaan terlalu besar."


class ValidationFailed(DomainError):
    status = 422
    code = "VALIDATION_FAILED"
    message = "Data tidak valid."


class Throttled(DomainError):
    status = 429
    code = "THROTTLED"
    message = "Terlalu banyak permintaan; coba lagi sebentar lagi."


class ServiceUnavailable(DomainError):
    """A dependency (DynamoDB, a partner) failed; the request may be retried as it is."""

    status = 503
    code = "SERVICE_UNAVAILABLE"
    message = "Layanan sedang sibuk; coba lagi sebentar lagi."
