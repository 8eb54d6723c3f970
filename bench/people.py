"""People for the benchmarks: valid, distinct registrations by index, all in DKI Jakarta (3171)."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from chalicelib.registration.imports.csvfile import REQUIRED_COLUMNS

if TYPE_CHECKING:
    from chalicelib.registration.model import Participant

DECLARATIONS = (
    "student",
    "civil_servant",
    "military_police",
    "village_official",
    "legislator",
    "soe_executive",
)


# An office's registrations file, as the benchmarks write it: the contract's columns with e-mail.
OFFICE_COLUMNS = (*REQUIRED_COLUMNS["registrations"], "email")


def person(index: int) -> dict[str, Any]:
    day = 1 + index % 28
    return {
        "nik": f"3171{index % 89 + 10:02d}{day:02d}0190{index % 9999 + 1:04d}",
        "kk_number": f"31712301{index:08d}",
        "full_name": "Siti Rahayu",
        "birth_date": f"1990-01-{day:02d}",
        "gender": "M",
        "email": f"person{index}@example.id",
        "phone": f"0812{index:08d}",
        "province_code": "31",
        "regency_code": "3171",
        "education": "SMA",
        "employment_status": "UNEMPLOYED",
        "declarations": dict.fromkeys(DECLARATIONS, False),
    }


def profile(
    index: int, participant_id: str, province: str, registered_at: datetime, **state: Any
) -> Participant:
    """A stored profile for the benchmarks that write people straight into the table (the sweep,
    the stats): NIK, KK and phone distinct by index; `state` is where the person stands (status,
    verification, wave)."""
    from chalicelib.registration.model import Participant

    return Participant(
        participant_id=participant_id,
        nik=f"31712301019{index:05d}",
        kk_number=f"31712301018{index:05d}",
        full_name="Budi Santoso",
        birth_date=date(1990, 1, 1),
        gender="M",
        email=None,
        phone=f"+62812{index:08d}",
        province_code=province,
        regency_code=f"{province}71",
        education="SMA",
        employment_status="UNEMPLOYED",
        declarations={},
        registered_at=registered_at,
        registered_by="bench",
        channel="ONLINE",
        fingerprint="-",
        **state,
    )
