"""An office's registrations file, from upload to report: every row an outcome, nothing twice."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import boto3
import pytest
from chalice.test import Client

from chalicelib.settings import settings
from tests.conftest import TokenFactory, body, drain, sqs_event
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


def test_an_excel_export_imports_its_rows_and_reports_each(client: Client, auth: TokenFactory) -> None:
    lines = [HEADER, ROW, BUDI, "", ROW, "3.17123E+15,1,x,1990-01-01,M,0812,a@b.id,3171,SMA,EMPLOYED"]
    content = b"\xef\xbb\xbf" + "\r\n".join(line.replace(",", ";") for line in lines).encode() + b"\r\n"
    import_id = upload(client, auth, content)
    notify(client, import_id)
    state = status(client, auth, import_id)
    assert state["status"] == "DONE"
    assert state["counts"] == {"IMPORTED": 2, "DUPLICATE": 1, "INVALID": 1}
    rows = report(import_id)
    assert [(row["outcome"], row["error_code"]) for row in rows] == [
        ("IMPORTED", ""),
        ("IMPORTED", ""),
        ("DUPLICATE", "DUPLICATE_NIK"),
        ("INVALID", "NIK_SCIENTIFIC_NOTATION"),
    ]
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
    content = f"{HEADER}\n{other}\n{ROW},extra\n=cmd|' /C calc'!A0,1\n".encode()
    import_id = upload(client, auth, content)
    notify(client, import_id)
    rows = report(import_id)
    assert [(row["outcome"], row["error_code"]) for row in rows] == [
        ("WRONG_PROVINCE", "WRONG_PROVINCE"),
        ("INVALID", "CELL_COUNT"),
        ("INVALID", "CELL_COUNT"),
    ]
    assert rows[2]["nik"].startswith("'=")


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


def test_a_long_file_goes_in_chunks_and_a_killed_run_resumes(
    client: Client, auth: TokenFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.registration import imports

    monkeypatch.setattr(imports, "CHUNK_ROWS", 2)
    people = [
        f"31712{index % 9}{1 + index % 28:02d}0190{index + 1:04d},31712301010{index:05d},Orang Ke,"
        f"1990-01-{1 + index % 28:02d},M,0813{index:08d},,3171,SMA,UNEMPLOYED"
        for index in range(7)
    ]
    import_id = upload(client, auth, (HEADER + "\n" + "\n".join(people) + "\n").encode())
    original = imports._next_chunk
    calls = {"count": 0}

    def dies_on_the_third_chunk(batch: Any) -> Any:
        calls["count"] += 1
        result = original(batch)
        if calls["count"] == 3:
            raise KeyboardInterrupt("killed after the chunk's work, before its checkpoint")
        return result

    monkeypatch.setattr(imports, "_next_chunk", dies_on_the_third_chunk)
    with pytest.raises(KeyboardInterrupt):
        notify(client, import_id)
    monkeypatch.setattr(imports, "_next_chunk", original)
    imports.continue_import(import_id, lambda: True)
    state = status(client, auth, import_id)
    assert (state["status"], state["counts"]) == ("DONE", {"IMPORTED": 7})
    assert len(report(import_id)) == 7
