"""`POST /v1/registrations` and `GET /v1/participants/me`, through the app against moto."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.core import clock
from chalicelib.registration.stores import participants, registrations
from tests.conftest import TokenFactory, body

SITI: dict[str, Any] = {
    "nik": "3171234501900001",
    "kk_number": "3171230101090001",
    "full_name": "Siti Rahayu",
    "birth_date": "1990-01-05",
    "gender": "F",
    "email": "siti@example.id",
    "phone": "081234567890",
    "province_code": "31",
    "regency_code": "3171",
    "education": "SMA",
    "employment_status": "UNEMPLOYED",
    "declarations": {
        "student": False,
        "civil_servant": False,
        "military_police": False,
        "village_official": False,
        "legislator": False,
        "soe_executive": False,
    },
}
BUDI = {
    **SITI,
    "nik": "3171230203850002",
    "full_name": "Budi Santoso",
    "birth_date": "1985-03-02",
    "gender": "M",
    "email": "budi@example.id",
    "phone": "+6281298765432",
}


def register(client: Client, auth: TokenFactory, person: dict[str, Any], account: str) -> Any:
    return client.http.post("/v1/registrations", headers=auth("participant", sub=account), body=body(person))


def error_of(response: Any) -> tuple[int, str]:
    return response.status_code, response.json_body["error"]["code"]


def test_a_person_registers_and_sees_their_masked_record(client: Client, auth: TokenFactory) -> None:
    created = register(client, auth, SITI, "acc-siti")
    assert created.status_code == 201
    assert created.json_body["status"] == "REGISTERED"
    me = client.http.get("/v1/participants/me", headers=auth("participant", sub="acc-siti")).json_body
    assert me["participant_id"] == created.json_body["participant_id"]
    assert (me["nik"], me["kk_number"]) == ("************0001", "************0001")
    assert (me["status"], me["verification"], me["province_code"]) == ("REGISTERED", "PENDING", "31")
    assert "3171234501900001" not in str(me)
    before_selection: dict[str, Any] = {
        "wave_id": None,
        "balance": None,
        "purchase_deadline": None,
        "purchases": [],
    }
    assert {name: me[name] for name in before_selection} == before_selection


def test_a_retry_of_the_same_registration_returns_the_same_participant(
    client: Client, auth: TokenFactory
) -> None:
    first = register(client, auth, SITI, "acc-siti")
    again = register(client, auth, SITI, "acc-siti")
    assert again.status_code == 201
    assert again.json_body == first.json_body


def test_the_same_account_with_other_data_is_already_registered(client: Client, auth: TokenFactory) -> None:
    register(client, auth, SITI, "acc-siti")
    assert error_of(register(client, auth, BUDI, "acc-siti")) == (409, "ALREADY_REGISTERED")


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"email": "other@example.id", "phone": "081200000001"}, "DUPLICATE_NIK"),
        (
            {"nik": BUDI["nik"], "birth_date": BUDI["birth_date"], "gender": "M", "phone": "081200000001"},
            "DUPLICATE_EMAIL",
        ),
        (
            {"nik": BUDI["nik"], "birth_date": BUDI["birth_date"], "gender": "M", "email": "x@example.id"},
            "DUPLICATE_PHONE",
        ),
    ],
)
def test_each_claim_is_unique_across_accounts(
    client: Client, auth: TokenFactory, change: dict[str, str], code: str
) -> None:
    register(client, auth, SITI, "acc-siti")
    assert error_of(register(client, auth, {**SITI, **change}, "acc-other")) == (409, code)


def test_email_case_and_phone_format_do_not_make_a_new_person(client: Client, auth: TokenFactory) -> None:
    register(client, auth, SITI, "acc-siti")
    other = {**BUDI, "email": "SITI@Example.ID"}
    assert error_of(register(client, auth, other, "acc-2")) == (409, "DUPLICATE_EMAIL")
    other = {**BUDI, "phone": "+62 812-3456-7890"}
    assert error_of(register(client, auth, other, "acc-3")) == (409, "DUPLICATE_PHONE")


def test_a_refused_registration_claims_nothing(client: Client, auth: TokenFactory) -> None:
    register(client, auth, SITI, "acc-siti")
    assert register(client, auth, {**BUDI, "phone": SITI["phone"]}, "acc-budi").status_code == 409
    assert register(client, auth, BUDI, "acc-budi").status_code == 201


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"nik": "31712345019000AB"}, 422, "INVALID_NIK"),
        ({"nik": "317123450190000"}, 422, "INVALID_NIK"),
        ({"nik": "31712345019000012"}, 422, "INVALID_NIK"),
        ({"nik": "9971234501900001", "province_code": "99"}, 422, "VALIDATION_FAILED"),
        ({"nik": "9971234501900001"}, 422, "INVALID_NIK"),
        ({"birth_date": "1990-01-06"}, 422, "NIK_MISMATCH"),
        ({"gender": "M"}, 422, "NIK_MISMATCH"),
        ({"province_code": "32"}, 422, "NIK_MISMATCH"),
        ({"birth_date": "2090-01-05"}, 422, "VALIDATION_FAILED"),
        ({"phone": "+14155552671"}, 422, "VALIDATION_FAILED"),
        ({"phone": "021-5551234"}, 422, "VALIDATION_FAILED"),
        ({"email": "siti@localhost"}, 422, "VALIDATION_FAILED"),
        ({"email": "siti"}, 422, "VALIDATION_FAILED"),
        ({"full_name": ""}, 422, "VALIDATION_FAILED"),
        ({"full_name": "x" * 101}, 422, "VALIDATION_FAILED"),
        ({"kk_number": "3.17123E+15"}, 422, "INVALID_KK"),
        ({"education": "PHD"}, 422, "VALIDATION_FAILED"),
        ({"declarations": {"student": False}}, 422, "VALIDATION_FAILED"),
    ],
)
def test_bad_input_gets_its_code(
    client: Client, auth: TokenFactory, change: dict[str, Any], status: int, code: str
) -> None:
    assert error_of(register(client, auth, {**SITI, **change}, "acc-bad")) == (status, code)


def test_an_ineligible_person_is_told_which_rule(client: Client, auth: TokenFactory) -> None:
    declared = {**SITI["declarations"], "civil_servant": True}
    response = register(client, auth, {**SITI, "declarations": declared}, "acc-asn")
    assert error_of(response) == (422, "NOT_ELIGIBLE")
    assert response.json_body["error"]["fields"] == {"rule": "civil_servant"}


@pytest.mark.parametrize(("today", "status"), [("2021-06-01", 422), ("2021-06-02", 201)])
def test_eighteen_is_counted_to_the_day_in_jakarta(
    client: Client, auth: TokenFactory, today: str, status: int
) -> None:
    young = {**SITI, "nik": "3171234206030001", "birth_date": "2003-06-02"}
    clock.set_now(datetime.fromisoformat(f"{today}T00:30:00+07:00"))
    try:
        response = register(client, auth, young, "acc-young")
    finally:
        clock.set_now(None)
    assert response.status_code == status
    if status == 422:
        assert response.json_body["error"]["fields"] == {"rule": "minimum_age"}


def test_only_participants_register(client: Client, auth: TokenFactory) -> None:
    response = client.http.post("/v1/registrations", headers=auth("office", province="31"), body=body(SITI))
    assert response.status_code == 403


def test_the_record_of_an_unregistered_account_is_404(client: Client, auth: TokenFactory) -> None:
    response = client.http.get("/v1/participants/me", headers=auth("participant", sub="nobody"))
    assert error_of(response) == (404, "NOT_REGISTERED")


def test_a_batch_that_meets_its_own_registration_written_meanwhile_returns_it(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two runs of one import chunk (a duplicate event): the other run registered the row between
    this run's read and its write. The row is the same registration, not a duplicate of it."""
    from chalicelib.registration import service
    from chalicelib.registration.schemas import OfficeRegistration

    write = registrations._write_registrations

    def other_run_first(group: list[Any], claims: dict[str, dict[str, str]]) -> Any:
        for participant in group:
            registrations.add_registration(participant)
        return write(group, claims)

    monkeypatch.setattr(registrations, "_write_registrations", other_run_first)
    [registered] = service.register_many([(OfficeRegistration.model_validate(BUDI), "office-2")], "OFFICE")
    assert not isinstance(registered, Exception), registered
    assert registered.participant_id == service.participant_id_for("office-2")


def test_a_batch_meets_a_claim_taken_after_its_read_and_writes_the_rest(
    client: Client, auth: TokenFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.registration import service
    from chalicelib.registration.schemas import OfficeRegistration

    register(client, auth, SITI, "acc-siti")
    monkeypatch.setattr(participants.GuardRecord, "batch_get", lambda keys: [])
    requests = [
        (
            OfficeRegistration.model_validate({**SITI, "email": "other@example.id", "phone": "081300000001"}),
            "office-1",
        ),
        (OfficeRegistration.model_validate(BUDI), "office-2"),
    ]
    first, second = service.register_many(requests, channel="OFFICE")
    assert isinstance(first, service.DuplicateNik)
    assert not isinstance(second, Exception) and second.status.value == "REGISTERED"
