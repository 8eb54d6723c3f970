"""Where the revocation sweep and the balance expiry stand on each wave's due days."""

from __future__ import annotations

from datetime import date

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute

from chalicelib.training.model import SweepCheckpoint
from chalicelib.training.stores.tables import JobItem


class _SweepRecord(JobItem):
    swept = JSONAttribute(default=list)
    day = UnicodeAttribute(null=True)
    shard = NumberAttribute()
    start_key = UnicodeAttribute(null=True)


def checkpoint(kind: str, wave_id: str) -> SweepCheckpoint:
    """Where the `kind` sweep stands on the wave's days, read consistently: each hourly run resumes
    where the last one saved, and a stale copy would sweep its pages again."""
    try:
        record = _SweepRecord.get(f"SWEEP#{kind}", wave_id, consistent_read=True)
    except _SweepRecord.DoesNotExist:
        return SweepCheckpoint(kind, wave_id)
    return SweepCheckpoint(
        kind=kind,
        wave_id=wave_id,
        swept=frozenset(date.fromisoformat(day) for day in record.swept),
        day=date.fromisoformat(record.day) if record.day else None,
        shard=int(record.shard),
        start_key=record.start_key,
    )


def save(checkpoint: SweepCheckpoint) -> None:
    _SweepRecord(
        f"SWEEP#{checkpoint.kind}",
        checkpoint.wave_id,
        swept=sorted(day.isoformat() for day in checkpoint.swept),
        day=checkpoint.day.isoformat() if checkpoint.day else None,
        shard=checkpoint.shard,
        start_key=checkpoint.start_key,
    ).save()
