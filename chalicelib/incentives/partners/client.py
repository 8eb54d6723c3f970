"""The programme's side of docs/PARTNERS.md: verify an account, send a transfer, ask about one.

The same code talks to a real partner and to the local stack's fake; only the base URL and the
secret differ. Each request is signed anew (a fresh timestamp over the same bytes), answered
within a timeout, sent again on 429 and 5xx only (with the same Idempotency-Key, after a jittered,
growing pause, a bounded number of times), and passes its partner's circuit breaker. What could
not be settled comes back as one of three exceptions (`errors.py`), so the disbursement logic acts
on each exactly once.

urllib3 (which botocore brings, so it costs the bundle nothing) and pybreaker are imported on the
first request: most invocations of this app never pay anyone, and cold starts count.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import quote

from chalicelib.core.observability import logger
from chalicelib.core.settings import settings
from chalicelib.incentives.partners.accounts import known
from chalicelib.incentives.partners.breaker import Breaker, breaker_for
from chalicelib.incentives.partners.errors import (
    PartnerNotConfigured,
    PartnerRefused,
    PartnerTimeout,
    PartnerUnavailable,
)
from chalicelib.incentives.partners.model import AccountCheck, Transfer, Unreadable
from chalicelib.incentives.partners.secrets import partner_secret
from chalicelib.incentives.partners.signing import signed_headers

CURRENCY = "IDR"
# However long a pause the backoff or a partner's Retry-After asks for, a Lambda waits no longer.
MAX_PAUSE_SECONDS = 5.0
# Connecting takes no longer than this even when answers may take longer: a partner that cannot
# be reached in it is down, and nothing was sent.
MAX_CONNECT_SECONDS = 3.0
POOL_CONNECTIONS_PER_HOST = 10


@dataclass(frozen=True)
class Answer:
    """A partner's HTTP answer, before it is read as an outcome."""

    status: int
    body: Any
    retry_after: float | None = None

    @property
    def code(self) -> str:
        """The partner's error code (`{"error": {"code": …}}`), else one made of the status."""
        error = self.body.get("error") if isinstance(self.body, dict) else None
        code = error.get("code") if isinstance(error, dict) else None
        return code if isinstance(code, str) and code else f"HTTP_{self.status}"

    @property
    def message(self) -> str:
        error = self.body.get("error") if isinstance(self.body, dict) else None
        message = error.get("message") if isinstance(error, dict) else None
        return message if isinstance(message, str) else ""


class PartnerClient:
    def __init__(
        self,
        partner_id: str,
        *,
        base_url: str,
        secret: Callable[[], bytes],
        timeout_seconds: float,
        retries: int,
        backoff_seconds: float,
        breaker: Breaker,
        sleep: Callable[[float], None] = time.sleep,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.partner_id = partner_id
        self.base_url = base_url.rstrip("/")
        self._secret = secret
        self.timeout_seconds = timeout_seconds
        self.retries = retries
        self.backoff_seconds = backoff_seconds
        self.breaker = breaker
        self._sleep = sleep
        self._wall_clock = wall_clock

    def verify_account(self, account_number: str, account_name: str, nik: str) -> AccountCheck:
        """Whether the account exists, is open, passed the partner's identity check and is `nik`'s."""
        body = {"account_number": account_number, "account_name": account_name, "nik": nik}
        answer = self._exchange("POST", "/accounts/verify", body)
        if answer.status != 200:
            raise self._refused(answer)
        try:
            return AccountCheck.of(answer.body)
        except Unreadable as error:
            raise PartnerTimeout(self.partner_id, f"unreadable account check: {error}") from error

    def send_transfer(
        self, reference: str, amount: int, account_number: str, account_name: str, callback_url: str
    ) -> Transfer:
        """Ask the partner to pay `amount` under `reference`, which is also the Idempotency-Key.

        Sending the same reference with the same details again never makes a second transfer: the
        partner answers with the first one. That is how a timeout is resolved, never by a new
        reference.
        """
        if not reference:
            raise ValueError("a transfer needs its reference")
        body = {
            "reference": reference,
            "amount": amount,
            "currency": CURRENCY,
            "account_number": account_number,
            "account_name": account_name,
            "callback_url": callback_url,
        }
        answer = self._exchange("POST", "/transfers", body, idempotency_key=reference)
        if answer.status not in (200, 201):
            raise self._refused(answer)
        return self._transfer(answer, reference)

    def transfer(self, reference: str) -> Transfer | None:
        """The partner's transfer under `reference`, or None when it has none (a definite answer:
        a transfer that timed out before the partner made it)."""
        answer = self._exchange("GET", f"/transfers/{quote(reference, safe='')}", None)
        if answer.status == 404 and answer.code == "NOT_FOUND":
            return None
        if answer.status != 200:
            raise self._refused(answer)
        return self._transfer(answer, reference)

    def _transfer(self, answer: Answer, reference: str) -> Transfer:
        try:
            transfer = Transfer.of(answer.body)
        except Unreadable as error:
            # A success whose body cannot be read: the transfer may exist, in an unknown state.
            raise PartnerTimeout(self.partner_id, f"unreadable transfer: {error}") from error
        if transfer.reference != reference:
            raise PartnerTimeout(self.partner_id, "the answer names another reference")
        return transfer

    def _refused(self, answer: Answer) -> PartnerRefused:
        logger.warning(
            "partner refused",
            extra={"partner_id": self.partner_id, "status": answer.status, "code": answer.code},
        )
        return PartnerRefused(self.partner_id, answer.status, answer.code, answer.message)

    def _exchange(
        self, method: str, path: str, payload: dict[str, Any] | None, idempotency_key: str | None = None
    ) -> Answer:
        """One request, sent again on 429/5xx with the same bytes and key; the answer is 2xx or 4xx."""
        url = self._url(path)
        body = b"" if payload is None else json.dumps(payload, separators=(",", ":")).encode()
        headers = {"Accept": "application/json"}
        if payload is not None:
            headers["Content-Type"] = "application/json"
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        attempt = 0
        while True:
            try:
                return self._attempt(method, url, body, headers)
            except PartnerUnavailable as unavailable:
                if not unavailable.retryable or attempt >= self.retries:
                    raise
                pause = backoff(attempt, self.backoff_seconds, unavailable.retry_after)
                logger.warning(
                    "partner busy, sending again",
                    extra={"partner_id": self.partner_id, "status": unavailable.status, "pause": pause},
                )
                self._sleep(pause)
                attempt += 1

    def _attempt(self, method: str, url: str, body: bytes, headers: dict[str, str]) -> Answer:
        self.breaker.admit()
        signed = {**headers, **signed_headers(self._secret(), body, self._wall_clock())}
        try:
            answer = _send(self.partner_id, method, url, body, signed, self.timeout_seconds)
        except (PartnerUnavailable, PartnerTimeout) as error:
            self.breaker.failed(error)
        if answer.status == 429 or answer.status >= 500:
            self.breaker.failed(
                PartnerUnavailable(
                    self.partner_id,
                    f"answered {answer.status} {answer.code}",
                    status=answer.status,
                    retry_after=answer.retry_after,
                )
            )
        self.breaker.succeeded()
        return answer

    def _url(self, path: str) -> str:
        if not self.base_url.startswith(("http://", "https://")):
            raise PartnerNotConfigured(self.partner_id, "no base URL (PARTNERS_URL)")
        return self.base_url + path


def client_for(partner_id: str) -> PartnerClient:
    """The client of one partner (`UnknownPartner` for any other id), configured from the settings.

    Cheap: the connection pool and the partner's circuit breaker live as long as the container, so
    every client of one partner shares them. The secret is read when a request is signed.
    """
    known(partner_id)
    config = settings()
    return PartnerClient(
        partner_id,
        base_url=base_url(config.partners_url, partner_id),
        secret=lambda: partner_secret(partner_id),
        timeout_seconds=config.partner_timeout_seconds,
        retries=config.partner_retries,
        backoff_seconds=config.partner_backoff_seconds,
        breaker=breaker_for(
            partner_id, config.partner_breaker_failures, config.partner_breaker_reset_seconds
        ),
    )


def base_url(configured: str, partner_id: str) -> str:
    """`PARTNERS_URL` for one partner: a template with `{partner_id}` (the local stack: one host
    plays them all), or a JSON map of partner id → URL (real partners: a host each). "" when it
    names no URL for this partner: refused when a request would go out."""
    if configured.startswith("{"):
        try:
            urls = json.loads(configured)
        except ValueError:
            urls = None
        if isinstance(urls, dict):
            url = urls.get(partner_id)
            return url if isinstance(url, str) else ""
    if "{partner_id}" not in configured:
        return ""
    return configured.replace("{partner_id}", partner_id)


def backoff(attempt: int, base_seconds: float, retry_after: float | None = None) -> float:
    """Full jitter: anywhere up to `base × 2^attempt`, so that many senders turned away together do
    not come back together; never shorter than what a 429's Retry-After asks, never above the cap."""
    pause = random.uniform(0, min(MAX_PAUSE_SECONDS, base_seconds * 2**attempt))  # noqa: S311 (not security)
    if retry_after is not None:
        pause = max(pause, retry_after)
    return min(pause, MAX_PAUSE_SECONDS)


@cache
def _pool() -> Any:
    import urllib3

    return urllib3.PoolManager(maxsize=POOL_CONNECTIONS_PER_HOST, retries=False)


def _send(
    partner_id: str, method: str, url: str, body: bytes, headers: dict[str, str], timeout_seconds: float
) -> Answer:
    """One HTTP exchange; its failures sorted into "nothing was sent" and "the outcome is unknown"."""
    import urllib3
    from urllib3.exceptions import ConnectTimeoutError, HTTPError, ReadTimeoutError, SSLError

    timeout = urllib3.Timeout(connect=min(MAX_CONNECT_SECONDS, timeout_seconds), read=timeout_seconds)
    try:
        response = _pool().request(
            method, url, body=body or None, headers=headers, timeout=timeout, retries=False, redirect=False
        )
    except (ConnectTimeoutError, SSLError) as error:
        # Includes a refused connection and an unknown host: the request never left.
        raise PartnerUnavailable(partner_id, f"unreachable: {type(error).__name__}") from error
    except ReadTimeoutError as error:
        raise PartnerTimeout(partner_id, f"no answer within {timeout_seconds} s") from error
    except HTTPError as error:
        # The connection broke after the request may have reached the partner.
        raise PartnerTimeout(partner_id, f"connection lost: {type(error).__name__}") from error
    return Answer(response.status, _json(response.data), _seconds(response.headers.get("Retry-After")))


def _json(data: bytes) -> Any:
    try:
        return json.loads(data) if data else None
    except ValueError:
        return None


def _seconds(value: str | None) -> float | None:
    """Retry-After in seconds; its HTTP-date form is read as "no advice"."""
    try:
        seconds = float(value) if value else None
    except ValueError:
        return None
    return seconds if seconds is not None and 0 <= seconds < float("inf") else None
