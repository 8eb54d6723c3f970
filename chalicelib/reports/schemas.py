"""The answers of the reports' routes. Their counts are every domain's figures (`FIGURES`), so
the models are made from those names: a figure a domain adds is in the answer and the document
at once."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from chalicelib.core.schemas import ResponseModel
from chalicelib.incentives import service as incentives
from chalicelib.registration import service as registration
from chalicelib.training import service as training

FIGURES = (*registration.FIGURES, *training.FIGURES, *incentives.FIGURES, *incentives.OUTCOMES)

# Per survey round (and per cohort and round): each outcome's count, and its share of those who
# answered (`<outcome>_share`, 0 to 1).
Outcomes = dict[str, int | float]


class SurveyOutcomes(ResponseModel):
    rounds: dict[str, Outcomes] = Field(description="Per survey round.")
    cohorts: dict[str, dict[str, Outcomes]] = Field(description="Per cohort, then per survey round.")


_COUNTS: dict[str, Any] = {name: (int, ...) for name in FIGURES}

ProvinceFigures = create_model(
    "ProvinceFigures",
    __base__=ResponseModel,
    __module__=__name__,
    province_code=(str, ...),
    name=(str, ...),
    **_COUNTS,
    cohorts=(dict[str, int], Field(description="Participants per cohort.")),
    unspent_balance=(int, Field(description="Balance returned by revocation or expiry, in Rupiah.")),
    survey_outcomes=(SurveyOutcomes, ...),
)

ProvinceList = create_model(
    "ProvinceList",
    __base__=ResponseModel,
    __module__=__name__,
    provinces=(list[ProvinceFigures], ...),
    national=(ProvinceFigures, Field(description="The provinces added up (`province_code` NATIONAL).")),
)

WaveFigures = create_model(
    "WaveFigures",
    __base__=ResponseModel,
    __module__=__name__,
    province_code=(str, ...),
    wave_id=(str, ...),
    **_COUNTS,
    survey_outcomes=(SurveyOutcomes, ...),
)


class SeriesQuery(BaseModel):
    """The series' query parameters (the view reads them itself: this documents them)."""

    model_config = ConfigDict(populate_by_name=True)

    from_: str | None = Field(
        default=None, alias="from", description="First UTC day, YYYY-MM-DD (7 days back)."
    )
    to: str | None = Field(
        default=None, description="Last UTC day, YYYY-MM-DD (today); at most 31 days in all."
    )


class HourCounts(ResponseModel):
    hour: str = Field(description="The hour's start, UTC.")
    registered: int
    applied: int


class DayPayments(ResponseModel):
    day: str
    payments_paid: int
    payments_paid_amount: int = Field(description="Rupiah.")
    payments_failed: int
    payments_needs_action: int


class Series(ResponseModel):
    """Every hour and day of the range, zeros where nothing was counted (`reports.series`)."""

    model_config = ConfigDict(populate_by_name=True)

    scope: str
    from_: str = Field(alias="from")
    to: str
    registrations_per_hour: list[HourCounts]
    payments_per_day: list[DayPayments]
