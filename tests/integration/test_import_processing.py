"""An office's registrations file, from upload to report: every row an outcome, nothing twice."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import requests
from chalice.test import Client

from chalicelib.core.settings import settings
from chalicelib.registration.imports.reasons import row_problem
from chalicelib.registration.stores import ledger
from chalicelib.registration.stores import participants as participant_store
from chalicelib.registration.stores import selection as selection_store
from chalicelib.registration.stores import waves as wave_store
from tests.conftest import ReadLog, TokenFactory, body, drain, reads_of, sqs_event
from tests.integration.test_registration import SITI, register

HEADER = "nik,kk_number,full_name,birth_date,gender,phone,email,regency_code,education,employment_status"
ROW = (
    "3171234501900001,3171230101090001,Siti Rahayu,1990-01-05,F,081234567890,siti@example.id,"
    + "3171,SMA,UNEMPLOYED"
)
BUDI = "3171230203850002,3171230101090002,Budi Santoso,02/03/1985,M,81298765432,,3171,SMK,laid_off"


def upload(client: Client, auth: TokenFactory, content: bytes, province: str = "31") -> str:
    answer = client.http.post(
        "/v1/imports",
        headers=auth("office", province=province),
        body=body({"kind": "registrations", "filename": "x.csv"}),
    ).json_body
    key = f"imports/{province}/{answer['import_id']}.csv"
    boto3.client("s3").put_object(Bucket=settings().upload_bucket, Key=key, Body=content)
    return str(answer["import_id"])


def notify(client: Client, import_id: str, province: str = "31") -> None:
    """Deliver the upload's S3 notification (moto in-process sends none), URL-encoded as AWS does."""
    notification = {
        "Records": [
            {
                "eventName": "ObjectCreated:Put",
                "s3": {"object": {"key": f"imports%2F{province}%2F{import_id}.csv"}},
            }
        ]
    }
    message = {"MessageId": "m", "ReceiptHandle": "r", "Body": json.dumps(notification), "MD5OfBody": "-"}
    client.lambda_.invoke(
        "import_batches", sqs_event(message, "arn:aws:sqs:ap-southeast-3:123456789012:imports")
    )
    drain(client)


def status(client: Client, auth: TokenFactory, import_id: str) -> dict[str, Any]:
    answer: dict[str, Any] = client.http.get(f"/v1/imports/{import_id}", headers=auth("admin")).json_body
    return answer


def report(import_id: str, province: str = "31") -> list[dict[str, str]]:
    data = boto3.client("s3").get_object(
        Bucket=settings().upload_bucket, Key=f"results/{province}/{import_id}.csv"
    )
    return list(csv.DictReader(io.StringIO(data["Body"].read().decode())))


def notify_killed_after_chunk(
    client: Client, import_id: str, chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deliver the upload's notification; the run is killed after the `chunk`-th chunk's work,
    before its checkpoint."""
    from chalicelib.registration.imports import processing as imports

    original = imports._next_chunk
    calls = {"count": 0}

    def dies(batch: Any) -> Any:
        calls["count"] += 1
        result = original(batch)
        if calls["count"] == chunk:
            raise KeyboardInterrupt("killed after the chunk's work, before its checkpoint")
        return result

    monkeypatch.setattr(imports, "_next_chunk", dies)
    with pytest.raises(KeyboardInterrupt):
        notify(client, import_id)
    monkeypatch.setattr(imports, "_next_chunk", original)


def test_an_excel_export_imports_its_rows_and_reports_each(client: Client, auth: TokenFactory) -> None:
    # A NIK in scientific notation rejects the whole file now (NIK_AS_NUMBER, see
    # test_spreadsheet_files): the row that fails here fails for its gender alone.
    lines = [HEADER, ROW, BUDI, "", ROW, someone(3).replace(",M,", ",X,")]
    content = b"\xef\xbb\xbf" + "\r\n".join(line.replace(",", ";") for line in lines).encode() + b"\r\n"
    import_id = upload(client, auth, content)
    notify(client, import_id)
    state = status(client, auth, import_id)
    assert state["status"] == "DONE"
    assert state["counts"] == {"IMPORTED": 2, "DUPLICATE": 1, "INVALID": 1}
    assert state["error_counts"] == {"DUPLICATE_NIK": 1, "INVALID_GENDER": 1}
    rows = report(import_id)
    assert [(row["outcome"], row["error_code"]) for row in rows] == [
        ("IMPORTED", ""),
        ("IMPORTED", ""),
        ("DUPLICATE", "DUPLICATE_NIK"),
        ("INVALID", "INVALID_GENDER"),
    ]
    assert rows[3]["error_message"].startswith("Kolom gender: ")
    assert register(client, auth, SITI, "acc-siti").json_body["error"]["code"] == "DUPLICATE_NIK"


def test_the_same_notification_twice_imports_nothing_twice(client: Client, auth: TokenFactory) -> None:
    import_id = upload(client, auth, f"{HEADER}\n{ROW}\n".encode())
    notify(client, import_id)
    notify(client, import_id)
    assert status(client, auth, import_id)["counts"] == {"IMPORTED": 1}


def test_the_same_file_uploaded_again_is_all_duplicates(client: Client, auth: TokenFactory) -> None:
    content = f"{HEADER}\n{ROW}\n{BUDI}\n".encode()
    notify(client, upload(client, auth, content))
    again = upload(client, auth, content)
    notify(client, again)
    assert status(client, auth, again)["counts"] == {"DUPLICATE": 2}


def test_rows_of_another_province_and_bad_cells_get_their_outcome(client: Client, auth: TokenFactory) -> None:
    other = ROW.replace("3171234501900001", "3271234501900001")
    formula = BUDI.replace("Budi Santoso", "=cmd|' /C calc'!A0")
    content = f"{HEADER}\n{other}\n{ROW},extra\n{formula},1\n".encode()
    import_id = upload(client, auth, content)
    notify(client, import_id)
    rows = report(import_id)
    assert [(row["outcome"], row["error_code"]) for row in rows] == [
        ("WRONG_PROVINCE", "WRONG_PROVINCE"),
        ("INVALID", "CELL_COUNT"),
        ("INVALID", "CELL_COUNT"),
    ]
    assert rows[2]["full_name"].startswith("'=")
    # The office of province 31 may read this report: a province-32 person shows nothing but this.
    assert {name: value for name, value in rows[0].items() if value} == {
        "nik": "************0001",
        "outcome": "WRONG_PROVINCE",
        "error_code": "WRONG_PROVINCE",
        "error_message": row_problem("WRONG_PROVINCE").message,
    }
    assert rows[0]["error_message"].startswith("Kolom nik: NIK ini bukan penduduk provinsi kantor Anda")


def test_an_office_reads_no_one_of_another_province_in_an_admins_report_however_a_row_failed(
    client: Client, auth: TokenFactory
) -> None:
    """A row is shown in full only when its NIK is one of the import's province: a row about
    someone else that fails before its province is checked must not show them either."""
    dewi = (
        ROW.replace("3171234501900001", "3271234501900003")
        .replace("3171230101090001", "3271230101090003")
        .replace("Siti Rahayu", "Dewi Lestari")
        .replace("081234567890", "081311112222")
        .replace("siti@example.id", "dewi@example.id")
    )
    lines = [
        ROW,
        f"{dewi},one cell too many",
        dewi.replace("3271234501900003", "327123450190003"),
        dewi.replace("3271234501900003", "Dewi Lestari"),
    ]
    answer = client.http.post(
        "/v1/imports",
        headers=auth("admin"),
        body=body({"kind": "registrations", "filename": "x.csv", "province": "31"}),
    ).json_body
    key = f"imports/31/{answer['import_id']}.csv"
    content = (HEADER + "\n" + "\n".join(lines) + "\n").encode()
    boto3.client("s3").put_object(Bucket=settings().upload_bucket, Key=key, Body=content)
    notify(client, answer["import_id"])
    office = auth("office", province="31")
    link = client.http.get(f"/v1/imports/{answer['import_id']}", headers=office).json_body["report_url"]
    text = requests.get(link, timeout=10).content.decode()
    for personal in (
        "Dewi",
        "3271234501900003",
        "327123450190003",
        "3271230101090003",
        "1311112222",
        "dewi@",
    ):
        assert personal not in text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert (rows[0]["full_name"], rows[0]["outcome"]) == ("Siti Rahayu", "IMPORTED")
    messages = [row.pop("error_message") for row in rows[1:]]
    assert [{name: value for name, value in row.items() if value} for row in rows[1:]] == [
        {"nik": "************0003", "outcome": "INVALID", "error_code": "CELL_COUNT"},
        {"nik": "***********0003", "outcome": "INVALID", "error_code": "INVALID_NIK"},
        {"outcome": "INVALID", "error_code": "INVALID_NIK"},
    ]
    assert [message.split(":")[0] for message in messages] == [
        "Jumlah sel baris ini tidak sama dengan jumlah kolom di baris judul",
        "Kolom nik",
        "Kolom nik",
    ]


def someone(index: int) -> str:
    """A registrations row of a distinct, valid province-31 person (NIK, KK and phone of their own)."""
    return (
        f"31712{index % 9}{1 + index % 28:02d}0190{index + 1:04d},31712301010{index:05d},Orang Ke,"
        f"1990-01-{1 + index % 28:02d},M,0813{index:08d},,3171,SMA,UNEMPLOYED"
    )


def outcomes_of(import_id: str) -> list[tuple[str, str]]:
    return [(row["outcome"], row["error_code"]) for row in report(import_id)]


def test_a_quote_inside_a_cell_is_a_character_of_that_cell(client: Client, auth: TokenFactory) -> None:
    """As a spreadsheet reads it: only a quote that starts a cell opens a quoted cell."""
    stray = ROW.replace("Siti Rahayu", 'Siti "Ayu')
    content = f'{HEADER},catatan\n{stray},\n{BUDI},"layar 5"" rusak"\n{someone(2)},layar 5" rusak\n'
    import_id = upload(client, auth, content.encode())
    notify(client, import_id)
    assert status(client, auth, import_id)["status"] == "DONE"
    assert [(row["full_name"], row["catatan"], row["outcome"]) for row in report(import_id)] == [
        ('Siti "Ayu', "", "INVALID"),
        ("Budi Santoso", 'layar 5" rusak', "IMPORTED"),
        ("Orang Ke", 'layar 5" rusak', "IMPORTED"),
    ]


@pytest.mark.parametrize(
    "unclosed",
    [
        someone(1).replace("Orang Ke", '"Orang Ke'),
        # The last cell swallows the rest of the file and still leaves the row its number of cells.
        someone(1).replace("UNEMPLOYED", '"UNEMPLOYED'),
        # Closed again by a stray quote further down: the row it ends in has more cells than any.
        someone(1).replace("Orang Ke", '"Orang Ke') + "\n" + someone(4).replace("Orang Ke", 'Orang 5" Ke'),
    ],
    ids=["in-a-name", "in-the-last-cell", "closed-rows-later"],
)
def test_a_quote_that_never_closes_costs_only_its_own_row(
    client: Client, auth: TokenFactory, unclosed: str
) -> None:
    lines = [someone(0), unclosed, someone(2), "", someone(3)]
    import_id = upload(client, auth, (HEADER + "\n" + "\n".join(lines) + "\n").encode())
    notify(client, import_id)
    state = status(client, auth, import_id)
    assert state["status"] == "DONE"
    outcomes = outcomes_of(import_id)
    assert outcomes[:2] == [("IMPORTED", ""), ("INVALID", "UNCLOSED_QUOTE")]
    assert outcomes[-2:] == [("IMPORTED", ""), ("IMPORTED", "")]
    assert len(outcomes) == len(lines) - 1 + unclosed.count("\n")


@pytest.mark.parametrize(
    ("header", "rejected"),
    [
        (f'{HEADER},catatan "x', None),
        (HEADER.replace("full_name", 'full"name'), "MISSING_COLUMNS: full_name"),
        (HEADER.replace("full_name", '"full_name'), "UNCLOSED_QUOTE_IN_HEADER"),
        (f'{HEADER},"catatan', "UNCLOSED_QUOTE_IN_HEADER"),
    ],
    ids=["inside-an-extra-column", "inside-a-required-column", "opening-a-column", "opening-the-last"],
)
def test_a_quote_in_the_header_imports_or_rejects_the_file_never_leaves_it_pending(
    client: Client, auth: TokenFactory, header: str, rejected: str | None
) -> None:
    import_id = upload(client, auth, f"{header}\n{ROW},\n{BUDI},\n".encode())
    notify(client, import_id)
    state = status(client, auth, import_id)
    if rejected is None:
        assert (state["status"], state["counts"]) == ("DONE", {"IMPORTED": 2})
    else:
        assert (state["status"], state["reason"]) == ("REJECTED", rejected)
        assert register(client, auth, SITI, "acc-siti").status_code == 201


def test_a_quoted_cell_may_span_lines_and_hold_the_separator(client: Client, auth: TokenFactory) -> None:
    lines = [
        f"{HEADER};catatan".replace(",", ";"),
        ROW.replace(",", ";") + ';"baris satu; dua\r\nbaris ""tiga"""',
        BUDI.replace(",", ";") + ";",
    ]
    import_id = upload(client, auth, b"\xef\xbb\xbf" + "\r\n".join(lines).encode() + b"\r\n")
    notify(client, import_id)
    rows = report(import_id)
    assert [(row["catatan"], row["outcome"]) for row in rows] == [
        ('baris satu; dua\r\nbaris "tiga"', "IMPORTED"),
        ("", "IMPORTED"),
    ]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "EMPTY_FILE"),
        (b"\n\n", "NO_HEADER"),
        (b"nik,full_name\n3171234501900001,Siti\n", "MISSING_COLUMNS: kk_number, birth_date, gender"),
        (HEADER.encode() + b"\n" + ROW.replace("Siti", "S\xeeti").encode("latin-1") + b"\n", "NOT_UTF8"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "NOT_UTF8"),
        (HEADER.encode() + b"\n\x00\x00\x00\x00\n", "NOT_TEXT"),
    ],
)
def test_an_unreadable_file_is_rejected_whole_and_changes_nothing(
    client: Client, auth: TokenFactory, content: bytes, reason: str
) -> None:
    import_id = upload(client, auth, content)
    notify(client, import_id)
    state = status(client, auth, import_id)
    assert state["status"] == "REJECTED"
    assert state["reason"].startswith(reason)
    assert register(client, auth, SITI, "acc-siti").status_code == 201


@pytest.mark.parametrize("kill_at", [3, 4], ids=["mid-file", "after-joining-the-report"])
def test_a_long_file_goes_in_chunks_and_a_killed_run_resumes(
    client: Client, auth: TokenFactory, monkeypatch: pytest.MonkeyPatch, kill_at: int
) -> None:
    from chalicelib.registration.imports import processing as imports

    monkeypatch.setattr(imports, "CHUNK_ROWS", 2)
    people = [
        f"31712{index % 9}{1 + index % 28:02d}0190{index + 1:04d},31712301010{index:05d},Orang Ke,"
        f"1990-01-{1 + index % 28:02d},M,0813{index:08d},,3171,SMA,UNEMPLOYED"
        for index in range(7)
    ]
    import_id = upload(client, auth, (HEADER + "\n" + "\n".join(people) + "\n").encode())
    notify_killed_after_chunk(client, import_id, kill_at, monkeypatch)
    imports.continue_import(import_id, lambda: True)
    state = status(client, auth, import_id)
    assert (state["status"], state["counts"]) == ("DONE", {"IMPORTED": 7})
    assert len(report(import_id)) == 7
    leftovers = boto3.client("s3").list_objects_v2(Bucket=settings().upload_bucket, Prefix="parts/")
    assert leftovers.get("KeyCount", 0) == 0


def test_a_file_uploaded_over_a_running_import_changes_none_of_its_rows(
    client: Client, auth: TokenFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The upload link stays valid while the import runs: every chunk reads the upload it inspected."""
    from chalicelib.registration.imports import processing as imports

    monkeypatch.setattr(imports, "CHUNK_ROWS", 1)
    import_id = upload(client, auth, (HEADER + "\n" + ROW + "\n" + BUDI + "\n").encode())
    notify_killed_after_chunk(client, import_id, 1, monkeypatch)
    other = "3171234501900009,3171230101090009,Orang Lain,1990-01-05,F,081234567899,,3171,SMA,UNEMPLOYED"
    key = f"imports/31/{import_id}.csv"
    overwritten = (HEADER + "\n" + other + "\n" + other.replace("Lain", "Lagi") + "\n").encode()
    boto3.client("s3").put_object(Bucket=settings().upload_bucket, Key=key, Body=overwritten)
    imports.continue_import(import_id, lambda: True)
    assert [row["full_name"] for row in report(import_id)] == ["Siti Rahayu", "Budi Santoso"]
    assert status(client, auth, import_id)["counts"] == {"IMPORTED": 2}


@pytest.mark.parametrize("kill_at", [1, 2, 3])
def test_a_killed_run_over_stray_quotes_resumes_losing_and_repeating_nothing(
    client: Client, auth: TokenFactory, monkeypatch: pytest.MonkeyPatch, kill_at: int
) -> None:
    from chalicelib.registration.imports import processing as imports

    monkeypatch.setattr(imports, "CHUNK_ROWS", 2)
    lines = [f"{someone(index)}," for index in range(7)]
    lines[1] = lines[1].replace("Orang Ke", '"Orang Ke')
    lines[3] = f'{someone(3)},layar 5" rusak'
    import_id = upload(client, auth, (f"{HEADER},catatan\n" + "\n".join(lines) + "\n").encode())
    notify_killed_after_chunk(client, import_id, kill_at, monkeypatch)
    imports.continue_import(import_id, lambda: True)
    state = status(client, auth, import_id)
    assert (state["status"], state["counts"]) == ("DONE", {"IMPORTED": 6, "INVALID": 1})
    rows = report(import_id)
    assert [row["nik"] for row in rows] == [line.split(",")[0].strip('"') for line in lines]
    assert [row["outcome"] for row in rows] == ["IMPORTED", "INVALID", *["IMPORTED"] * 5]


def upload_as(client: Client, auth: TokenFactory, kind: str, content: bytes, headers: dict[str, str]) -> str:
    answer = client.http.post(
        "/v1/imports", headers=headers, body=body({"kind": kind, "filename": "x.csv"})
    ).json_body
    province = "national" if kind == "exclusion" else "31"
    boto3.client("s3").put_object(
        Bucket=settings().upload_bucket, Key=f"imports/{province}/{answer['import_id']}.csv", Body=content
    )
    notify(client, answer["import_id"], province)
    return str(answer["import_id"])


def test_a_cohort_file_tags_registered_people_and_reports_the_rest(
    client: Client, auth: TokenFactory
) -> None:
    register(client, auth, SITI, "acc-siti")
    content = (
        b"NIK;Cohort\r\n3171234501900001;purna_pmi\r\n3171230203850002;PURNA_PMI\r\n3271234501900001;X\r\n"
    )
    import_id = upload_as(client, auth, "cohort", content, auth("office", province="31"))
    assert [(row["outcome"], row["error_code"]) for row in report(import_id)] == [
        ("IMPORTED", ""),
        ("INVALID", "NOT_REGISTERED"),
        ("WRONG_PROVINCE", "WRONG_PROVINCE"),
    ]
    me = client.http.get("/v1/participants/me", headers=auth("participant", sub="acc-siti")).json_body
    assert me["cohorts"] == ["PURNA_PMI"]
    upload_as(client, auth, "cohort", content, auth("office", province="31"))
    me = client.http.get("/v1/participants/me", headers=auth("participant", sub="acc-siti")).json_body
    assert me["cohorts"] == ["PURNA_PMI"]
    assert client.http.get("/v1/stats/provinces/31").json_body["cohorts"] == {"PURNA_PMI": 1}


def test_an_identity_number_in_a_name_column_never_becomes_a_cohort_or_a_list(
    client: Client, auth: TokenFactory
) -> None:
    """Cohort and list names go into keys and public figures: a NIK or KK typed there is refused."""
    register(client, auth, SITI, "acc-siti")
    cohorts = b"nik,cohort\n3171234501900001,3171230101090001\n3171234501900001,PMI_081234567890\n"
    cohorts += "3171234501900001,PURNA_PMI\n317123450190\uff10\uff10\uff10\uff11,PURNA_PMI\n".encode()
    import_id = upload_as(client, auth, "cohort", cohorts, auth("office", province="31"))
    assert [(row["outcome"], row["error_code"]) for row in report(import_id)] == [
        ("INVALID", "INVALID_COHORT"),
        ("INVALID", "INVALID_COHORT"),
        ("IMPORTED", ""),
        ("INVALID", "INVALID_NIK"),
    ]
    assert client.http.get("/v1/stats/provinces/31").json_body["cohorts"] == {"PURNA_PMI": 1}
    lists = b"nik,list\n3171234501900001,3171230101090001\n"
    import_id = upload_as(client, auth, "exclusion", lists, auth("admin"))
    assert [(row["outcome"], row["error_code"]) for row in report(import_id, "national")] == [
        ("INVALID", "INVALID_LIST")
    ]


def test_an_exclusion_list_shows_with_its_source_and_a_newer_upload_replaces_it(
    client: Client, auth: TokenFactory
) -> None:
    from chalicelib.registration import service

    register(client, auth, SITI, "acc-siti")
    path = f"/v1/participants/{service.participant_id_for('acc-siti')}"
    first = upload_as(client, auth, "exclusion", b"nik,list\n3171234501900001,bsu_2020\n", auth("admin"))
    assert client.http.get(path, headers=auth("admin")).json_body["exclusions"] == {"BSU_2020": first}
    upload_as(client, auth, "exclusion", b"nik,list\n3171230203850002,BSU_2020\n", auth("admin"))
    assert client.http.get(path, headers=auth("admin")).json_body["exclusions"] == {}


def test_selection_passes_over_people_on_an_active_list(client: Client, auth: TokenFactory) -> None:
    from datetime import datetime

    from chalicelib.core import clock
    from chalicelib.registration import service
    from tests.conftest import run_job
    from tests.integration.test_selection import person, verify

    wave = {
        "wave_id": "W1",
        "opens_at": "2021-06-01T00:00:00+07:00",
        "closes_at": "2021-06-04T00:00:00+07:00",
    }
    client.http.post("/v1/waves", headers=auth("admin"), body=body({**wave, "quota": 5}))
    people = [person(index, "31") for index in range(2)]
    for index, someone in enumerate(people):
        register(client, auth, someone, f"acc-{index}")
        verify(f"acc-{index}")
    upload_as(client, auth, "exclusion", f"nik,list\n{people[0]['nik']},BSU_2020\n".encode(), auth("admin"))
    clock.set_now(datetime.fromisoformat("2021-06-02T10:00:00+07:00"))
    try:
        for index in range(2):
            client.http.post("/v1/waves/W1/applications", headers=auth("participant", sub=f"acc-{index}"))
        clock.set_now(datetime.fromisoformat("2021-06-05T10:00:00+07:00"))
        client.http.post("/v1/waves/W1/selection", headers=auth("admin"))
        run_job(client, "selection")
    finally:
        clock.set_now(None)
    excluded, chosen = (
        participant_store.participant(service.participant_id_for(f"acc-{index}")) for index in range(2)
    )
    assert excluded is not None and chosen is not None
    assert (excluded.status.value, chosen.status.value) == ("NOT_SELECTED", "SELECTED")
    [decision] = [event for event in ledger.events(excluded.participant_id) if event.action == "NOT_SELECTED"]
    assert decision.reason == "EXCLUDED"


def test_a_file_that_ends_exactly_at_a_chunk_boundary_finishes(
    client: Client, auth: TokenFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.registration.imports import processing as imports

    monkeypatch.setattr(imports, "CHUNK_ROWS", 1)
    import_id = upload(client, auth, f"{HEADER}\n{ROW}\n".encode())
    notify(client, import_id)
    assert (status(client, auth, import_id)["status"], len(report(import_id))) == ("DONE", 1)


def test_every_run_of_an_import_reads_its_checkpoint_consistently(
    client: Client, auth: TokenFactory, monkeypatch: pytest.MonkeyPatch, dynamodb_reads: ReadLog
) -> None:
    from chalicelib.registration.imports import processing as imports

    monkeypatch.setattr(imports, "CHUNK_ROWS", 1)
    import_id = upload(client, auth, f"{HEADER}\n{ROW}\n{BUDI}\n".encode())
    key = f"imports/31/{import_id}.csv"
    while imports.process_upload(key, lambda: False).get("more"):
        pass
    assert status(client, auth, import_id)["status"] == "DONE"
    reads = reads_of(dynamodb_reads, f"IMPORT#{import_id}")
    assert len(reads) > 3
    assert all(read.get("ConsistentRead") is True for read in reads)


def test_a_list_being_replaced_excludes_the_people_on_either_version_until_the_new_one_is_done(
    client: Client, auth: TokenFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.registration import service
    from chalicelib.registration.imports import processing as imports
    from tests.integration.test_selection import person

    accounts = {"siti": SITI, "old": person(1, "32"), "new": person(2, "33")}
    for account, someone in accounts.items():
        register(client, auth, someone, account)
    people = [participant_store.participant(service.participant_id_for(account)) for account in accounts]
    assert all(someone is not None for someone in people)
    participants = [someone for someone in people if someone is not None]
    siti, old, new = (someone.participant_id for someone in participants)
    upload_as(
        client,
        auth,
        "exclusion",
        f"nik,list\n{SITI['nik']},BSU_2020\n{accounts['old']['nik']},BSU_2020\n".encode(),
        auth("admin"),
    )
    assert selection_store.DynamoSelectionStore().excluded(participants) == {siti, old}
    monkeypatch.setattr(imports, "CHUNK_ROWS", 1)
    answer = client.http.post(
        "/v1/imports", headers=auth("admin"), body=body({"kind": "exclusion", "filename": "x.csv"})
    ).json_body
    key = f"imports/national/{answer['import_id']}.csv"
    content = f"nik,list\n{SITI['nik']},BSU_2020\n{accounts['new']['nik']},BSU_2020\n"
    boto3.client("s3").put_object(Bucket=settings().upload_bucket, Key=key, Body=content.encode())
    assert imports.process_upload(key, lambda: False)["more"]
    assert selection_store.DynamoSelectionStore().excluded(participants) == {siti, old}
    assert imports.continue_import(answer["import_id"], lambda: False)["more"]
    assert selection_store.DynamoSelectionStore().excluded(participants) == {siti, old, new}
    assert imports.continue_import(answer["import_id"], lambda: False)["status"] == "DONE"
    assert selection_store.DynamoSelectionStore().excluded(participants) == {siti, new}


@pytest.fixture
def open_wave(client: Client, auth: TokenFactory) -> Iterator[str]:
    from datetime import datetime

    from chalicelib.core import clock

    clock.set_now(datetime.fromisoformat("2021-06-02T10:00:00+07:00"))
    wave = {
        "wave_id": "W1",
        "opens_at": "2021-06-01T00:00:00+07:00",
        "closes_at": "2021-06-04T00:00:00+07:00",
        "quota": 5,
    }
    assert client.http.post("/v1/waves", headers=auth("admin"), body=body(wave)).status_code == 201
    yield "W1"
    clock.set_now(None)


def killed_before_the_first_report_part(monkeypatch: pytest.MonkeyPatch) -> None:
    """The first chunk does its rows' work, then the run dies before it writes the chunk's report."""
    from chalicelib.core import files

    put = files.put
    state = {"killed": False}

    def dies(key: str, *args: Any, **kwargs: Any) -> None:
        if key.startswith("parts/") and not state["killed"]:
            state["killed"] = True
            raise KeyboardInterrupt("killed after the rows' work, before the report part")
        put(key, *args, **kwargs)

    monkeypatch.setattr(files, "put", dies)


def test_a_row_run_again_reports_its_own_application_as_the_first_run_did(
    client: Client, auth: TokenFactory, monkeypatch: pytest.MonkeyPatch, open_wave: str
) -> None:
    from chalicelib.registration.imports import processing as imports

    import_id = upload(client, auth, f"{HEADER},wave_id\n{ROW},{open_wave}\n".encode())
    killed_before_the_first_report_part(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        notify(client, import_id)
    assert imports.continue_import(import_id, lambda: True)["status"] == "DONE"
    assert [(row["outcome"], row["error_code"]) for row in report(import_id)] == [("IMPORTED", "")]
    assert status(client, auth, import_id)["counts"] == {"IMPORTED": 1}


def test_a_row_whose_person_applied_elsewhere_in_between_reports_it(
    client: Client, auth: TokenFactory, monkeypatch: pytest.MonkeyPatch, open_wave: str
) -> None:
    from chalicelib.core import clock
    from chalicelib.registration import service
    from chalicelib.registration.imports import processing as imports
    from chalicelib.registration.imports import rows as import_rows
    from chalicelib.registration.model import Event

    import_id = upload(client, auth, f"{HEADER},wave_id\n{ROW},{open_wave}\n".encode())
    monkeypatch.setattr(import_rows, "apply_to_wave", _killed)
    with pytest.raises(KeyboardInterrupt):
        notify(client, import_id)
    monkeypatch.undo()
    participant = participant_store.participant(
        service.participant_id_for(import_rows.row_account(import_id, 1))
    )
    wave = wave_store.wave(open_wave)
    assert participant is not None and wave is not None
    elsewhere = Event(
        at=clock.now(),
        actor="acc-online",
        action="APPLIED",
        status_from="REGISTERED",
        status_to="APPLIED",
        details={"wave_id": open_wave},
    )
    wave_store.add_application(
        participant, wave, service.rank_in(wave, participant.participant_id), False, elsewhere
    )
    assert imports.continue_import(import_id, lambda: True)["status"] == "DONE"
    assert [(row["outcome"], row["error_code"]) for row in report(import_id)] == [
        ("IMPORTED", "ALREADY_APPLIED")
    ]


def _killed(*args: Any, **kwargs: Any) -> Any:
    raise KeyboardInterrupt("killed between a row's registration and its application")


def test_an_import_out_of_time_hands_the_rest_to_its_own_queue(
    client: Client, auth: TokenFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each delivery does one chunk when the Lambda's time is short, and queues its continuation:
    the import ends DONE through the queue alone (its function may send to the imports queue)."""
    from chalicelib.registration import jobs
    from chalicelib.registration.imports import processing as imports

    monkeypatch.setattr(imports, "CHUNK_ROWS", 2)
    monkeypatch.setattr(jobs, "time_keeper", lambda context: lambda: False)
    people = [
        f"31712{index % 9}{1 + index % 28:02d}0190{index + 1:04d},31712301010{index:05d},Orang Ke,"
        f"1990-01-{1 + index % 28:02d},M,0813{index:08d},,3171,SMA,UNEMPLOYED"
        for index in range(5)
    ]
    import_id = upload(client, auth, (HEADER + "\n" + "\n".join(people) + "\n").encode())

    notify(client, import_id)

    state = status(client, auth, import_id)
    assert (state["status"], state["counts"]) == ("DONE", {"IMPORTED": 5})
