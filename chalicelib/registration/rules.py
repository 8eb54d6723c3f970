"""The programme's identity and eligibility rules as pure functions: no I/O, property-tested.

A NIK (Nomor Induk Kependudukan) is 16 digits: 1–2 the province, 1–4 the regency or city, 1–6
the district, 7–12 the birth date as DDMMYY with 40 added to the day for women, 13–16 a serial.
The family card number (KK) starts with the same regional code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

from chalicelib.core.provinces import is_province
from chalicelib.core.settings import Programme

Gender = Literal["M", "F"]
# ASCII digits only: `\d` also takes full-width and other scripts' digits, and the same NIK written
# with them would hash to another uniqueness key, so one person could register twice.
_SIXTEEN_DIGITS = re.compile(r"^[0-9]{16}$")
_WOMEN_DAY_OFFSET = 40


def sixteen_digits(value: str) -> bool:
    """The shape of a NIK or KK number, in ASCII digits."""
    return _SIXTEEN_DIGITS.match(value) is not None


@dataclass(frozen=True)
class NikParts:
    province: str
    regency: str
    day: int
    month: int
    year_of_century: int
    gender: Gender


class IdentityError(ValueError):
    """Why an identity number cannot be right; `code` is the contract's error code."""

    def __init__(self, code: str, field: str, reason: str) -> None:
        super().__init__(reason)
        self.code, self.field, self.reason = code, field, reason


def decode_nik(nik: str) -> NikParts:
    if not _SIXTEEN_DIGITS.match(nik):
        raise IdentityError("INVALID_NIK", "nik", "NIK harus 16 angka")
    if not is_province(nik[:2]):
        raise IdentityError("INVALID_NIK", "nik", "kode provinsi pada NIK tidak dikenal")
    if nik[2:4] == "00" or nik[4:6] == "00" or nik[12:] == "0000":
        raise IdentityError("INVALID_NIK", "nik", "kode wilayah atau nomor urut NIK tidak sah")
    day, month, year = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
    gender: Gender = "F" if day > _WOMEN_DAY_OFFSET else "M"
    day -= _WOMEN_DAY_OFFSET if gender == "F" else 0
    if not _exists(day, month, year):
        raise IdentityError("INVALID_NIK", "nik", "tanggal lahir pada NIK tidak sah")
    return NikParts(nik[:2], nik[:4], day, month, year, gender)


def _exists(day: int, month: int, year_of_century: int) -> bool:
    """Whether DD-MM-YY is a date in some century (29 February needs a leap year)."""
    for century in (2000, 1900):
        try:
            date(century + year_of_century, month, day)
        except ValueError:
            continue
        return True
    return False


def check_nik_matches(
    nik: str, *, birth_date: date, gender: Gender, province_code: str, regency_code: str
) -> None:
    """The NIK must agree with what the person declared; the first disagreement is named."""
    parts = decode_nik(nik)
    if parts.province != province_code:
        raise IdentityError("NIK_MISMATCH", "province_code", "provinsi tidak sesuai dengan NIK")
    if parts.regency != regency_code:
        raise IdentityError("NIK_MISMATCH", "regency_code", "kabupaten/kota tidak sesuai dengan NIK")
    if (parts.day, parts.month, parts.year_of_century) != (
        birth_date.day,
        birth_date.month,
        birth_date.year % 100,
    ):
        raise IdentityError("NIK_MISMATCH", "birth_date", "tanggal lahir tidak sesuai dengan NIK")
    if parts.gender != gender:
        raise IdentityError("NIK_MISMATCH", "gender", "jenis kelamin tidak sesuai dengan NIK")


def check_kk(kk_number: str) -> None:
    if not _SIXTEEN_DIGITS.match(kk_number) or not is_province(kk_number[:2]):
        raise IdentityError("INVALID_KK", "kk_number", "nomor KK harus 16 angka dengan kode wilayah yang sah")


def age_on(birth_date: date, day: date) -> int:
    before_birthday = (day.month, day.day) < (birth_date.month, birth_date.day)
    return day.year - birth_date.year - before_birthday


@dataclass(frozen=True)
class Ineligible:
    """The first eligibility rule the applicant fails, by its name in the programme configuration."""

    rule: str


def eligibility(
    programme: Programme, *, birth_date: date, declarations: dict[str, bool], on: date
) -> Ineligible | None:
    if age_on(birth_date, on) < programme.minimum_age:
        return Ineligible("minimum_age")
    for rule in programme.ineligible_declarations:
        if declarations.get(rule, False):
            return Ineligible(rule)
    return None
