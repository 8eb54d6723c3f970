"""Every failure reaches the caller as the contract's error JSON, with the right status."""

from __future__ import annotations

import json

import pytest
from chalice.app import Blueprint, Chalice, Response
from chalice.test import Client

from chalicelib.core.errors import NotFound
from chalicelib.core.http import route
from tests.conftest import ReadLog, TokenFactory, body


def test_malformed_json_is_400(client: Client, auth: TokenFactory) -> None:
    response = client.http.post("/v1/waves", headers=auth("admin"), body='{"wave_id": ')
    assert response.status_code == 400
    assert response.json_body == {
        "error": {"code": "MALFORMED_JSON", "message": "Isi permintaan bukan JSON yang sah."}
    }


def test_empty_body_is_400(client: Client, auth: TokenFactory) -> None:
    assert client.http.post("/v1/waves", headers=auth("admin")).status_code == 400


def test_body_over_the_limit_is_413(client: Client, auth: TokenFactory) -> None:
    huge = body({"wave_id": "W1", "padding": "x" * 70_000})
    response = client.http.post("/v1/waves", headers=auth("admin"), body=huge)
    assert response.status_code == 413
    assert response.json_body["error"]["code"] == "PAYLOAD_TOO_LARGE"


def test_validation_failure_is_422_with_fields_and_no_echo(client: Client, auth: TokenFactory) -> None:
    sent = {"wave_id": "secret value 3171234501900001", "quota": -1, "unexpected": 1}
    response = client.http.post("/v1/waves", headers=auth("admin"), body=body(sent))
    assert response.status_code == 422
    error = response.json_body["error"]
    assert {"wave_id", "quota", "opens_at", "unexpected"} <= set(error["fields"])
    assert "3171234501900001" not in json.dumps(response.json_body)


def test_each_fields_problem_is_said_in_indonesian(client: Client, auth: TokenFactory) -> None:
    sent = {"wave_id": "w 1", "quota": -1, "unexpected": 1, "opens_at": "kemarin"}
    wave = client.http.post("/v1/waves", headers=auth("admin"), body=body(sent))
    assert wave.json_body["error"]["fields"] == {
        "wave_id": "formatnya tidak sah",
        "quota": "harus lebih dari 0",
        "opens_at": "waktu tidak sah (ISO 8601 dengan zona waktu)",
        "closes_at": "wajib diisi",
        "unexpected": "tidak dikenal",
    }
    person = {"gender": "X", "email": "tanpa-domain", "phone": "12345"}
    answered = client.http.post("/v1/registrations", headers=auth("participant"), body=body(person))
    fields = answered.json_body["error"]["fields"]
    assert (fields["gender"], fields["email"], fields["phone"]) == (
        "harus salah satu dari 'M' atau 'F'",
        "bukan alamat e-mail yang sah",
        "bukan nomor ponsel Indonesia",
    )


@pytest.fixture
def broken_client() -> Client:
    bp = Blueprint(__name__)

    @route(bp, "/boom", methods=["GET"])
    def boom() -> Response:
        raise RuntimeError("database said: NIK 3171234501900001 exploded")

    @route(bp, "/missing", methods=["GET"])
    def missing() -> Response:
        raise NotFound()

    app = Chalice(app_name="broken")
    app.register_blueprint(bp)
    return Client(app)


@pytest.mark.parametrize(
    ("method", "path", "role"),
    [
        ("POST", "/v1/waves/{id}/applications", "participant"),
        ("POST", "/v1/waves/{id}/selection", "admin"),
        ("GET", "/v1/participants/{id}", "admin"),
        ("GET", "/v1/imports/{id}", "admin"),
        ("GET", "/v1/courses/{id}", "participant"),
    ],
)
def test_an_absurdly_long_identifier_is_404_without_a_lookup(
    client: Client, auth: TokenFactory, dynamodb_reads: ReadLog, method: str, path: str, role: str
) -> None:
    """DynamoDB answers a key over 1,024 bytes with a ValidationException (moto does not)."""
    long_id = "W" * 1100
    response = client.http.request(method, path.format(id=long_id), headers=auth(role))
    assert (response.status_code, response.json_body["error"]["code"]) == (404, "NOT_FOUND")
    assert not [read for read in dynamodb_reads if long_id in json.dumps(read)]


def test_what_chalice_refuses_itself_is_in_the_contracts_shape(client: Client, auth: TokenFactory) -> None:
    text = auth("admin") | {"Content-Type": "text/plain"}
    response = client.http.post("/v1/waves", headers=text, body="wave")
    assert (response.status_code, response.json_body["error"]["code"]) == (415, "UNSUPPORTED_MEDIA_TYPE")
    response = client.http.request("DELETE", "/v1/waves", headers=auth("admin"))
    assert (response.status_code, response.json_body["error"]["code"]) == (405, "METHOD_NOT_ALLOWED")
    assert "GET" in response.headers["Allow"]


def test_an_unexpected_failure_is_a_500_that_leaks_nothing(broken_client: Client) -> None:
    response = broken_client.http.get("/boom")
    assert response.status_code == 500
    assert response.json_body["error"]["code"] == "INTERNAL_ERROR"
    assert "3171234501900001" not in response.body.decode()


def test_a_domain_error_keeps_its_status(broken_client: Client) -> None:
    response = broken_client.http.get("/missing")
    assert (response.status_code, response.json_body["error"]["code"]) == (404, "NOT_FOUND")
