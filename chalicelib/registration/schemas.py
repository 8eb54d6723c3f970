"""Request and response shapes of the registration routes.

Every schema defers building its validator to first use (`defer_build`), and phone numbers'
metadata is imported when the first number is checked: app.py is imported by every Lambda
function of the app, and the queue consumers and schedules never validate a request body.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    model_validator,
)

from chalicelib.core.provinces import is_province
from chalicelib.core.schemas import Instant, Omitted, ResponseModel, omitted_when_none
from chalicelib.core.validation import Moment, Plain
from chalicelib.registration.model import ImportKind, ImportStatus, SelectionState, Status, Verification

Education = Literal["NONE", "SD", "SMP", "SMA", "SMK", "D1", "D2", "D3", "D4", "S1", "S2", "S3"]
EmploymentStatus = Literal["UNEMPLOYED", "LAID_OFF", "FURLOUGHED", "EMPLOYED", "SELF_EMPLOYED"]
_NAME = re.compile(r"^[^\W\d_]+(?:[ '’.,-]+[^\W\d_]+)*\.?$")


def indonesian_mobile(value: str) -> str:
    """`08…`, `628…` or `+628…` as `+628…`; anything that is not an Indonesian mobile is refused."""
    import phonenumbers

    text = value.strip()
    if text.startswith("62"):
        text = "+" + text
    try:
        number = phonenumbers.parse(text, "ID")
    except phonenumbers.NumberParseException as error:
        raise ValueError("bukan nomor telepon") from error
    # A number whose type for its own region is MOBILE is valid there: `is_valid_number` would look
    # its type up a second time (a sixth of the cost of checking a number).
    if (
        phonenumbers.region_code_for_number(number) != "ID"
        or phonenumbers.number_type(number) != phonenumbers.PhoneNumberType.MOBILE
    ):
        raise ValueError("bukan nomor ponsel Indonesia")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def person_name(value: str) -> str:
    collapsed = " ".join(value.split())
    if not _NAME.match(collapsed):
        raise ValueError("nama hanya boleh berisi huruf, spasi, titik, koma, tanda hubung dan apostrof")
    return collapsed


Phone = Annotated[str, StringConstraints(max_length=20), AfterValidator(indonesian_mobile)]
FullName = Annotated[str, StringConstraints(min_length=1, max_length=100), AfterValidator(person_name)]
IdentityNumber = Annotated[str, StringConstraints(min_length=1, max_length=32, strip_whitespace=True)]

MAX_QUOTA = 20_000_000


def _known_provinces(quotas: dict[str, int]) -> dict[str, int]:
    unknown = sorted(code for code in quotas if not is_province(code))
    if unknown:
        raise ValueError(f"unknown province code(s): {', '.join(unknown[:5])}")
    return quotas


class WaveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)

    wave_id: str = Field(pattern=r"^[A-Z0-9][A-Z0-9-]{0,19}$")
    opens_at: Moment
    closes_at: Moment
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


class WaveView(ResponseModel):
    # Moments as pydantic writes them (UTC with `Z`), as this answer always has: not `Instant`.
    wave_id: str
    opens_at: datetime
    closes_at: datetime
    quota: int
    province_quotas: dict[str, int]
    applications_open: bool


class Declarations(BaseModel):
    """What the applicant declares about themselves (DESIGN.md, "Eligibility")."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    student: bool = Field(strict=True)
    civil_servant: bool = Field(strict=True)
    military_police: bool = Field(strict=True)
    village_official: bool = Field(strict=True)
    legislator: bool = Field(strict=True)
    soe_executive: bool = Field(strict=True)


class RegistrationRequest(BaseModel):
    """The registration body. NIK and KK are checked by the rules, which name what is wrong."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)

    nik: IdentityNumber
    kk_number: IdentityNumber
    full_name: FullName
    birth_date: date
    gender: Literal["M", "F"]
    email: Annotated[EmailStr, StringConstraints(max_length=254)]
    phone: Phone
    province_code: Annotated[str, Field(pattern=r"^\d{2}$")]
    regency_code: Annotated[str, Field(pattern=r"^\d{4}$")]
    education: Education
    employment_status: EmploymentStatus
    declarations: Declarations

    @model_validator(mode="after")
    def _known_province(self) -> Self:
        if not is_province(self.province_code):
            raise ValueError("unknown province_code")
        return self


class OfficeRegistration(RegistrationRequest):
    """A row of an office's registrations file: e-mail is optional, the office attests the declarations."""

    email: Annotated[EmailStr, StringConstraints(max_length=254)] | None = None  # type: ignore[assignment]


class ImportRequest(BaseModel):
    """`province` is for admins only: an office always imports for its own province."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)

    kind: Literal["registrations", "cohort", "exclusion"]
    filename: Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^/\\\x00-\x1f]+$"), Plain]
    province: str | None = Field(default=None, pattern=r"^\d{2}$")


# --- answers ------------------------------------------------------------------------------------


class WaveList(ResponseModel):
    waves: list[WaveView]


class Registered(ResponseModel):
    participant_id: str
    status: Status


class Applied(ResponseModel):
    participant_id: str
    wave_id: str
    status: Status


class SelectionRequested(ResponseModel):
    wave_id: str
    selection: SelectionState


class ImportRequested(ResponseModel):
    import_id: str
    upload_url: str = Field(description="A presigned S3 PUT for the CSV file.")
    status: ImportStatus


class ImportView(ResponseModel):
    import_id: str
    kind: ImportKind
    province: str
    filename: str
    status: ImportStatus
    counts: dict[str, int] = Field(description="Rows per outcome.")
    error_counts: dict[str, int] = Field(description="Rows per error code.")
    reason: str | None = Field(description="Why the file was rejected whole.")
    reason_message: str | None
    report_url: str | None = Field(description="A presigned S3 GET of the per-row report, once done.")


class ParticipantRecord(ResponseModel):
    """Registration's part of the participant record; every later stage adds its section
    (`records.record_model`). Identity numbers are masked to their last four digits."""

    participant_id: str
    status: Status
    verification: Verification
    nik: str
    kk_number: str
    full_name: str
    province_code: str
    regency_code: str
    cohorts: list[str]
    wave_id: str | None
    registered_at: Instant
    # One shape whatever the stage: null until selection gives a value.
    selected_wave: str | None
    balance: int | None
    purchase_deadline: Instant | None = Field(description="End of day, Jakarta time.")
    balance_expires_at: Instant | None
    revocation_reason: str | Omitted = omitted_when_none()


class AuditEvent(ResponseModel):
    at: Instant
    actor: str
    action: str
    status_from: str | None
    status_to: str | None
    reason: str | None
    details: dict[str, str | int]
    note: str | Omitted = omitted_when_none("Admins only, masked.")
