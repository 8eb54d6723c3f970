"""Applying to a wave: open waves only, one open application at a time, revoked people never."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.core import clock
from chalicelib.registration.stores import ledger
from chalicelib.registration.stores import waves as wave_store
from tests.conftest import ReadLog, TokenFactory, body, reads_of
from tests.integration.test_registration import SITI, error_of, register

W1 = {
    "wave_id": "W1",
    "opens_at": "2021-06-01T00:00:00+07:00",
    "closes_at": "2021-06-04T00:00:00+07:00",
    "quota": 10,
}
W2 = {
    "wave_id": "W2",
    "opens_at": "2021-07-01T00:00:00+07:00",
    "closes_at": "2021-07-04T00:00:00+07:00",
    "quota": 10,
}


@pytest.fixture
def waves(client: Client, auth: TokenFactory) -> Iterator[None]:
    for wave in (W1, W2):
        assert client.http.post("/v1/waves", headers=auth("admin"), body=body(wave)).status_code == 201
    register(client, auth, SITI, "acc-siti")
    clock.set_now(datetime.fromisoformat("2021-06-02T10:00:00+07:00"))
    yield
    clock.set_now(None)


def apply(client: Client, auth: TokenFactory, wave_id: str, account: str = "acc-siti") -> Any:
    return client.http.post(f"/v1/waves/{wave_id}/applications", headers=auth("participant", sub=account))


def test_a_registered_person_applies_to_an_open_wave(client: Client, auth: TokenFactory, waves: None) -> None:
    response = apply(client, auth, "W1")
    assert response.status_code == 201
    me = client.http.get("/v1/participants/me", headers=auth("participant", sub="acc-siti")).json_body
    assert (me["status"], me["wave_id"]) == ("APPLIED", "W1")
    listed = {
        wave["wave_id"]: wave["applications_open"] for wave in client.http.get("/v1/waves").json_body["waves"]
    }
    assert listed == {"W1": True, "W2": False}


def test_applying_reads_the_participant_consistently(
    client: Client, auth: TokenFactory, waves: None, dynamodb_reads: ReadLog
) -> None:
    """It acts on the record's version and answers with the record it just wrote."""
    from chalicelib.registration import service

    assert apply(client, auth, "W1").status_code == 201
    reads = reads_of(dynamodb_reads, f"P#{service.participant_id_for('acc-siti')}")
    assert reads and all(read.get("ConsistentRead") for read in reads)


def test_a_retried_application_with_its_idempotency_key_gets_the_first_answer(
    client: Client, auth: TokenFactory, waves: None
) -> None:
    headers = auth("participant", sub="acc-siti") | {"Idempotency-Key": "apply-w1"}
    first = client.http.post("/v1/waves/W1/applications", headers=headers)
    again = client.http.post("/v1/waves/W1/applications", headers=headers)
    assert (first.status_code, again.status_code, again.json_body) == (201, 201, first.json_body)


def test_applying_twice_is_already_applied(client: Client, auth: TokenFactory, waves: None) -> None:
    apply(client, auth, "W1")
    assert error_of(apply(client, auth, "W1")) == (409, "ALREADY_APPLIED")


def test_an_application_its_wave_selection_passed_over_may_apply_again(
    client: Client, auth: TokenFactory, waves: None
) -> None:
    """An application that landed after the selection read its pool was never decided: once that
    selection is done, the person stands as not selected, not applied forever."""

    from chalicelib.registration.model import SelectionState

    apply(client, auth, "W1")
    clock.set_now(datetime.fromisoformat("2021-07-02T10:00:00+07:00"))
    wave_store.set_selection("W1", SelectionState.RUNNING, {SelectionState.NOT_STARTED})
    assert error_of(apply(client, auth, "W2")) == (409, "ALREADY_APPLIED")
    wave_store.set_selection("W1", SelectionState.DONE, {SelectionState.RUNNING})
    assert apply(client, auth, "W2").status_code == 201
    me = client.http.get("/v1/participants/me", headers=auth("participant", sub="acc-siti")).json_body
    assert (me["status"], me["wave_id"]) == ("APPLIED", "W2")
    assert error_of(apply(client, auth, "W2")) == (409, "ALREADY_APPLIED")


def test_a_wave_split_by_province_takes_only_the_provinces_it_lists(
    client: Client, auth: TokenFactory, waves: None
) -> None:
    """Elsewhere it has no pool: an application from there would never be selected nor refused."""
    for wave_id, split in (("W3", {"32": 5}), ("W4", {"31": 5})):
        wave = {**W1, "wave_id": wave_id, "quota": 5, "province_quotas": split}
        assert client.http.post("/v1/waves", headers=auth("admin"), body=body(wave)).status_code == 201
    assert error_of(apply(client, auth, "W3")) == (422, "WAVE_CLOSED")
    assert apply(client, auth, "W4").status_code == 201


def test_a_closed_or_unknown_wave_refuses(client: Client, auth: TokenFactory, waves: None) -> None:
    assert error_of(apply(client, auth, "W2")) == (422, "WAVE_CLOSED")
    assert error_of(apply(client, auth, "W9")) == (404, "WAVE_NOT_FOUND")
    clock.set_now(datetime.fromisoformat("2021-06-04T00:00:00+07:00"))
    assert error_of(apply(client, auth, "W1")) == (422, "WAVE_CLOSED")


def test_an_unregistered_account_cannot_apply(client: Client, auth: TokenFactory, waves: None) -> None:
    assert error_of(apply(client, auth, "W1", account="stranger")) == (404, "NOT_REGISTERED")


def test_the_audit_trail_records_the_application(client: Client, auth: TokenFactory, waves: None) -> None:
    from chalicelib.registration import service

    apply(client, auth, "W1")
    [event] = ledger.events(service.participant_id_for("acc-siti"))
    assert (event.action, event.status_from, event.status_to, event.actor) == (
        "APPLIED",
        "REGISTERED",
        "APPLIED",
        "acc-siti",
    )
    assert event.details == {"wave_id": "W1"}


def test_admins_and_the_province_see_the_audit_trail_others_do_not(
    client: Client, auth: TokenFactory, waves: None
) -> None:
    from chalicelib.registration import service

    apply(client, auth, "W1")
    path = f"/v1/participants/{service.participant_id_for('acc-siti')}"
    record = client.http.get(path, headers=auth("admin")).json_body
    assert [entry["action"] for entry in record["audit_trail"]] == ["REGISTERED", "APPLIED"]
    assert record["audit_trail"][0]["details"] == {"channel": "ONLINE"}
    assert client.http.get(path, headers=auth("office", province="31")).status_code == 200
    assert client.http.get(path, headers=auth("pemda", province="31")).status_code == 200
    assert error_of(client.http.get(path, headers=auth("office", province="32"))) == (403, "WRONG_PROVINCE")
    assert client.http.get(path, headers=auth("participant", sub="acc-siti")).status_code == 403
    assert error_of(client.http.get("/v1/participants/nobody", headers=auth("admin"))) == (
        404,
        "PARTICIPANT_NOT_FOUND",
    )
