"""The registration domain's only door to DynamoDB."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import PutError

from chalicelib.storage import WaveItem

# All waves share one partition: there are a handful a year, and listing them is one query.
WAVES_PARTITION = "WAVES"


@dataclass(frozen=True)
class Wave:
    wave_id: str
    opens_at: datetime
    closes_at: datetime
    quota: int
    province_quotas: dict[str, int]

    def accepts_applications(self, moment: datetime) -> bool:
        return self.opens_at <= moment < self.closes_at


class _WaveRecord(WaveItem):
    opens_at = UTCDateTimeAttribute()
    closes_at = UTCDateTimeAttribute()
    quota = NumberAttribute()
    province_quotas = JSONAttribute(default=dict)
    created_by = UnicodeAttribute()


def add_wave(wave: Wave, created_by: str) -> bool:
    """Store a new wave; False if one with that id exists already."""
    record = _WaveRecord(
        WAVES_PARTITION,
        wave.wave_id,
        opens_at=wave.opens_at,
        closes_at=wave.closes_at,
        quota=wave.quota,
        province_quotas=dict(wave.province_quotas),
        created_by=created_by,
    )
    try:
        record.save(condition=_WaveRecord.pk.does_not_exist())
    except PutError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def waves() -> Iterator[Wave]:
    for record in _WaveRecord.query(WAVES_PARTITION):
        yield Wave(
            wave_id=record.sk,
            opens_at=record.opens_at,
            closes_at=record.closes_at,
            quota=int(record.quota),
            province_quotas={code: int(value) for code, value in record.province_quotas.items()},
        )
