"""A partner consumer's batch: one payment after another, the next prepared meanwhile."""

from __future__ import annotations

import contextvars
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from chalicelib.incentives import disbursement


class Batch:
    """A consumer's batch, sent one payment after another with the next one prepared while the
    partner answers the current one. A partner's slot is then busy for its own answer and our
    recording of it, not also for the reads and the SUBMITTING write before each call (on AWS,
    three DynamoDB round trips a payment); and an invocation still has at most one call in flight,
    so the template's concurrency is still what a partner receives.

    A payment prepared by an invocation that dies before calling is left SUBMITTING: its message
    comes back, and rule 2 asks the partner before anything is sent."""

    def __init__(self, payment_ids: Sequence[str | None]) -> None:
        self._ids = list(payment_ids)
        self._next = 0
        self._ahead: tuple[int, Future[disbursement.Ready | None]] | None = None
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="prepare")

    def __enter__(self) -> Batch:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._pool.shutdown(wait=True)

    def send(self, payment_id: str) -> str:
        """Send `payment_id`, the batch's next message, and prepare the one after it meanwhile."""
        position = self._position_of(payment_id)
        ahead, self._ahead = self._ahead, None
        current = ahead[1] if ahead is not None and ahead[0] == position else self._prepare(payment_id)
        if position is not None and position + 1 < len(self._ids):
            following = self._ids[position + 1]
            if following is not None:
                self._ahead = (position + 1, self._prepare(following))
        ready = current.result()
        return "SKIPPED" if ready is None else disbursement.exchange(ready)

    def _position_of(self, payment_id: str) -> int | None:
        for position in range(self._next, len(self._ids)):
            if self._ids[position] == payment_id:
                self._next = position + 1
                return position
        return None

    def _prepare(self, payment_id: str) -> Future[disbursement.Ready | None]:
        return self._pool.submit(contextvars.copy_context().run, disbursement.prepare, payment_id)
