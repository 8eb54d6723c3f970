"""One circuit breaker per partner and container: a partner that is down fails fast, and only its
own payments wait.

pybreaker keeps the state machine (closed → open after `failures` consecutive failures → half-open
after `reset_seconds` → closed on a success). Its `call` holds the breaker's lock for the whole
guarded call, which would queue every request to a partner behind the one in flight; so the
request is made outside it, and only its outcome is handed to pybreaker to count.
"""

from __future__ import annotations

import threading
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

from chalicelib.core.observability import logger
from chalicelib.incentives.partners.errors import PartnerError, PartnerUnavailable


class Breaker:
    def __init__(self, partner_id: str, failures: int, reset_seconds: float) -> None:
        import pybreaker

        self.partner_id = partner_id
        self._reset = timedelta(seconds=reset_seconds)
        self._storage = pybreaker.CircuitMemoryStorage(pybreaker.STATE_CLOSED)
        self._breaker = pybreaker.CircuitBreaker(
            fail_max=failures,
            reset_timeout=reset_seconds,
            state_storage=self._storage,
            name=partner_id,
            # The failure that trips the breaker is raised as itself: a timeout must stay an
            # unknown outcome, never turn into "nothing was created".
            throw_new_error_on_trip=False,
            listeners=[_logged(pybreaker)],
        )

    @property
    def state(self) -> str:
        return str(self._breaker.current_state)

    def admit(self) -> None:
        """Let a request go, or raise `PartnerUnavailable(circuit_open=True)` without sending it."""
        import pybreaker

        if self._breaker.current_state != pybreaker.STATE_OPEN:
            return
        opened_at = self._storage.opened_at
        if opened_at is not None and datetime.now(UTC) < opened_at + self._reset:
            raise PartnerUnavailable(self.partner_id, "circuit open", circuit_open=True)
        self._breaker.half_open()

    def succeeded(self) -> None:
        import pybreaker

        # Another request may have opened the circuit while this one was out: its success stands.
        with suppress(pybreaker.CircuitBreakerError):
            self._breaker.call(_nothing)

    def failed(self, error: PartnerError) -> NoReturn:
        """Count `error` against the partner, then raise it as it is."""
        import pybreaker

        with suppress(pybreaker.CircuitBreakerError):
            self._breaker.call(_raise, error)
        raise error


def _nothing() -> None:
    return None


def _raise(error: PartnerError) -> NoReturn:
    raise error


def _logged(pybreaker: Any) -> Any:
    """A listener for the moments an operator wants to see, and nothing per request."""

    class Logged(pybreaker.CircuitBreakerListener):  # type: ignore[misc]
        def state_change(self, cb: Any, old_state: Any, new_state: Any) -> None:
            logger.warning(
                "partner circuit changed",
                extra={
                    "partner_id": cb.name,
                    "state": getattr(new_state, "name", str(new_state)),
                    "previous": getattr(old_state, "name", str(old_state)),
                },
            )

    return Logged()


_breakers: dict[str, Breaker] = {}
_guard = threading.Lock()


def breaker_for(partner_id: str, failures: int, reset_seconds: float) -> Breaker:
    with _guard:
        if partner_id not in _breakers:
            _breakers[partner_id] = Breaker(partner_id, failures, reset_seconds)
        return _breakers[partner_id]


def forget() -> None:
    """Every breaker closed and made anew from the settings on next use (tests; a new configuration)."""
    with _guard:
        _breakers.clear()
