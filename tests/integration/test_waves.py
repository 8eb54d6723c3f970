from __future__ import annotations

from chalice.test import Client

from tests.conftest import TokenFactory, body

WAVE = {
    "wave_id": "W17",
    "opens_at": "2021-06-01T00:00:00+07:00",
    "closes_at": "2021-06-04T23:59:59+07:00",
    "quota": 1000,
    "province_quotas": {"31": 600, "32": 400},
}


def test_admin_creates_a_wave_that_everyone_can_list(client: Client, auth: TokenFactory) -> None:
    created = client.http.post("/v1/waves", headers=auth("admin"), body=body(WAVE))
    assert created.status_code == 201
    listed = client.http.get("/v1/waves")
    assert listed.status_code == 200
    [wave] = listed.json_body["waves"]
    assert wave["wave_id"] == "W17"
    assert wave["province_quotas"] == {"31": 600, "32": 400}
    assert wave["applications_open"] is False


def test_a_second_wave_with_the_same_id_is_a_conflict(client: Client, auth: TokenFactory) -> None:
    client.http.post("/v1/waves", headers=auth("admin"), body=body(WAVE))
    again = client.http.post("/v1/waves", headers=auth("admin"), body=body(WAVE))
    assert again.status_code == 409
    assert again.json_body["error"]["code"] == "WAVE_EXISTS"


def test_province_quotas_over_the_national_quota_are_refused(client: Client, auth: TokenFactory) -> None:
    wave = {**WAVE, "province_quotas": {"31": 900, "32": 400}}
    response = client.http.post("/v1/waves", headers=auth("admin"), body=body(wave))
    assert response.status_code == 422
    assert response.json_body["error"]["code"] == "VALIDATION_FAILED"


def test_unknown_province_and_closing_before_opening_are_refused(client: Client, auth: TokenFactory) -> None:
    wave = {**WAVE, "province_quotas": {"99": 1}, "closes_at": "2021-05-01T00:00:00+07:00"}
    response = client.http.post("/v1/waves", headers=auth("admin"), body=body(wave))
    assert response.status_code == 422
    assert "province_quotas" in response.json_body["error"]["fields"]
