"""CORS: the programme's site (`WEB_ORIGIN`) may call every route its pages call, preflights
included, with the headers those calls carry; no other origin is allowed anything."""

from __future__ import annotations

import pytest
from chalice.app import CORSConfig
from chalice.test import Client

from chalicelib.core.settings import Settings

SITE = Settings().web_origin
ELSEWHERE = "https://phishing.example"
# What web/assets/*.js call, by route (tests/e2e/test_web.py records the same from a browser).
PAGES_CALL = [
    ("POST", "/v1/registrations"),
    ("GET", "/v1/participants/me"),
    ("GET", "/v1/waves"),
    ("POST", "/v1/waves/{wave_id}/applications"),
    ("GET", "/v1/courses"),
    ("POST", "/v1/purchases"),
    ("POST", "/v1/courses/{course_id}/ratings"),
    ("PUT", "/v1/participants/me/payment-account"),
    ("GET", "/v1/surveys/{survey_id}"),
    ("POST", "/v1/surveys/{survey_id}/responses"),
    ("GET", "/v1/stats/provinces"),
    ("GET", "/v1/stats/provinces/{code}"),
    ("GET", "/v1/stats/provinces/{code}/series"),
    ("GET", "/v1/stats/series"),
    ("POST", "/v1/imports"),
    ("GET", "/v1/imports/{import_id}"),
]


@pytest.mark.parametrize(("method", "path"), PAGES_CALL)
def test_every_route_the_pages_call_allows_the_site_alone(method: str, path: str) -> None:
    from app import app

    cors = app.routes[path][method].cors

    assert isinstance(cors, CORSConfig)
    assert cors.allow_origin == SITE
    allowed = cors.get_access_control_headers()["Access-Control-Allow-Headers"].split(",")
    assert {"Authorization", "Content-Type", "Idempotency-Key"} <= set(allowed)


def preflight(client: Client, path: str, origin: str) -> tuple[int, dict[str, str]]:
    """The preflight's status and headers. Through the gateway the test client wraps: its own
    `request` fails on an answer without a body, which a preflight is."""
    headers = {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type,idempotency-key",
    }
    gateway = client.http._local_gateway
    answer = gateway.handle_request(method="OPTIONS", path=path, headers=headers, body=None)
    return answer["statusCode"], answer["headers"]


def test_a_preflight_from_the_site_allows_a_purchase_with_its_key(client: Client) -> None:
    status, headers = preflight(client, "/v1/purchases", SITE)

    assert status == 200
    assert headers["Access-Control-Allow-Origin"] == SITE
    assert "POST" in headers["Access-Control-Allow-Methods"]
    assert "Idempotency-Key" in headers["Access-Control-Allow-Headers"]


def test_another_origin_gets_no_allowance(client: Client) -> None:
    answer = client.http.get("/v1/waves", headers={"Origin": ELSEWHERE})
    _, preflight_headers = preflight(client, "/v1/purchases", ELSEWHERE)

    assert answer.status_code == 200
    for headers in (answer.headers, preflight_headers):
        assert headers.get("Access-Control-Allow-Origin") in (None, SITE)
