"""The training domain's objects: courses that platforms publish and purchases against the balance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum


@dataclass(frozen=True)
class Course:
    course_id: str
    platform_id: str
    title: str
    institution: str
    category: str
    price: int
    hours: int
    active: bool
    updated_at: datetime
    rating_sum: int = 0
    rating_count: int = 0

    @property
    def rating_average(self) -> float | None:
        return round(self.rating_sum / self.rating_count, 2) if self.rating_count else None


# The streams later stages learn of training's events from (`core.outbox.publish`), and their
# kinds. Each stage reads a stream of its own, since taking an event out is how its reader marks
# it done: incentives learn of first ratings and revocations, surveys of first completions and
# revocations.
EVENTS = "TRAINING"
SURVEY_EVENTS = "TRAINING_SURVEYS"
FIRST_RATING = "FIRST_RATING"
FIRST_COMPLETION = "FIRST_COMPLETION"
REVOKED = "REVOKED"


class PurchaseStatus(StrEnum):
    PURCHASED = "PURCHASED"
    COMPLETED = "COMPLETED"


@dataclass(frozen=True)
class Purchase:
    purchase_id: str
    participant_id: str
    course_id: str
    platform_id: str
    price: int
    redemption_code: str
    purchased_at: datetime
    status: PurchaseStatus = PurchaseStatus.PURCHASED
    completed_at: datetime | None = None
    certificate_no: str | None = None
    stars: int | None = None
    review: str | None = None
    rated_at: datetime | None = None


@dataclass(frozen=True)
class SweepCheckpoint:
    """How far a sweep (`DEADLINE` or `EXPIRY`) has come through one wave's due days: the days
    swept whole, and the shard and page of the day it is on."""

    kind: str
    wave_id: str
    swept: frozenset[date] = frozenset()
    day: date | None = None
    shard: int = 0
    start_key: str | None = None
