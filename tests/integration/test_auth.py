"""The auth matrix, through a real route (`POST /v1/waves`, admins only)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from chalice.test import Client

from chalicelib.core.auth import Caller, Role, ensure_province, require
from chalicelib.core.errors import Forbidden, Unauthenticated
from devstack.issuer import LocalIssuer
from tests.conftest import ISSUER, TokenFactory, body

WAVE = {
    "wave_id": "W1",
    "opens_at": "2021-06-01T00:00:00+07:00",
    "closes_at": "2021-06-05T00:00:00+07:00",
    "quota": 10,
}


def _post(client: Client, headers: dict[str, str]) -> tuple[int, str]:
    response = client.http.post("/v1/waves", headers=headers, body=body(WAVE))
    return response.status_code, response.json_body["error"]["code"] if response.status_code >= 400 else ""


def test_no_token_is_401(client: Client) -> None:
    assert _post(client, {"Content-Type": "application/json"}) == (401, "UNAUTHENTICATED")


@pytest.mark.parametrize("header", ["Bearer", "Bearer not-a-jwt", "Basic dXNlcjpwYXNz", "bearer a.b.c"])
def test_malformed_authorization_is_401(client: Client, header: str) -> None:
    assert _post(client, {"Authorization": header}) == (401, "UNAUTHENTICATED")


def test_token_signed_by_another_key_is_401(client: Client) -> None:
    stranger = LocalIssuer(Path(tempfile.mkdtemp()))
    stranger.kid = ISSUER.kid  # claim to be our key; the signature still gives it away
    token = stranger.token({"role": "admin", "sub": "mallory"})
    assert _post(client, {"Authorization": f"Bearer {token}"}) == (401, "UNAUTHENTICATED")


def test_expired_token_is_401(client: Client) -> None:
    token = ISSUER.token({"role": "admin", "sub": "a"}, lifetime_seconds=-60)
    assert _post(client, {"Authorization": f"Bearer {token}"}) == (401, "UNAUTHENTICATED")


def test_token_without_subject_is_401(client: Client) -> None:
    token = ISSUER.token({"role": "admin", "sub": None})
    assert _post(client, {"Authorization": f"Bearer {token}"}) == (401, "UNAUTHENTICATED")


@pytest.mark.parametrize("role", ["participant", "office", "pemda", "platform", "partner"])
def test_wrong_role_is_403(client: Client, auth: TokenFactory, role: str) -> None:
    assert _post(client, auth(role, province="31")) == (403, "FORBIDDEN")


def test_unknown_role_is_403(client: Client, auth: TokenFactory) -> None:
    assert _post(client, auth("superuser")) == (403, "UNKNOWN_ROLE")


def test_right_role_passes(client: Client, auth: TokenFactory) -> None:
    assert _post(client, auth("admin")) == (201, "")


def _headers(**claims: object) -> dict[str, str]:
    return {"authorization": f"Bearer {ISSUER.token(claims)}"}


def test_office_of_another_province_is_403() -> None:
    with pytest.raises(Forbidden) as refused:
        ensure_province(require(_headers(role="office", sub="o", province="31"), "office", "admin"), "32")
    assert refused.value.code == "WRONG_PROVINCE"


@pytest.mark.parametrize("role", ["office", "pemda"])
def test_a_provincial_role_without_a_province_is_403(client: Client, auth: TokenFactory, role: Role) -> None:
    with pytest.raises(Forbidden) as refused:
        require(_headers(role=role, sub="o"), role)
    assert refused.value.code == "NO_PROVINCE"
    request = {"kind": "registrations", "filename": "peserta.csv"}
    response = client.http.post("/v1/imports", headers=auth(role), body=body(request))
    assert (response.status_code, response.json_body["error"]["code"]) == (403, "NO_PROVINCE")


def test_office_of_its_own_province_and_admin_anywhere_pass() -> None:
    office = require(_headers(role="office", sub="o", province="31"), "office", "admin")
    admin = require(_headers(role="admin", sub="a"), "office", "admin")
    ensure_province(office, "31")
    ensure_province(admin, "32")
    assert (office.province, admin.role) == ("31", "admin")


def test_cognito_groups_and_custom_attributes_are_understood() -> None:
    caller = require(
        _headers(sub="u-1", **{"cognito:groups": ["staff", "pemda"], "custom:province": "35"}), "pemda"
    )
    ensure_province(caller, "35")
    assert caller == Caller(sub="u-1", role="pemda", province="35")


@pytest.mark.parametrize("audience", [None, "another-app-client"])
def test_token_for_another_app_client_is_refused_once_the_audience_is_set(
    configure: Callable[..., None], audience: str | None
) -> None:
    configure(JWT_AUDIENCE="prakerja-web")
    assert require(_headers(role="admin", sub="a", aud="prakerja-web"), "admin").sub == "a"
    with pytest.raises(Unauthenticated):
        require(_headers(role="admin", sub="a", aud=audience), "admin")


def test_missing_token_raises_unauthenticated() -> None:
    with pytest.raises(Unauthenticated):
        require({}, "admin")
