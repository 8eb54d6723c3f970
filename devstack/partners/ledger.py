"""A fake partner's own books, on disk (sqlite3), so they survive a restart of the local stack.

What the partner believes it paid, whatever the programme recorded: the ground truth the
programme's reconciliation and the exactly-once tests compare against. One file per partner;
every change is one transaction under one lock, so two requests racing with the same key can
never both create a transfer.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import astuple, dataclass, replace
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS transfers (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    reference TEXT NOT NULL UNIQUE,
    idempotency_key TEXT NOT NULL UNIQUE,
    request TEXT NOT NULL,
    transfer_id TEXT NOT NULL UNIQUE,
    amount INTEGER NOT NULL,
    currency TEXT NOT NULL,
    account_number TEXT NOT NULL,
    callback_url TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT,
    created_at TEXT NOT NULL,
    settle_after REAL,
    settled_at TEXT,
    settled_day TEXT
)
"""
_COLUMNS = (
    "reference, idempotency_key, request, transfer_id, amount, currency, account_number, callback_url, "
    "status, reason, created_at, settle_after, settled_at, settled_day"
)

ACCEPTED = "ACCEPTED"
COMPLETED = "COMPLETED"
FAILED = "FAILED"


@dataclass(frozen=True)
class Row:
    reference: str
    idempotency_key: str
    request: str
    transfer_id: str
    amount: int
    currency: str
    account_number: str
    callback_url: str
    status: str
    reason: str | None
    created_at: str
    settle_after: float | None
    settled_at: str | None
    settled_day: str | None

    def answer(self) -> dict[str, object]:
        """The transfer as the protocol shows it (docs/PARTNERS.md, `POST /transfers`)."""
        return {
            "transfer_id": self.transfer_id,
            "reference": self.reference,
            "status": self.status,
            "reason": self.reason,
            "amount": self.amount,
            "created_at": self.created_at,
            "settled_at": self.settled_at,
        }

    def listed(self) -> dict[str, object]:
        """The transfer as `/dev/partners/{partner_id}/ledger` lists it (CONTRACT.md)."""
        return {
            "reference": self.reference,
            "idempotency_key": self.idempotency_key,
            "amount": self.amount,
            "status": self.status,
            "created_at": self.created_at,
            "transfer_id": self.transfer_id,
            "reason": self.reason,
            "settled_at": self.settled_at,
        }


class KeyReused(Exception):
    """The key is known with another request: nothing changes."""


class Ledger:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # Survives the stack's process dying (what a restart is); only a power cut could lose the
        # last commits, and an fsync per transfer would make a run of thousands crawl.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(_SCHEMA)
        self._db.execute("CREATE INDEX IF NOT EXISTS transfers_by_day ON transfers (settled_day)")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def create(self, row: Row) -> tuple[Row, bool]:
        """(the transfer under `row`'s key, whether it is new): the first request with a key makes
        the transfer, the same request again gets that one, another request with it `KeyReused`."""
        with self._lock:
            existing = self._one("idempotency_key = ?", row.idempotency_key)
            if existing is not None:
                if existing.request != row.request:
                    raise KeyReused(row.idempotency_key)
                return existing, False
            transfer_id = f"T-{self._next_seq():05d}"
            created = replace(row, transfer_id=transfer_id)
            placeholders = ", ".join("?" * len(_COLUMNS.split(", ")))
            self._db.execute(
                f"INSERT INTO transfers ({_COLUMNS}) VALUES ({placeholders})",  # noqa: S608 (constants)
                astuple(created),
            )
            return created, True

    def settle(self, reference: str, settled_at: str, settled_day: str) -> Row | None:
        """An accepted transfer completed; None if it was not waiting (settled already, or unknown)."""
        with self._lock:
            changed = self._db.execute(
                "UPDATE transfers SET status = ?, settled_at = ?, settled_day = ? "
                "WHERE reference = ? AND status = ?",
                (COMPLETED, settled_at, settled_day, reference, ACCEPTED),
            ).rowcount
            return self._one("reference = ?", reference) if changed else None

    def find(self, reference: str) -> Row | None:
        with self._lock:
            return self._one("reference = ?", reference)

    def all(self) -> list[Row]:
        with self._lock:
            return self._many("1 = 1 ORDER BY seq")

    def waiting(self) -> list[Row]:
        """Accepted transfers not yet settled, e.g. when the stack stopped before they were."""
        with self._lock:
            return self._many("status = ? ORDER BY seq", ACCEPTED)

    def days(self) -> list[str]:
        """Every day on which a transfer reached its final status."""
        with self._lock:
            cursor = self._db.execute(
                "SELECT DISTINCT settled_day FROM transfers WHERE settled_day IS NOT NULL ORDER BY 1"
            )
            return [day for (day,) in cursor.fetchall()]

    def settled_on(self, day: str) -> list[Row]:
        with self._lock:
            return self._many("settled_day = ? ORDER BY settled_at, seq", day)

    def _next_seq(self) -> int:
        (last,) = self._db.execute("SELECT COALESCE(MAX(seq), 0) FROM transfers").fetchone()
        return int(last) + 1

    def _one(self, where: str, *values: object) -> Row | None:
        found = self._many(where, *values)
        return found[0] if found else None

    def _many(self, where: str, *values: object) -> list[Row]:
        cursor = self._db.execute(f"SELECT {_COLUMNS} FROM transfers WHERE {where}", values)  # noqa: S608
        return [Row(*record) for record in cursor.fetchall()]
