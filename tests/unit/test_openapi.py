"""The OpenAPI document as a map of the API: which operation a page's call is, and which answers
the document accepts (tests/openapi.py)."""

from __future__ import annotations

import json

import pytest
from openapi_spec_validator import validate

from tests.openapi import AnswerMismatch, app_document, check_answer, operation_for


def test_the_document_is_valid_openapi_3_1() -> None:
    document = app_document()
    assert document["openapi"].startswith("3.1")
    validate(dict(document))


@pytest.mark.parametrize(
    ("method", "path", "template", "operation_id"),
    [
        ("POST", "/v1/waves/W1/applications", "/v1/waves/{wave_id}/applications", "apply"),
        ("GET", "/v1/participants/me", "/v1/participants/me", "own_record"),
        ("GET", "/v1/participants/P-1", "/v1/participants/{participant_id}", "participant_record"),
        ("get", "/v1/courses?platform=P1&limit=5", "/v1/courses", "list_courses"),
        ("POST", "/v1/waves", "/v1/waves", "create_wave"),
        ("GET", "/v1/stats/provinces/31/waves/W1", "/v1/stats/provinces/{code}/waves/{wave_id}", None),
        ("GET", "/v1/openapi.json", "/v1/openapi.json", "openapi_document"),
    ],
)
def test_a_call_finds_its_operation(method: str, path: str, template: str, operation_id: str | None) -> None:
    found = operation_for(app_document(), method, path)
    assert found is not None
    assert found[0] == template
    if operation_id is not None:
        assert found[1]["operationId"] == operation_id


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", "/v1/waves"),
        ("GET", "/v1/waves/W1"),
        ("POST", "/v1/waves//applications"),
        ("GET", "/v1/participant/me"),
        ("PUT", "/v1/participants/me"),
        ("GET", "/v1/stats/provinces/31/waves"),
    ],
)
def test_a_call_the_api_does_not_have_finds_nothing(method: str, path: str) -> None:
    assert operation_for(app_document(), method, path) is None


WAVE = {
    "wave_id": "W1",
    "opens_at": "2021-06-01T00:00:00Z",
    "closes_at": "2021-06-04T00:00:00Z",
    "quota": 10,
    "province_quotas": {},
    "applications_open": False,
}


def _answer(value: object) -> bytes:
    return json.dumps(value).encode()


def test_an_answer_as_the_model_says_passes() -> None:
    check_answer(app_document(), "GET", "/v1/waves", 200, _answer({"waves": [WAVE]}))
    error = {"error": {"code": "WAVE_EXISTS", "message": "Gelombang sudah ada."}}
    check_answer(app_document(), "POST", "/v1/waves", 409, _answer(error))
    check_answer(app_document(), "GET", "/v1/waves", 500, _answer({"error": {"code": "X", "message": "m"}}))


@pytest.mark.parametrize(
    ("status", "answer", "says"),
    [
        (200, {"waves": [{**WAVE, "quota": "10"}]}, "waves/0/quota"),
        (200, {"waves": [{name: value for name, value in WAVE.items() if name != "quota"}]}, "'quota' is a"),
        (200, {"waves": [WAVE], "next": None}, "Additional properties"),
        (404, {"error": {"code": "NOT_FOUND", "message": "m"}}, "does not declare"),
        (422, {"error": {"code": "INVALID", "message": "m", "fields": {"quota": 1}}}, "error/fields/quota"),
        (409, {"code": "WAVE_EXISTS"}, "required"),
    ],
)
def test_an_answer_the_document_does_not_describe_fails(status: int, answer: object, says: str) -> None:
    method = "GET" if status == 200 else "POST"
    with pytest.raises(AnswerMismatch, match=says):
        check_answer(app_document(), method, "/v1/waves", status, _answer(answer))


def test_a_body_that_is_not_json_fails() -> None:
    with pytest.raises(AnswerMismatch, match="not JSON"):
        check_answer(app_document(), "GET", "/v1/waves", 200, b"<html>")


def test_a_path_the_api_lacks_is_not_the_documents_business() -> None:
    check_answer(app_document(), "GET", "/v1/nowhere", 404, b"not even json")


def test_the_routes_that_honour_an_idempotency_key_are_the_ones_the_document_says() -> None:
    import inspect

    from app import app

    honoured = sorted(
        (path, method.lower())
        for path, methods in app.routes.items()
        for method, entry in methods.items()
        if "idempotent(bp," in inspect.getsource(inspect.unwrap(entry.view_function))
    )
    documented = sorted(
        (path, method)
        for path, item in app_document()["paths"].items()
        for method, operation in item.items()
        if any(parameter["name"] == "Idempotency-Key" for parameter in operation.get("parameters", []))
    )
    assert documented == honoured
    assert ("/v1/purchases", "post") in documented
