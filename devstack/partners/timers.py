"""Things a fake partner does later (settle a transfer, send a late callback), in one thread.

One thread and a heap rather than a `threading.Timer` per transfer: a run of ten thousand
payments must not start ten thousand threads.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger("devstack.partners")


class Timers:
    def __init__(self, name: str) -> None:
        self._due: list[tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()
        self._changed = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def after(self, seconds: float, action: Callable[[], None]) -> None:
        with self._changed:
            heapq.heappush(self._due, (time.monotonic() + max(0.0, seconds), next(self._order), action))
            self._changed.notify()

    def close(self) -> None:
        """Stops; what was not due yet is dropped (a restart picks settlements up from the ledger)."""
        with self._changed:
            self._stopped = True
            self._changed.notify()
        self._thread.join()

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._stopped and (not self._due or self._due[0][0] > time.monotonic()):
                    self._changed.wait(self._due[0][0] - time.monotonic() if self._due else None)
                if self._stopped:
                    return
                _, _, action = heapq.heappop(self._due)
            try:
                action()
            except Exception:
                log.exception("a fake partner's scheduled action failed")
