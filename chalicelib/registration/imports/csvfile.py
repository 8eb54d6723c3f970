"""Reading the CSV files offices send, as offices really send them: pure functions, no I/O.

Excel exports use `;` in Indonesian locales and start with a byte-order mark; columns come in any
order and case; a cell may be quoted across lines. Records are cut by the csv module itself, the
way a spreadsheet reads the file (a quote opens a quoted cell only at the start of a cell; one in
the middle of a cell is a character of it), while the raw lines each record takes are counted: so
every record's byte length is known and a checkpoint can be a byte offset.
"""

from __future__ import annotations

import csv
import io
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

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
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


UNCLOSED_QUOTE = "UNCLOSED_QUOTE"
CELL_TOO_LONG = "CELL_TOO_LONG"
TOO_MANY_COLUMNS = "TOO_MANY_COLUMNS"
# An import keeps its header in its state item, which DynamoDB caps at 400 KB: the header is
# bounded far below that. Eleven columns are known; a spreadsheet's extras are ignored.
MAX_COLUMNS = 100
MAX_HEADER_BYTES = 8 * 1024


class Unreadable(Exception):
    """The file is not a CSV that can be read at all: it is rejected whole, for `reason`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Header:
    columns: tuple[str, ...]
    delimiter: str
    end: int
    """The byte offset the rows start at: a checkpoint's first value."""


@dataclass(frozen=True)
class Record:
    """One row of the file as the csv module cuts it, or the line where it could not."""

    size: int
    """Its bytes in the file, line ends included: what the checkpoint moves on by."""
    cells: list[str]
    error: str | None = None
    """Why this is not a row that can be read (the error code the row is reported with)."""

    @property
    def blank(self) -> bool:
        return self.error is None and not any(self.cells)


def delimiter_of(header: str) -> str:
    return ";" if header.count(";") > header.count(",") else ","


def missing_columns(kind: str, columns: list[str]) -> list[str]:
    return [name for name in REQUIRED_COLUMNS[kind] if name not in columns]


def header_of(lines: Iterable[bytes]) -> Header:
    """The header, once every line of the file has been read as text (see `opened`)."""
    header, rows = opened(lines)
    for _ in rows:
        pass
    return header


def opened(lines: Iterable[bytes]) -> tuple[Header, Iterator[list[str]]]:
    """The header (the first line that is not blank), and the cells of every readable record after
    it: reading those reads the rest of the file, so what is true of a whole file can be known
    before any of its rows is imported.

    Raises `Unreadable`, here or while the records are read, for a file that is not UTF-8 text or
    has no header, and for a header whose quote does not close on its own line: a header cell
    spanning lines is all but always a stray quote, which would take the rows after it into the
    header, so it is refused, never guessed at.
    """
    text = _text(lines)
    end = 0
    for line in text:
        end += len(line)
        if not is_blank(line.decode("utf-8").removeprefix("\ufeff")):
            header = _header(line.removeprefix(BOM), end)
            break
    else:
        raise Unreadable("NO_HEADER")
    rows = (
        record.cells
        for record in records(text, header.delimiter, len(header.columns))
        if record.error is None and not record.blank
    )
    return header, rows


def _text(lines: Iterable[bytes]) -> Iterator[bytes]:
    """The lines, each refused unless it is UTF-8 text."""
    for line in lines:
        if b"\x00" in line:
            raise Unreadable("NOT_TEXT")
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as error:
            raise Unreadable("NOT_UTF8") from error
        yield line


def _header(line: bytes, end: int) -> Header:
    if len(line) > MAX_HEADER_BYTES:
        raise Unreadable(TOO_MANY_COLUMNS)
    delimiter = delimiter_of(line.decode("utf-8"))
    cut = _cut(iter([line]), deque(), delimiter)
    if cut.error is not None:
        raise Unreadable(f"{cut.error}_IN_HEADER")
    if len(cut.cells) > MAX_COLUMNS:
        raise Unreadable(TOO_MANY_COLUMNS)
    return Header(tuple(name.lower() for name in cut.cells), delimiter, end)


def records(lines: Iterable[bytes], delimiter: str, width: int) -> Iterator[Record]:
    """The records of `lines` (the rows after the header, ends kept), each with its byte length.

    A record the csv module cuts across several lines is either a quoted cell with line breaks in
    it or a stray quote at the start of a cell, which takes every line after it up to the next
    quote or the end of the file. When it is the latter (`_runaway`), its first line alone is a
    record (`UNCLOSED_QUOTE`), and the lines after it are read again as records of their own, so
    one bad row never hides the rows after it. Where a record starts never depends on where
    reading started: a run resumed at a checkpoint cuts the rest of the file as one uninterrupted
    run would have.
    """
    source = iter(lines)
    returned: deque[bytes] = deque()
    while True:
        cut = _cut(source, returned, delimiter)
        if not cut.lines:
            return
        first, *rest = cut.lines
        if rest and _runaway(cut, delimiter, width):
            returned.extendleft(reversed(rest))
            yield Record(len(first), _line_cells(first, delimiter), UNCLOSED_QUOTE)
        elif cut.error is not None:
            yield Record(len(first), _line_cells(first, delimiter), cut.error)
        else:
            yield Record(sum(map(len, cut.lines)), cut.cells)


@dataclass
class _Cut:
    lines: list[bytes] = field(default_factory=list)
    cells: list[str] = field(default_factory=list)
    error: str | None = None


def _cut(source: Iterator[bytes], returned: deque[bytes], delimiter: str) -> _Cut:
    """The csv module's next record from the lines given back first, then `source`, with the
    lines it took. The csv module reads a line only while its record is unfinished, so once it
    has answered, the lines it took are exactly its record's."""
    cut = _Cut()
    ran_out = False

    def fed() -> Iterator[str]:
        nonlocal ran_out
        while True:
            line = returned.popleft() if returned else next(source, None)
            if line is None:
                ran_out = True
                return
            cut.lines.append(line)
            yield line.decode("utf-8", errors="replace")

    try:
        cut.cells = [cell.strip() for cell in next(csv.reader(fed(), delimiter=delimiter), [])]
    except csv.Error:
        cut.error = CELL_TOO_LONG
    if ran_out and cut.lines and cut.error is None:
        # The input ended inside a quoted cell, which the csv module accepts without a word.
        cut.error = UNCLOSED_QUOTE
    return cut


def _runaway(cut: _Cut, delimiter: str, width: int) -> bool:
    """Whether a record over several lines is a quote that was never closed rather than a quoted
    cell with line breaks: it ends the file still inside the quote, outgrows the csv module's cell
    size limit, does not come out with the header's number of cells, or is closed by a quote that
    does not end a cell (the stray quote of a later row, where a spreadsheet's own quoting always
    puts a separator or a line end after the closing quote)."""
    if cut.error is not None or len(cut.cells) != width:
        return True
    text = (line.decode("utf-8", errors="replace") for line in cut.lines)
    try:
        for _ in csv.reader(text, delimiter=delimiter, strict=True):
            pass
    except csv.Error:
        return True
    return False


def _line_cells(line: bytes, delimiter: str) -> list[str]:
    """The cells of one line read alone, as far as they go: the report shows the bad row."""
    return _cut(iter([line]), deque(), delimiter).cells


def is_blank(record: str) -> bool:
    return not record.strip().strip(";,").strip()


def spreadsheet_safe(cell: str) -> str:
    """A cell a spreadsheet will show as text, never run as a formula."""
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


def csv_line(cells: list[str], delimiter: str = ",") -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerow(
        [spreadsheet_safe(cell) for cell in cells]
    )
    return buffer.getvalue()
