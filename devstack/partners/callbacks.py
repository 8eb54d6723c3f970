"""A fake partner's status callbacks (docs/PARTNERS.md, "Status callback"): signed with the
partner's secret, with a bearer token of the partner's, sent again while the programme answers
5xx or cannot be reached, as a real partner does for a while.

Every delivery is recorded (`deliveries`), so tests see what the programme was sent and when.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from chalicelib.incentives.partners.signing import signed_headers
from devstack.partners.ledger import COMPLETED, Row

log = logging.getLogger("devstack.partners")

ATTEMPTS = 5
FIRST_PAUSE_SECONDS = 0.5
TIMEOUT_SECONDS = 10.0
WORKERS = 8


@dataclass(frozen=True)
class Delivery:
    partner_id: str
    reference: str
    status: str
    answered: int | None
    at: float


def payload(row: Row) -> dict[str, object]:
    return {
        "status": "PAID" if row.status == COMPLETED else row.status,
        "reference": row.reference,
        "transfer_id": row.transfer_id,
        "amount": row.amount,
        "currency": row.currency,
        "reason": row.reason,
        "settled_at": row.settled_at,
    }


class CallbackSender:
    def __init__(
        self,
        secrets: Mapping[str, bytes],
        token_for: Callable[[str], str] | None,
        attempts: int = ATTEMPTS,
        first_pause_seconds: float = FIRST_PAUSE_SECONDS,
    ) -> None:
        self._secrets = secrets
        self._token_for = token_for
        self._attempts = attempts
        self._first_pause = first_pause_seconds
        self._executor = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="fake-partners-callback")
        self._closing = threading.Event()
        self._lock = threading.Lock()
        self.deliveries: list[Delivery] = []

    def send(self, partner_id: str, row: Row) -> None:
        if self._closing.is_set():
            return
        try:
            self._executor.submit(self._deliver, partner_id, row)
        except RuntimeError:
            log.info("callback for %s dropped: the partners are stopping", row.reference)

    def close(self) -> None:
        self._closing.set()
        self._executor.shutdown(wait=True, cancel_futures=True)

    def _deliver(self, partner_id: str, row: Row) -> None:
        body = json.dumps(payload(row), separators=(",", ":")).encode()
        pause = self._first_pause
        for _ in range(self._attempts):
            answered = self._post(partner_id, row.callback_url, body)
            with self._lock:
                self.deliveries.append(Delivery(partner_id, row.reference, row.status, answered, time.time()))
            if answered is not None and answered < 500:
                if answered >= 300:
                    log.warning("callback for %s answered %s; not sent again", row.reference, answered)
                return
            if self._closing.wait(pause):
                return
            pause *= 2
        log.warning("callback for %s given up after %d attempts", row.reference, self._attempts)

    def _post(self, partner_id: str, url: str, body: bytes) -> int | None:
        headers = {
            "Content-Type": "application/json",
            **signed_headers(self._secrets[partner_id], body, time.time()),
        }
        if self._token_for is not None:
            headers["Authorization"] = f"Bearer {self._token_for(partner_id)}"
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
                return int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)
        except (urllib.error.URLError, OSError) as error:
            log.info("callback to %s not delivered: %s", url, type(error).__name__)
            return None
