"""No input, however hostile, gets a 5xx or an answer outside the contract's error shape.

Property-based, as an attacker probes: token headers, cursors, query strings, JSON bodies and
CSV headers generated from the shapes that broke things before (deep nesting, sheer size, values
of the wrong type, dates at the ends of the calendar, invisible and right-to-left characters).
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any
from urllib.parse import quote, urlencode

import boto3
from chalice.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import app
from tests.conftest import ISSUER, TokenFactory, body
from tests.integration.test_import_processing import notify, status

ROUTES = sorted((path, method) for path, methods in app.routes.items() for method in methods)
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

tricky_text = st.text(
    alphabet=st.characters(codec="utf-8")
    | st.sampled_from(["\x00", "\u202e", "\u200b", "\u2066", "\ufeff", "\ud7ff", "𝟙", "Ａ", "'", '"', "\\"]),
    max_size=40,
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | tricky_text
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(tricky_text, children, max_size=6),
    max_leaves=25,
)
extreme_moments = st.sampled_from(
    [
        "0001-01-01T00:00:00+07:00",
        "9999-12-31T20:00-07:00",
        "9999-12-31T23:59:59-12:00",
        "2021-02-30T00:00:00+07:00",
        "2021-06-01T00:00:00",
        "2021-06-01T00:00:00+99:00",
        "1e400",
    ]
) | st.datetimes().map(lambda moment: moment.isoformat() + "+07:00")
shaped = st.fixed_dictionaries(
    {},
    optional={
        "wave_id": tricky_text,
        "opens_at": extreme_moments,
        "closes_at": extreme_moments,
        "completed_at": extreme_moments,
        "quota": scalars,
        "province_quotas": st.dictionaries(tricky_text, scalars, max_size=4) | json_values,
        "course_id": tricky_text,
        "price": scalars,
        "purchase_id": tricky_text,
        "certificate_no": tricky_text,
        "reason": tricky_text,
        "note": tricky_text,
        "title": tricky_text,
        "stars": scalars,
        "review": tricky_text,
        "kind": st.sampled_from(["registrations", "cohort", "exclusion"]) | tricky_text,
        "filename": tricky_text,
        "nik": tricky_text | st.integers(),
    },
)


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


bodies = (
    st.none()
    | json_values.map(json.dumps)
    | shaped.map(json.dumps)
    | st.integers(min_value=1, max_value=100_000).map(nested)
    | st.binary(max_size=200).map(lambda raw: raw.decode("latin-1"))
)
roles = st.sampled_from(["participant", "office", "pemda", "platform", "partner", "admin", "nobody"])
tokens = roles.map(lambda role: ISSUER.token({"role": role, "sub": f"fuzz-{role}", "province": "31"}))


def _segment(value: bytes) -> str:
    return base64.urlsafe_b64encode(value).decode().rstrip("=")


forged_headers = (
    st.integers(min_value=1, max_value=20_000).map(lambda depth: nested(depth).encode())
    | json_values.map(lambda value: json.dumps(value).encode())
    | st.binary(max_size=300)
)
forged_tokens = st.tuples(forged_headers, json_values.map(lambda value: json.dumps(value).encode())).map(
    lambda parts: f"{_segment(parts[0])}.{_segment(parts[1])}.c2lnbmF0dXJl"
)
authorization = (
    st.none()
    | tokens.map(lambda token: f"Bearer {token}")
    | forged_tokens.map(lambda token: f"Bearer {token}")
    | tricky_text
)


def _concrete(path: str, values: list[str]) -> str:
    parts = iter(values)
    return re.sub(r"\{[^}]+\}", lambda _: quote(next(parts, "x") or "x", safe=""), path)


def assert_contract(response: Any, where: object) -> None:
    """Below 500, and any refusal in the contract's shape: a stable upper-case code and a message."""
    assert response.status_code < 500, (where, response.body[:300])
    if response.status_code >= 400:
        error = json.loads(response.body)["error"]
        assert re.fullmatch(r"[A-Z][A-Z0-9_]*", error["code"]), (where, error)
        assert isinstance(error["message"], str) and error["message"]
        assert isinstance(error.get("fields", {}), dict)


@FUZZ
@given(
    route=st.sampled_from(ROUTES),
    params=st.lists(tricky_text.filter(bool), max_size=3),
    body_text=bodies,
    header=authorization,
    key=st.none() | tricky_text,
)
def test_no_route_answers_5xx_or_outside_the_error_shape(
    client: Client,
    route: tuple[str, str],
    params: list[str],
    body_text: str | None,
    header: str | None,
    key: str | None,
) -> None:
    path, method = route
    headers: dict[str, Any] = {"Content-Type": "application/json"}
    if header is not None:
        headers["Authorization"] = header
    if key is not None:
        headers["Idempotency-Key"] = key
    response = client.http.request(
        method,
        _concrete(path, params),
        headers=headers,
        body=(body_text or "").encode("utf-8", "surrogatepass"),
    )
    assert_contract(response, (method, path))


@FUZZ
@given(token=forged_tokens)
def test_a_forged_token_of_any_shape_is_401(client: Client, token: str) -> None:
    response = client.http.get("/v1/participants/me", headers={"Authorization": f"Bearer {token}"})
    assert_contract(response, token[:80])
    assert response.status_code == 401


@FUZZ
@given(
    claims=st.dictionaries(
        st.sampled_from(["role", "sub", "province", "platform_id", "partner_id", "cognito:groups", "exp"]),
        json_values,
        max_size=6,
    )
)
def test_a_signed_token_with_claims_of_any_shape_is_refused_cleanly(
    client: Client, claims: dict[str, Any]
) -> None:
    token = ISSUER.token({"role": "admin", "sub": "fuzz", **claims})
    response = client.http.get("/v1/imports/x", headers={"Authorization": f"Bearer {token}"})
    assert_contract(response, claims)


cursors = (
    st.integers(min_value=1, max_value=100_000).map(lambda depth: _segment(nested(depth).encode()))
    | json_values.map(lambda value: _segment(json.dumps(value).encode()))
    | tricky_text.filter(bool)
    | st.text(alphabet="abcdef0123456789.-_", min_size=1, max_size=400)
)


@FUZZ
@given(cursor=cursors)
def test_a_cursor_the_server_did_not_make_is_422_invalid_cursor(client: Client, cursor: str) -> None:
    response = client.http.get("/v1/courses?" + urlencode({"cursor": cursor}))
    assert_contract(response, cursor[:80])
    assert (response.status_code, json.loads(response.body)["error"]["code"]) == (422, "INVALID_CURSOR")


@FUZZ
@given(
    query=st.dictionaries(st.sampled_from(["platform", "category", "q", "limit", "cursor", "x"]), tricky_text)
)
def test_catalogue_queries_of_any_shape_are_answered_within_the_contract(
    client: Client, query: dict[str, str]
) -> None:
    response = client.http.get("/v1/courses?" + urlencode(query))
    assert_contract(response, query)


header_cells = (
    st.sampled_from(["nik", "NIK", "cohort", " Cohort ", "list"])
    | tricky_text
    | st.integers(min_value=0, max_value=100).map(lambda width: "c" * width)
)
csv_headers = st.one_of(
    st.lists(header_cells, min_size=1, max_size=12).map(";".join),
    st.integers(min_value=90, max_value=2_000).map(lambda count: ",".join(f"c{i}" for i in range(count))),
    st.integers(min_value=1, max_value=20_000).map(lambda width: "nik,cohort," + "x" * width),
    st.sampled_from(['nik,"cohort', 'nik,co"hort', "\ufeffnik;cohort", "nik\x00,cohort"]),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(header=csv_headers)
def test_an_import_of_any_header_ends_done_or_rejected_never_stuck(
    client: Client, auth: TokenFactory, header: str
) -> None:
    from chalicelib.core.settings import settings as configured

    answer = client.http.post(
        "/v1/imports",
        headers=auth("office", province="31"),
        body=body({"kind": "cohort", "filename": "f.csv"}),
    ).json_body
    content = (header + "\n3171234501900001,PURNA_PMI\n").encode("utf-8", "surrogatepass")
    key = f"imports/31/{answer['import_id']}.csv"
    boto3.client("s3").put_object(Bucket=configured().upload_bucket, Key=key, Body=content)
    notify(client, answer["import_id"])
    state = status(client, auth, answer["import_id"])
    assert state["status"] in ("DONE", "REJECTED"), state
    if state["status"] == "REJECTED":
        assert state["reason"] and state["reason_message"]
