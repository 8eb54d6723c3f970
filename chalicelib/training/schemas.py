"""Request and response shapes of the training routes; validators are built on first use (see
registration)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from chalicelib.core.schemas import Instant, ResponseModel
from chalicelib.core.validation import Moment, Plain
from chalicelib.training.model import PurchaseStatus

COURSE_ID = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
# The whole training balance: no course may cost more than a participant can ever hold.
MAX_PRICE = 1_000_000
MAX_HOURS = 1_000


def _text(max_length: int, min_length: int = 1) -> StringConstraints:
    return StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length)


Text = Annotated[str, _text(200), Plain]


class CourseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    title: Text
    institution: Text
    category: Annotated[str, _text(60, min_length=2), Plain]
    price: int = Field(gt=0, le=MAX_PRICE, strict=True)
    hours: int = Field(gt=0, le=MAX_HOURS, strict=True)
    active: bool = Field(default=True, strict=True)


class PurchaseRequest(BaseModel):
    """`price` is the price the participant was shown: a course whose price has changed since is
    not bought at the new one (`PRICE_CHANGED`)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    course_id: str = Field(pattern=COURSE_ID)
    price: int = Field(gt=0, le=MAX_PRICE, strict=True)


class CompletionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    purchase_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    completed_at: Moment
    certificate_no: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64), Plain
    ]


class RatingRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    stars: int = Field(ge=1, le=5, strict=True)
    review: Annotated[str, _text(1000, min_length=0), Plain] | None = None


# Why an admin revokes someone (DESIGN.md: "found ineligible or fraudulent after selection").
# A code from this list, never free text: reasons are shown to the province's offices and Pemda
# and to the person, and free text would carry whatever an admin typed, NIKs and phones included.
RevocationReason = Literal[
    "UNDER_AGE",
    "STUDENT",
    "CIVIL_SERVANT",
    "MILITARY_POLICE",
    "VILLAGE_OFFICIAL",
    "LEGISLATOR",
    "SOE_EXECUTIVE",
    "OTHER_SOCIAL_AID",
    "IDENTITY_MISMATCH",
    "DUPLICATE_PERSON",
    "FRAUD",
    "DECEASED",
    "WITHDRAWN",
]


class RevocationRequest(BaseModel):
    """`note` says more, for admins only: it is masked when shown and never logged."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    reason: RevocationReason
    note: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), Plain] | None
    ) = None


class CourseQuery(BaseModel):
    """The catalogue's query parameters (the view reads them itself: this documents them)."""

    platform: str | None = Field(default=None, description="A platform's id.")
    category: str | None = None
    q: str | None = Field(default=None, description="Words of the title or the institution.")
    cursor: str | None = Field(default=None, description="The `next` of the page before.")
    limit: int = Field(default=20, ge=1, le=100)


# --- answers ------------------------------------------------------------------------------------


class RatingSummary(ResponseModel):
    average: float | None
    count: int


class CourseView(ResponseModel):
    course_id: str
    platform_id: str
    title: str
    institution: str
    category: str
    price: int
    hours: int
    active: bool
    rating: RatingSummary


class CourseList(ResponseModel):
    courses: list[CourseView]
    next: str | None = Field(description="The cursor of the next page; null on the last.")


class PurchaseView(ResponseModel):
    purchase_id: str
    course_id: str
    platform_id: str
    price: int
    status: PurchaseStatus
    redemption_code: str
    purchased_at: Instant
    completed_at: Instant | None
    certificate_no: str | None
    stars: int | None


class Bought(PurchaseView):
    balance: int = Field(description="The balance left after the purchase.")


class Rated(ResponseModel):
    purchase_id: str
    course_id: str
    stars: int
    rating: RatingSummary


class PurchasesSection(ResponseModel):
    """Training's part of the participant record."""

    purchases: list[PurchaseView]
