"""Counts handler invocations in flight and finished, across the relay and the job runner.

Draining needs to know that no handler is running and none finished while the queues were being
checked: a handler that finishes may just have sent the message that keeps the work going.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


class Activity:
    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._in_flight = 0
        self._finished = 0

    @contextmanager
    def invocation(self) -> Iterator[None]:
        with self._changed:
            self._in_flight += 1
        try:
            yield
        finally:
            with self._changed:
                self._in_flight -= 1
                self._finished += 1
                self._changed.notify_all()

    @property
    def finished(self) -> int:
        with self._changed:
            return self._finished

    def wait_idle(self, deadline: float) -> bool:
        """True once nothing is in flight; False if `deadline` (time.monotonic) passes first."""
        with self._changed:
            return self._changed.wait_for(
                lambda: self._in_flight == 0, timeout=max(0.0, deadline - time.monotonic())
            )
