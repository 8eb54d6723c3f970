"""How far each settlement file's reconciliation got (`RECONCILIATION#<partner>`, one item per
day): checked, then applied line by line from a byte offset, then done, or rejected with a reason.
The file's ETag is kept with it, so a file the partner rewrote is reconciled again."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute

from chalicelib.incentives.stores.tables import JobItem


class Stage(StrEnum):
    CHECKING = "CHECKING"
    APPLYING = "APPLYING"
    DONE = "DONE"
    REJECTED = "REJECTED"


@dataclass(frozen=True)
class Reconciliation:
    partner_id: str
    day: date
    etag: str
    stage: Stage = Stage.CHECKING
    offset: int = 0
    reason: str | None = None
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        return self.stage in (Stage.DONE, Stage.REJECTED)


class _ReconciliationRecord(JobItem):
    etag = UnicodeAttribute()
    stage = UnicodeAttribute()
    offset = NumberAttribute(default=0)
    reason = UnicodeAttribute(null=True)
    counts = JSONAttribute(default=dict)


def _key(partner_id: str) -> str:
    return f"RECONCILIATION#{partner_id}"


def state(partner_id: str, day: date) -> Reconciliation | None:
    try:
        record = _ReconciliationRecord.get(_key(partner_id), day.isoformat(), consistent_read=True)
    except _ReconciliationRecord.DoesNotExist:
        return None
    return Reconciliation(
        partner_id=partner_id,
        day=day,
        etag=record.etag,
        stage=Stage(record.stage),
        offset=int(record.offset),
        reason=record.reason,
        counts={name: int(value) for name, value in dict(record.counts).items()},
    )


def save(reconciliation: Reconciliation) -> None:
    _ReconciliationRecord(
        _key(reconciliation.partner_id),
        reconciliation.day.isoformat(),
        etag=reconciliation.etag,
        stage=reconciliation.stage.value,
        offset=reconciliation.offset,
        reason=reconciliation.reason,
        counts=reconciliation.counts,
    ).save()
