"""The report an office reads: the input's rows with each one's outcome, written a chunk at a time
and joined once the import is done. It never shows someone of another province."""

from __future__ import annotations

from chalicelib.core import files
from chalicelib.core.observability import mask
from chalicelib.registration import rules
from chalicelib.registration.imports import csvfile
from chalicelib.registration.imports.rows import Outcome
from chalicelib.registration.model import NATIONAL_UPLOADS, Import

# What the report adds to the input's columns, for every row.
REPORT_COLUMNS = ("outcome", "error_code", "error_message")


def lines(batch: Import, rows: list[csvfile.Record], outcomes: list[Outcome]) -> bytes:
    """A chunk's report lines."""
    return "".join(
        csvfile.csv_line([*_shown(batch, row.cells), *outcome])
        for row, outcome in zip(rows, outcomes, strict=True)
    ).encode()


def join(batch: Import) -> None:
    """The report as one file, from the header and every chunk's part in order."""
    head = csvfile.csv_line([*batch.columns, *REPORT_COLUMNS]).encode()
    parts = [batch.part_key(number) for number in range(1, batch.parts + 1)]
    files.concatenate(parts, batch.report_key, head=head)


def _shown(batch: Import, cells: list[str]) -> list[str]:
    """A row as the report shows it: rectangular (a row with too many or too few cells is cut or
    padded), and whole only when its NIK is one of the import's province. The province's office
    reads the report, also of an admin's upload for it, and a row about someone of another
    province may fail before its province is checked (one cell too many, a mistyped NIK), whatever
    its outcome. National uploads are an admin's only, and not about one province."""
    width = len(batch.columns)
    shown = (cells + [""] * width)[:width]
    if batch.province == NATIONAL_UPLOADS:
        return shown
    niks = [cell.strip() for name, cell in zip(batch.columns, shown, strict=True) if name == "nik"]
    if all(rules.sixteen_digits(nik) and nik[:2] == batch.province for nik in niks):
        return shown
    return _withheld(batch.columns, shown)


def _withheld(columns: tuple[str, ...], cells: list[str]) -> list[str]:
    """A row that may be about someone of another province: only the NIK's last four digits stay,
    enough for the uploader to find the row; a NIK cell that is not digits may hold anything (a
    name in the wrong column), so it shows nothing."""
    return [
        mask(cell.strip()) if name == "nik" and _digits(cell.strip()) else ""
        for name, cell in zip(columns, cells, strict=True)
    ]


def _digits(value: str) -> bool:
    return value.isascii() and value.isdigit()
