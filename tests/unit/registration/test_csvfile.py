"""Cutting an office's file into records: as a spreadsheet reads it, and resumable at any record."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.registration.imports import csvfile

cells = st.lists(st.sampled_from(["a", "B", "é", " ", '"', ",", ";", "\n", "\r\n", "\r"]), max_size=12).map(
    "".join
)
delimiters = st.sampled_from([",", ";"])


def written(rows: list[list[str]], delimiter: str) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode()


def lines_of(data: bytes) -> list[bytes]:
    """As the file is streamed from S3: split at `\\n`, `\\r\\n` and `\\r`, ends kept."""
    return data.splitlines(keepends=True)


def cut(data: bytes, delimiter: str = ",", width: int = 3) -> list[csvfile.Record]:
    return list(csvfile.records(lines_of(data), delimiter, width))


@given(
    st.integers(min_value=1, max_value=4).flatmap(
        lambda width: st.lists(st.lists(cells, min_size=width, max_size=width), max_size=6)
    ),
    delimiters,
)
def test_what_a_csv_writer_wrote_comes_back_row_for_row(rows: list[list[str]], delimiter: str) -> None:
    """Quoted cells with separators, quotes and line breaks are never taken for a stray quote."""
    data = written(rows, delimiter)
    width = len(rows[0]) if rows else 1
    records = list(csvfile.records(lines_of(data), delimiter, width))
    assert [record.error for record in records] == [None] * len(rows)
    assert [record.cells for record in records] == [[cell.strip() for cell in row] for row in rows]
    assert sum(record.size for record in records) == len(data)


@given(st.lists(cells, max_size=8).map(lambda parts: "".join(parts).encode()), delimiters)
def test_every_byte_belongs_to_one_record_wherever_reading_starts(data: bytes, delimiter: str) -> None:
    """The checkpoint guarantee: resumed at any record's end, the rest is cut as in one run."""
    records = cut(data, delimiter)
    assert sum(record.size for record in records) == len(data)
    offset = 0
    for index, record in enumerate(records):
        offset += record.size
        assert cut(data[offset:], delimiter) == records[index + 1 :]


def test_a_quote_inside_a_cell_is_a_character_of_it() -> None:
    records = cut(b'a,Siti "Ayu,c\nd,5" layar,f\n')
    assert [(record.cells, record.error) for record in records] == [
        (["a", 'Siti "Ayu', "c"], None),
        (["d", '5" layar', "f"], None),
    ]


@pytest.mark.parametrize(
    ("data", "bad"),
    [
        (b'a,"Siti Ayu,c\nd,e,f\ng,h,i\n', ["a", "Siti Ayu,c"]),
        (b'a,b,"c\nd,e,f\ng,h,i\n', ["a", "b", "c"]),
        (b'a,"Siti Ayu,c\nd,e,f\ng,5" Budi,i\n', ["a", "Siti Ayu,c"]),
        (b'a,"Siti Ayu,c\r\nd,e,f\r\ng,h,i', ["a", "Siti Ayu,c"]),
    ],
    ids=["more-cells-than-the-header", "to-the-end-of-the-file", "closed-by-a-later-quote", "crlf"],
)
def test_a_quote_that_never_closes_takes_only_its_own_line(data: bytes, bad: list[str]) -> None:
    first, *rest = cut(data)
    assert (first.cells, first.error, first.size) == (bad, csvfile.UNCLOSED_QUOTE, len(lines_of(data)[0]))
    assert [record.error for record in rest] == [None, None]
    assert rest[0].cells == ["d", "e", "f"]
    assert sum(record.size for record in [first, *rest]) == len(data)


def test_a_cell_past_the_csv_modules_size_limit_is_a_bad_row_not_an_error() -> None:
    runaway = b'a,"b\n' + b"x,y,z\n" * (csv.field_size_limit() // 5)
    first, *rest = cut(runaway)
    assert (first.error, first.cells) == (csvfile.UNCLOSED_QUOTE, ["a", "b"])
    assert {(record.error, tuple(record.cells)) for record in rest} == {(None, ("x", "y", "z"))}
    assert len(rest) == csv.field_size_limit() // 5
    huge = b"a," + b"x" * (csv.field_size_limit() + 10) + b",c\nd,e,f\n"
    assert [(record.error, record.cells) for record in cut(huge)] == [
        (csvfile.CELL_TOO_LONG, []),
        (None, ["d", "e", "f"]),
    ]


def test_blank_lines_are_blank_records_that_still_move_the_checkpoint() -> None:
    records = cut(b"\r\n;;\n,,\n a , b ,c\n", ",")
    assert [(record.blank, record.size) for record in records] == [
        (True, 2),
        (False, 3),
        (True, 3),
        (False, 10),
    ]


@pytest.mark.parametrize(
    ("data", "header"),
    [
        (b"\xef\xbb\xbf\r\n NIK ; Cohort\r\n1;A\r\n", csvfile.Header(("nik", "cohort"), ";", 20)),
        (b'nik,"Daftar, 2020",x"y\n', csvfile.Header(("nik", "daftar, 2020", 'x"y'), ",", 23)),
    ],
)
def test_the_header_is_the_first_line_that_is_not_blank(data: bytes, header: csvfile.Header) -> None:
    assert csvfile.header_of(lines_of(data)) == header


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b'nik,"cohort\n1,A"\n', "UNCLOSED_QUOTE_IN_HEADER"),
        (b"\n \n;\n", "NO_HEADER"),
        (b"nik,cohort\n\xff\n", "NOT_UTF8"),
        (b"nik,cohort\n\x00\n", "NOT_TEXT"),
    ],
)
def test_a_file_without_a_readable_header_is_unreadable(data: bytes, reason: str) -> None:
    with pytest.raises(csvfile.Unreadable) as raised:
        csvfile.header_of(lines_of(data))
    assert raised.value.reason == reason
