"""Reading the CSV files offices send, as offices really send them: pure functions, no I/O.

Excel exports use `;` in Indonesian locales and start with a byte-order mark; columns come in any
order and case; a cell may be quoted across lines. Records are cut at quote-balanced line ends, so
every record's byte length is known and a checkpoint can be a byte offset.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator

BOM = b"\xef\xbb\xbf"
REQUIRED_COLUMNS = {
    "registrations": (
        "nik",
        "kk_number",
        "full_name",
        "birth_date",
        "gender",
        "phone",
        "regency_code",
        "education",
        "employment_status",
    ),
    "cohort": ("nik", "cohort"),
    "exclusion": ("nik", "list"),
}
_SCIENTIFIC = re.compile(r"^\d(?:[.,]\d+)?[eE]\+?\d+$")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def delimiter_of(header: str) -> str:
    return ";" if header.count(";") > header.count(",") else ","


def columns_of(header: str, delimiter: str) -> list[str]:
    [names] = list(csv.reader([header.lstrip("\ufeff")], delimiter=delimiter))
    return [name.strip().lower() for name in names]


def missing_columns(kind: str, columns: list[str]) -> list[str]:
    return [name for name in REQUIRED_COLUMNS[kind] if name not in columns]


def records(lines: Iterable[bytes]) -> Iterator[bytes]:
    """Whole records from raw lines (ends kept): a line with an open quote continues on the next."""
    pending = b""
    for line in lines:
        pending += line
        if pending.count(b'"') % 2 == 0:
            yield pending
            pending = b""
    if pending:
        yield pending


def cells_of(record: str, delimiter: str) -> list[str]:
    parsed = list(csv.reader([record.rstrip("\r\n")], delimiter=delimiter))
    return [cell.strip() for cell in parsed[0]] if parsed else []


def is_blank(record: str) -> bool:
    return not record.strip().strip(";,").strip()


def scientific(value: str) -> bool:
    """A number a spreadsheet rewrote as `3.17123E+15`: its digits are gone for good."""
    return bool(_SCIENTIFIC.match(value))


def spreadsheet_safe(cell: str) -> str:
    """A cell a spreadsheet will show as text, never run as a formula."""
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


def csv_line(cells: list[str], delimiter: str = ",") -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerow(
        [spreadsheet_safe(cell) for cell in cells]
    )
    return buffer.getvalue()
