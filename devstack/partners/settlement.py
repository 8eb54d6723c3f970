"""The fake partners' daily settlement files (docs/PARTNERS.md, "Settlement files").

`settlements/<partner_id>/<YYYY-MM-DD>.csv` (the day in WIB) lists every transfer that reached a
final status that day. Rewriting the whole file at each completion would cost the square of a
day's transfers, so a day is marked when one of its transfers completes and a writer rewrites the
marked days a moment later: the file lags the ledger by at most that moment, and `flush()` (and
stopping the fake) brings it level.
"""

from __future__ import annotations

import csv
import io
import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol

from devstack.partners.ledger import Row

log = logging.getLogger("devstack.partners")

HEADER = ("reference", "transfer_id", "amount", "currency", "status", "settled_at")
WRITE_INTERVAL_SECONDS = 0.5


class Sink(Protocol):
    def put(self, key: str, body: bytes) -> None: ...


class S3Sink:
    """The programme's upload bucket on the local AWS endpoint, where a real partner would drop it."""

    def __init__(self, s3: Any, bucket: str) -> None:
        self._s3 = s3
        self._bucket = bucket

    def put(self, key: str, body: bytes) -> None:
        self._s3.put_object(Bucket=self._bucket, Key=key, Body=body, ContentType="text/csv")


class MemorySink:
    """For tests: the files by key, as last written."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    def put(self, key: str, body: bytes) -> None:
        self.files[key] = body


def key(partner_id: str, day: str) -> str:
    return f"settlements/{partner_id}/{day}.csv"


def render(rows: list[Row]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow(
            [row.reference, row.transfer_id, row.amount, row.currency, row.status, row.settled_at]
        )
    return buffer.getvalue().encode()


class SettlementWriter:
    """Rewrites the marked (partner, day) files from the ledgers, in a thread of its own."""

    def __init__(
        self,
        sink: Sink,
        rows_of: Callable[[str, str], list[Row]],
        interval_seconds: float = WRITE_INTERVAL_SECONDS,
    ) -> None:
        self._sink = sink
        self._rows_of = rows_of
        self._interval = interval_seconds
        self._marked: set[tuple[str, str]] = set()
        self._lock = threading.Lock()
        self._flushing = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fake-partners-settlements", daemon=True)
        self._thread.start()

    def mark(self, partner_id: str, day: str) -> None:
        with self._lock:
            self._marked.add((partner_id, day))

    def flush(self) -> None:
        """Every marked file written now; a file that could not be written stays marked."""
        with self._flushing:
            with self._lock:
                marked, self._marked = self._marked, set()
            for partner_id, day in sorted(marked):
                try:
                    self._sink.put(key(partner_id, day), render(self._rows_of(partner_id, day)))
                except Exception:
                    log.exception("settlement file %s not written; trying again", key(partner_id, day))
                    self.mark(partner_id, day)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.flush()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.flush()
