"""What can go wrong when the programme talks to a payment partner, as the kinds a caller must act
on differently to pay exactly once (docs/PARTNERS.md).

- `PartnerUnavailable`: nothing was created (429, 5xx, connection refused, circuit open, no
  configuration). The same request, with the same key, may be sent again later.
- `PartnerTimeout`: the outcome is unknown. The transfer may exist: ask `transfer(reference)` or
  resend with the same key; never mint a new reference for it.
- `PartnerRefused`: the partner said no, definitely (4xx), with its code. Nothing changed.
"""

from __future__ import annotations


class PartnerError(Exception):
    def __init__(self, partner_id: str, detail: str) -> None:
        super().__init__(f"{partner_id}: {detail}")
        self.partner_id = partner_id
        self.detail = detail


class UnknownPartner(ValueError):
    """A partner id that is none of the programme's partners."""

    def __init__(self, partner_id: str) -> None:
        super().__init__(f"unknown payment partner {partner_id!r}")
        self.partner_id = partner_id


class PartnerUnavailable(PartnerError):
    """Nothing was created; safe to send the same request (same key) again later.

    `status` is the partner's HTTP status when it answered (429, 5xx), None when it could not be
    reached or was not asked at all (`circuit_open`).
    """

    def __init__(
        self,
        partner_id: str,
        detail: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        circuit_open: bool = False,
    ) -> None:
        super().__init__(partner_id, detail)
        self.status = status
        self.retry_after = retry_after
        self.circuit_open = circuit_open

    @property
    def retryable(self) -> bool:
        """Only a partner that answered 429 or 5xx is asked again at once: a refused connection or
        an open circuit says it is down, and sending again now would only pile on."""
        return self.status is not None


class PartnerNotConfigured(PartnerUnavailable):
    """No base URL or no secret for this partner in this stage: nothing was sent. An operator's
    fix, after which the same request can go out unchanged."""


class PartnerTimeout(PartnerError):
    """The outcome is unknown: no answer within the timeout, a connection dropped after the request
    went out, or a success answer that could not be read. The transfer may or may not exist."""


class PartnerRefused(PartnerError):
    """A definite refusal (4xx other than 429): `code` is the partner's, e.g.
    `IDEMPOTENCY_KEY_REUSED` (409: this reference was sent with another body; the first transfer
    stands, ask its status), `INVALID_ACCOUNT_NUMBER` or `VALIDATION_FAILED` (422), `BAD_SIGNATURE`
    (401: a wrong secret or clock)."""

    def __init__(self, partner_id: str, status: int, code: str, message: str = "") -> None:
        super().__init__(partner_id, f"{status} {code}")
        self.status = status
        self.code = code
        self.message = message
