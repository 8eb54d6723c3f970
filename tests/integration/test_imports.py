"""`POST /v1/imports` and `GET /v1/imports/{id}`: who may import what, and where the file goes."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
import requests
from chalice.test import Client

from chalicelib.core.settings import settings
from chalicelib.registration.stores import imports as import_store
from tests.conftest import TokenFactory, body
from tests.integration.test_registration import error_of


def ask(client: Client, headers: dict[str, str], **request: Any) -> Any:
    return client.http.post("/v1/imports", headers=headers, body=body({"filename": "batch.csv", **request}))


def test_an_office_gets_a_link_to_upload_into_its_own_province(client: Client, auth: TokenFactory) -> None:
    response = ask(client, auth("office", province="31"), kind="registrations")
    assert response.status_code == 201
    import_id, link = response.json_body["import_id"], response.json_body["upload_url"]
    assert f"/imports/31/{import_id}.csv" in link
    assert requests.put(link, data=b"nik,kk_number\n", timeout=10).status_code == 200
    stored = boto3.client("s3").get_object(Bucket=settings().upload_bucket, Key=f"imports/31/{import_id}.csv")
    assert stored["Body"].read() == b"nik,kk_number\n"
    status = client.http.get(f"/v1/imports/{import_id}", headers=auth("office", province="31")).json_body
    assert (status["status"], status["kind"], status["province"], status["report_url"]) == (
        "PENDING",
        "registrations",
        "31",
        None,
    )


def test_a_retried_request_with_its_idempotency_key_gets_the_same_import(
    client: Client, auth: TokenFactory
) -> None:

    headers = auth("office", province="31") | {"Idempotency-Key": "import-1"}
    first = ask(client, headers, kind="registrations")
    again = ask(client, headers, kind="registrations")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json_body == first.json_body
    assert import_store.import_batch(first.json_body["import_id"]) is not None
    assert ask(client, headers, kind="cohort").json_body["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert ask(client, auth("office", province="31"), kind="registrations").json_body != first.json_body


def test_exclusion_lists_are_national_and_for_admins_only(client: Client, auth: TokenFactory) -> None:
    assert error_of(ask(client, auth("office", province="31"), kind="exclusion")) == (403, "ADMIN_ONLY")
    response = ask(client, auth("admin"), kind="exclusion")
    assert response.status_code == 201
    assert "/imports/national/" in response.json_body["upload_url"]


def test_an_office_cannot_import_for_or_read_another_province(client: Client, auth: TokenFactory) -> None:
    assert error_of(ask(client, auth("office", province="31"), kind="cohort", province="32")) == (
        403,
        "WRONG_PROVINCE",
    )
    import_id = ask(client, auth("office", province="32"), kind="cohort").json_body["import_id"]
    response = client.http.get(f"/v1/imports/{import_id}", headers=auth("office", province="31"))
    assert error_of(response) == (403, "WRONG_PROVINCE")
    assert client.http.get(f"/v1/imports/{import_id}", headers=auth("admin")).status_code == 200


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        ({"kind": "payments"}, "kind"),
        ({"kind": "cohort", "filename": "../../etc/passwd"}, "filename"),
        ({"kind": "cohort", "filename": ""}, "filename"),
    ],
)
def test_bad_requests_are_refused(
    client: Client, auth: TokenFactory, request_: dict[str, str], field: str
) -> None:
    response = ask(client, auth("office", province="31"), **request_)
    assert response.status_code == 422
    assert field in response.json_body["error"]["fields"]


def test_an_admin_names_a_known_province(client: Client, auth: TokenFactory) -> None:
    assert ask(client, auth("admin"), kind="registrations").json_body["error"]["fields"] == {
        "province": "admin harus menyebut kode provinsi yang sah"
    }
    assert ask(client, auth("admin"), kind="registrations", province="99").status_code == 422
    assert ask(client, auth("admin"), kind="registrations", province="35").status_code == 201
    from_token = ask(client, auth("admin", province="32"), kind="cohort")
    assert from_token.status_code == 201
    assert "imports/32/" in from_token.json_body["upload_url"]


def test_participants_cannot_import_and_unknown_imports_are_404(client: Client, auth: TokenFactory) -> None:
    assert ask(client, auth("participant"), kind="cohort").status_code == 403
    assert error_of(client.http.get("/v1/imports/nothing", headers=auth("admin"))) == (
        404,
        "IMPORT_NOT_FOUND",
    )


def test_a_finished_import_links_its_report(client: Client, auth: TokenFactory) -> None:
    import_id = ask(client, auth("office", province="31"), kind="registrations").json_body["import_id"]
    boto3.client("dynamodb").update_item(
        TableName=settings().table_name("jobs"),
        Key={"pk": {"S": f"IMPORT#{import_id}"}, "sk": {"S": "STATE"}},
        UpdateExpression="SET #s = :done",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":done": {"S": "DONE"}},
    )
    status = client.http.get(f"/v1/imports/{import_id}", headers=auth("office", province="31")).json_body
    assert f"/results/31/{import_id}.csv" in status["report_url"]
