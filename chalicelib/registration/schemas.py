"""Request and response shapes of the registration routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Self

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from chalicelib.registration.provinces import is_province

MAX_QUOTA = 20_000_000


def _known_provinces(quotas: dict[str, int]) -> dict[str, int]:
    unknown = sorted(code for code in quotas if not is_province(code))
    if unknown:
        raise ValueError(f"unknown province code(s): {', '.join(unknown[:5])}")
    return quotas


class WaveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    wave_id: str = Field(pattern=r"^[A-Z0-9][A-Z0-9-]{0,19}$")
    opens_at: AwareDatetime
    closes_at: AwareDatetime
    quota: int = Field(gt=0, le=MAX_QUOTA, strict=True)
    province_quotas: Annotated[
        dict[Annotated[str, Field(pattern=r"^\d{2}$")], Annotated[int, Field(ge=0, strict=True)]],
        AfterValidator(_known_provinces),
    ] = Field(default_factory=dict, max_length=64)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.closes_at <= self.opens_at:
            raise ValueError("closes_at must be after opens_at")
        if sum(self.province_quotas.values()) > self.quota:
            raise ValueError("province quotas add up to more than the national quota")
        return self


class WaveView(BaseModel):
    wave_id: str
    opens_at: datetime
    closes_at: datetime
    quota: int
    province_quotas: dict[str, int]
    applications_open: bool
