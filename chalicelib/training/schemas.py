"""Request shapes of the training routes; validators are built on first use (see registration)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

COURSE_ID = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
# The whole training balance: no course may cost more than a participant can ever hold.
MAX_PRICE = 1_000_000
MAX_HOURS = 1_000

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class CourseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    title: Text
    institution: Text
    category: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=60)]
    price: int = Field(gt=0, le=MAX_PRICE, strict=True)
    hours: int = Field(gt=0, le=MAX_HOURS, strict=True)
    active: bool = Field(default=True, strict=True)


class PurchaseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    course_id: str = Field(pattern=COURSE_ID)


class CompletionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    purchase_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    completed_at: AwareDatetime
    certificate_no: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class RatingRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    stars: int = Field(ge=1, le=5, strict=True)
    review: Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)] | None = None


class RevocationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500)]
