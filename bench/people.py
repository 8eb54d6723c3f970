"""People for the benchmarks: valid, distinct registrations by index, all in DKI Jakarta (3171)."""

from __future__ import annotations

from typing import Any

from chalicelib.registration.imports.csvfile import REQUIRED_COLUMNS

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
