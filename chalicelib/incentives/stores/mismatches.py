"""What reconciliation must look at: answers that contradict what is recorded, callbacks that
cannot be applied, and settlement lines that differ from the payment records, kept per day and
partner (`MISMATCH#<day>`, one item per reference and kind, so finding one again adds nothing).
They only ever name references and amounts, never a person."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from pynamodb.attributes import JSONAttribute, UnicodeAttribute, UTCDateTimeAttribute

from chalicelib.incentives.stores.tables import PaymentItem


@dataclass(frozen=True)
class Mismatch:
    day: date
    partner_id: str
    reference: str
    kind: str
    details: dict[str, object]
    found_at: datetime


class _MismatchRecord(PaymentItem, discriminator="MISMATCH"):
    partner_id = UnicodeAttribute()
    reference = UnicodeAttribute()
    kind = UnicodeAttribute()
    details = JSONAttribute(default=dict)
    found_at = UTCDateTimeAttribute()


def add(
    day: date, partner_id: str, reference: str, kind: str, details: dict[str, object], at: datetime
) -> None:
    _MismatchRecord(
        f"MISMATCH#{day.isoformat()}",
        f"{partner_id}#{reference}#{kind}",
        partner_id=partner_id,
        reference=reference,
        kind=kind,
        details=details,
        found_at=at,
    ).save()


def of_day(day: date, partner_id: str | None = None) -> list[Mismatch]:
    condition = _MismatchRecord.sk.startswith(f"{partner_id}#") if partner_id else None
    return [
        Mismatch(day, record.partner_id, record.reference, record.kind, dict(record.details), record.found_at)
        for record in _MismatchRecord.query(f"MISMATCH#{day.isoformat()}", condition)
    ]
