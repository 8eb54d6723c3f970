"""Office files as LibreOffice Calc really writes them (`tests/fixtures/spreadsheets/`, made by its
`generate.py`): a NIK or KK the spreadsheet rounded is never registered, and what the clerk meant
is imported, with a reason a clerk can act on for every row that is not."""

from __future__ import annotations

from pathlib import Path

import pytest
from chalice.test import Client

from chalicelib.registration import service
from chalicelib.registration.imports import rows as import_rows
from chalicelib.registration.stores import participants
from tests.conftest import TokenFactory
from tests.fixtures.spreadsheets import generate
from tests.integration.test_import_processing import notify, report, status, upload
from tests.unit.registration.test_spreadsheets import spreadsheet_number

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "spreadsheets"


def imported(client: Client, auth: TokenFactory, fixture: str) -> str:
    import_id = upload(client, auth, (FIXTURES / fixture).read_bytes())
    notify(client, import_id)
    return import_id


def registered() -> list[str]:
    """The people of the fixture's typed list whose NIK, as typed or as a spreadsheet rounded it,
    is registered."""
    niks = [person[0] for person in generate.PEOPLE]
    rounded = [spreadsheet_number(nik) for nik in niks]
    return [nik for nik in niks + rounded if participants.holder_of("NIK", nik) is not None]


@pytest.mark.parametrize(
    ("fixture", "reason"),
    [
        ("rounded-semicolon-utf8.csv", "NIK_AS_NUMBER"),
        ("rounded-comma-utf8.csv", "NIK_AS_NUMBER"),
        ("rounded-three-semicolon-utf8.csv", "NIK_AS_NUMBER"),
        ("kk-rounded-semicolon-utf8.csv", "KK_AS_NUMBER"),
        ("rounded-semicolon-cp1252.csv", "NOT_UTF8"),
        ("intended-semicolon-cp1252.csv", "NOT_UTF8"),
    ],
)
def test_a_file_whose_identities_a_spreadsheet_damaged_is_rejected_and_registers_nobody(
    client: Client, auth: TokenFactory, fixture: str, reason: str
) -> None:
    state = status(client, auth, imported(client, auth, fixture))
    assert (state["status"], state["reason"]) == ("REJECTED", reason)
    assert "UTF-8" in state["reason_message"]
    if reason.endswith("_AS_NUMBER"):
        assert "sebagai Teks" in state["reason_message"]
    assert registered() == []


@pytest.mark.parametrize("fixture", ["intended-semicolon-utf8.csv", "intended-comma-utf8.csv"])
def test_the_clerks_intended_file_imports_all_six_as_their_forms_wrote_them(
    client: Client, auth: TokenFactory, fixture: str
) -> None:
    import_id = imported(client, auth, fixture)
    state = status(client, auth, import_id)
    assert (state["status"], state["counts"], state["error_counts"]) == ("DONE", {"IMPORTED": 6}, {})
    assert registered() == [person[0] for person in generate.PEOPLE]
    siti = service.own_record(import_rows.row_account(import_id, 1))
    assert (siti.nik, siti.kk_number, str(siti.birth_date), siti.gender, siti.phone) == (
        "3173054207921037",
        "3173050101000001",
        "1992-07-02",
        "F",
        "+6281290565465",
    )
    budi = service.own_record(import_rows.row_account(import_id, 2))
    assert (str(budi.birth_date), budi.gender) == ("1988-05-15", "M")


def test_dates_the_spreadsheet_rewrote_with_two_digit_years_are_refused_never_guessed(
    client: Client, auth: TokenFactory
) -> None:
    import_id = imported(client, auth, "dates-typed-semicolon-utf8.csv")
    state = status(client, auth, import_id)
    assert state["counts"] == {"IMPORTED": 4, "INVALID": 2}
    assert state["error_counts"] == {"AMBIGUOUS_YEAR": 2}
    refused = [row for row in report(import_id) if row["outcome"] == "INVALID"]
    assert [row["full_name"] for row in refused] == ["Siti Rahayu", "Rina Wulandari"]
    for row in refused:
        assert row["error_message"].startswith("Kolom birth_date: tahun ditulis dua angka")


# The column each mistake of `generate.MISTAKES` is in, and the code it gets.
MISTAKES = [
    ("INVALID", "INVALID_GENDER", "gender"),
    ("INVALID", "INVALID_PHONE", "phone"),
    ("INVALID", "INVALID_BIRTH_DATE", "birth_date"),
    ("INVALID", "AMBIGUOUS_YEAR", "birth_date"),
    ("INVALID", "INVALID_EDUCATION", "education"),
    ("INVALID", "INVALID_EMAIL", "email"),
    ("INVALID", "INVALID_NIK", "nik"),
    ("INVALID", "NIK_MISMATCH", "regency_code"),
    ("INVALID", "INVALID_PHONE", "phone"),
    ("NOT_ELIGIBLE", "NOT_ELIGIBLE", "birth_date"),
    ("WRONG_PROVINCE", "WRONG_PROVINCE", "nik"),
    ("IMPORTED", "", ""),
]


def test_every_refused_row_names_its_column_with_a_specific_code(client: Client, auth: TokenFactory) -> None:
    import_id = imported(client, auth, "mistakes-semicolon-utf8.csv")
    rows = report(import_id)
    assert [(row["outcome"], row["error_code"]) for row in rows] == [(o, c) for o, c, _ in MISTAKES]
    for row, (_, _, column) in zip(rows, MISTAKES, strict=True):
        if column:
            assert row["error_message"].startswith(f"Kolom {column}: "), row["error_message"]
            assert "; tulis " in row["error_message"] or "daftarkan" in row["error_message"]
    assert rows[8]["error_message"].startswith("Kolom phone: wajib diisi")
    state = status(client, auth, import_id)
    assert state["error_counts"] == {
        "INVALID_GENDER": 1,
        "INVALID_PHONE": 2,
        "INVALID_BIRTH_DATE": 1,
        "AMBIGUOUS_YEAR": 1,
        "INVALID_EDUCATION": 1,
        "INVALID_EMAIL": 1,
        "INVALID_NIK": 1,
        "NIK_MISMATCH": 1,
        "NOT_ELIGIBLE": 1,
        "WRONG_PROVINCE": 1,
    }


def test_a_cohort_file_with_rounded_niks_tags_nobody(client: Client, auth: TokenFactory) -> None:
    """A rounded NIK in a cohort or exclusion file names someone else just as well."""
    niks = [f"31730542079210{index}0" for index in range(5)]
    content = ("nik;cohort\n" + "".join(f"{nik};PURNA_PMI\n" for nik in niks)).encode()
    answer = client.http.post(
        "/v1/imports",
        headers=auth("office", province="31"),
        body='{"kind": "cohort", "filename": "pmi.csv"}',
    ).json_body
    import boto3

    from chalicelib.core.settings import settings

    key = f"imports/31/{answer['import_id']}.csv"
    boto3.client("s3").put_object(Bucket=settings().upload_bucket, Key=key, Body=content)
    notify(client, answer["import_id"])
    state = status(client, auth, answer["import_id"])
    assert (state["status"], state["reason"]) == ("REJECTED", "NIK_AS_NUMBER")
