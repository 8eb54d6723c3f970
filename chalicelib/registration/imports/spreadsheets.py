"""What spreadsheet programs do to the files offices send, and how to read past it: pure, no I/O.

Excel and LibreOffice Calc hold a cell of digits as a number unless its column is formatted as
Text, and a number keeps 15 significant digits: `3173054207921037` is saved as `3173054207921040`,
or as `3.17305E+15` in a narrow column. A rounded NIK is still 16 digits that decode to the right
province and birth date, and it is someone else's: no value of such a column can be trusted, so a
file that shows the damage is refused whole (`NumberDamage`). What the clerk meant is accepted
as Indonesian forms write it: gender `L`/`P`, dates day first, phones without their leading 0.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

# How many identity values, all ending in 0, convict a column of having been a number. A genuine
# value ends in 0 with probability at most 1 in 10 (the serial's last digit; far less where
# serials are small), so five such values in a genuine file happen at most once in 100,000 files:
# docs/IMPORTS.md gives the figures, from `python -m bench.nik_false_alarm`.
EVIDENCE = 5

_SCIENTIFIC = re.compile(r"^\d(?:[.,]\d+)?[eE][+-]?\d+$")
# 3.173.054.207.921.040 or 3,173,054,207,921,040: a number shown with digit grouping.
_GROUPED = re.compile(r"^\d{1,3}(?:([.,])\d{3})(?:\1\d{3})+$")
_DIGITS = re.compile(r"^[0-9]+$")


def written_as_number(value: str) -> bool:
    """A value only a spreadsheet's number format writes: scientific notation or digit grouping."""
    return bool(_SCIENTIFIC.match(value) or _GROUPED.match(value))


@dataclass
class NumberDamage:
    """Evidence, gathered over a whole file, that its NIK or KK column was held as a number.

    Rounding sets the last digit of every value to 0. Serial numbers start at 0001, so a value
    ending in 0000 was never issued: rounding makes it of any serial from 0001 to 0004. Distinct
    values count, not rows: the members of one family share a KK.
    """

    column: str
    code: str
    written_as_number: bool = False
    all_end_in_zero: bool = True
    never_issued: bool = False
    distinct: set[str] = field(default_factory=set)

    def see(self, value: str) -> None:
        if written_as_number(value):
            self.written_as_number = True
        elif _DIGITS.match(value):
            self.all_end_in_zero &= value.endswith("0")
            self.never_issued |= len(value) == 16 and value.endswith("0000")
            if len(self.distinct) < EVIDENCE:
                self.distinct.add(value)

    @property
    def rounded(self) -> bool:
        return bool(self.distinct) and self.all_end_in_zero

    def shown(self) -> bool:
        return self.written_as_number or (
            self.rounded and (len(self.distinct) >= EVIDENCE or self.never_issued)
        )


def damaged_identity_column(columns: tuple[str, ...], rows: Iterable[list[str]], with_kk: bool) -> str | None:
    """Why the file must be refused (`NIK_AS_NUMBER`, `KK_AS_NUMBER`), or None, from all its rows.

    A small file's NIK and KK columns count together: both rounded, their values are independent
    evidence, so three people with a KK each convict as five people's NIKs alone would.
    """
    nik = NumberDamage("nik", "NIK_AS_NUMBER")
    kk = NumberDamage("kk_number", "KK_AS_NUMBER")
    candidates = (nik, kk) if with_kk else (nik,)
    watched = [(columns.index(column.column), column) for column in candidates if column.column in columns]
    for cells in rows:
        for index, column in watched:
            if index < len(cells):
                column.see(cells[index].strip())
    if nik.shown() or (nik.rounded and kk.rounded and len(nik.distinct) + len(kk.distinct) >= EVIDENCE):
        return nik.code
    return kk.code if kk.shown() else None


# --- what the clerk meant -------------------------------------------------------------------------

_GENDERS = {"L": "M", "LAKI-LAKI": "M", "LAKI LAKI": "M", "M": "M", "P": "F", "PEREMPUAN": "F", "F": "F"}
_DAY_FIRST = re.compile(r"^(\d{1,2})([/.-])(\d{1,2})\2(\d+)$")
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class AmbiguousYear(ValueError):
    """A date written with a two-digit year: 02/07/92 could be 1992 or 2092, and is never guessed."""


def office_gender(value: str) -> str:
    """`L`/`P` (laki-laki, perempuan) as forms write them, or `M`/`F`; anything else as it is."""
    text = value.strip().upper()
    return _GENDERS.get(text, text)


def office_date(value: str) -> str:
    """`05/01/1990`, `05-01-1990`, `5.1.1990` (day first, as Indonesia writes it) or ISO, as ISO.

    Raises `AmbiguousYear` for a two-digit year; anything else is returned as it is, for the
    schema to refuse with its own reason.
    """
    text = value.strip()
    if _ISO.match(text):
        return text
    day_first = _DAY_FIRST.match(text)
    if day_first is None:
        return text
    day, _, month, year = day_first.groups()
    if len(year) <= 2:
        raise AmbiguousYear(text)
    return f"{year}-{int(month):02d}-{int(day):02d}" if len(year) == 4 else text
