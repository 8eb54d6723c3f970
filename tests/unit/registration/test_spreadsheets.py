"""What spreadsheets do to identity numbers, and the verdict on a file's columns: pure, property-tested."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.registration.imports import spreadsheets
from chalicelib.registration.imports.spreadsheets import EVIDENCE, AmbiguousYear, damaged_identity_column

COLUMNS = ("nik", "kk_number", "full_name")


def spreadsheet_number(digits: str) -> str:
    """A number as Excel and a workbook keep it: 15 significant digits."""
    return f"{int(float(f'{int(digits):.14e}'))}"


def verdict(rows: list[tuple[str, str]], with_kk: bool = True) -> str | None:
    return damaged_identity_column(COLUMNS, ([nik, kk, "x"] for nik, kk in rows), with_kk=with_kk)


# A 16-digit identity number with an issued serial (0001 and up), as a clerk types it.
identity = st.builds(
    lambda region, date, serial: f"{region}{date}{serial:04d}",
    st.sampled_from(["317305", "317101", "327301", "351501"]),
    st.from_regex(r"[0-3][0-9][01][0-9][0-9]{2}", fullmatch=True),
    st.integers(min_value=1, max_value=9999),
)


@given(st.lists(st.tuples(identity, identity), min_size=EVIDENCE, max_size=40, unique_by=lambda row: row[0]))
def test_five_or_more_people_whose_identities_a_spreadsheet_rounded_are_refused(
    people: list[tuple[str, str]],
) -> None:
    rounded = [(spreadsheet_number(nik), spreadsheet_number(kk)) for nik, kk in people]
    if len({nik for nik, _ in rounded}) >= EVIDENCE or any(nik.endswith("0000") for nik, _ in rounded):
        assert verdict(rounded) == "NIK_AS_NUMBER"


@given(st.lists(st.tuples(identity, identity), min_size=1, max_size=40))
def test_a_file_with_any_identity_that_does_not_end_in_zero_is_never_refused(
    people: list[tuple[str, str]],
) -> None:
    typed = [*people, ("3173054207921037", "3173050101000001")]
    assert verdict(typed) is None


@given(st.lists(st.tuples(identity, identity), min_size=1, max_size=2))
def test_fewer_identities_than_the_evidence_needs_are_not_refused_for_ending_in_zero(
    people: list[tuple[str, str]],
) -> None:
    """Up to two people: at most four values, which a genuine file ends in 0 too often to convict."""
    zeros = [(nik[:-1] + "0", kk[:-1] + "0") for nik, kk in people]
    if not any(value.endswith("0000") for row in zeros for value in row):
        assert verdict(zeros) is None


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([("3.17305E+15", "3173050101000001")], "NIK_AS_NUMBER"),
        ([("3173054207921037", "3,17305E+15")], "KK_AS_NUMBER"),
        ([("3.173.054.207.921.040", "3173050101000001")], "NIK_AS_NUMBER"),
        # Rounding made serial 0001-0004 into 0000, which is never issued: one such value convicts.
        ([("3173051505880020", "3173050101000000")], "KK_AS_NUMBER"),
        ([("3173051505880000", "3173050101000011")], "NIK_AS_NUMBER"),
        # Three people, NIK and KK both rounded: six independent values, all ending in 0.
        ([(f"317305150588{i}010", f"317305010100{i}020") for i in range(3)], "NIK_AS_NUMBER"),
        # Five members of one family: one KK, five NIKs of which one does not end in 0.
        ([(f"317305150588001{i}", "3173050101000010") for i in range(5)], None),
        # Five KKs ending in 0 but NIKs typed as text: the KK column alone convicts.
        ([(f"317305150588001{i}", f"317305010100{i}010") for i in range(1, 6)], "KK_AS_NUMBER"),
    ],
)
def test_the_verdict_on_a_files_identity_columns(rows: list[tuple[str, str]], expected: str | None) -> None:
    assert verdict(rows) == expected


def test_cohort_and_exclusion_files_are_judged_on_their_nik_column_alone() -> None:
    rows = [(f"317305150588001{i}", f"317305010100{i}010") for i in range(1, 6)]
    assert verdict(rows, with_kk=False) is None


@pytest.mark.parametrize(
    ("written", "iso"),
    [
        ("05/01/1990", "1990-01-05"),
        ("5/1/1990", "1990-01-05"),
        ("05-01-1990", "1990-01-05"),
        ("05.01.1990", "1990-01-05"),
        ("1990-01-05", "1990-01-05"),
        ("31/02/1990", "1990-02-31"),
        ("05/01-1990", "05/01-1990"),
        ("Januari 1990", "Januari 1990"),
    ],
)
def test_office_dates_are_day_first_or_iso(written: str, iso: str) -> None:
    assert spreadsheets.office_date(written) == iso


@pytest.mark.parametrize("written", ["02/07/92", "2-7-92", "02/07/1"])
def test_a_two_digit_year_is_never_guessed(written: str) -> None:
    with pytest.raises(AmbiguousYear):
        spreadsheets.office_date(written)


@pytest.mark.parametrize(
    ("written", "gender"),
    [("L", "M"), ("p", "F"), ("Laki-laki", "M"), ("PEREMPUAN", "F"), ("M", "M"), ("F", "F"), ("W", "W")],
)
def test_office_genders_as_forms_write_them(written: str, gender: str) -> None:
    assert spreadsheets.office_gender(written) == gender
