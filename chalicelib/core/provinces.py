"""Province codes as they appear in the first two digits of a NIK (Kemendagri)."""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path


@cache
def province_names() -> dict[str, str]:
    with (Path(__file__).parent / "provinces.csv").open(encoding="utf-8") as source:
        return {row["code"]: row["name"] for row in csv.DictReader(source)}


def is_province(code: str) -> bool:
    return code in province_names()
