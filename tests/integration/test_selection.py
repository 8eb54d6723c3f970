"""Selection through the app: job → one message per pool → the pool consumer, against moto."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.core import clock
from chalicelib.registration import service
from chalicelib.registration.model import Event, Verification
from chalicelib.registration.stores import ledger, participants
from chalicelib.registration.stores import verification as verification_store
from chalicelib.registration.stores import waves as wave_store
from tests.conftest import ReadLog, TokenFactory, body, reads_of, run_job
from tests.integration.test_registration import SITI, register

WAVE = {
    "wave_id": "W1",
    "opens_at": "2021-06-01T00:00:00+07:00",
    "closes_at": "2021-06-04T00:00:00+07:00",
    "quota": 5,
    "province_quotas": {"31": 3, "32": 2},
}


def person(index: int, province: str, kk: str | None = None) -> dict[str, Any]:
    born = date(1980 + index % 20, 1 + index % 12, 1 + index % 28)
    nik = f"{province}7123{born.day:02d}{born.month:02d}{born.year % 100:02d}{index + 1:04d}"
    return {
        **SITI,
        "nik": nik,
        "kk_number": kk or f"{province}7123010109{index:04d}",
        "birth_date": born.isoformat(),
        "gender": "M",
        "email": f"p{index}@example.id",
        "phone": f"0812{index:08d}",
        "province_code": province,
        "regency_code": f"{province}71",
    }


def verify(account: str, outcome: Verification = Verification.NIK_VERIFIED) -> None:
    participant_id = service.participant_id_for(account)
    event = Event(at=clock.now(), actor="test", action=outcome.value, status_from=None, status_to=None)
    found = participants.participant(participant_id)
    assert found is not None
    assert verification_store.record_verification(found, outcome, None, event)


def status_of(client: Client, auth: TokenFactory, account: str) -> str:
    me = client.http.get("/v1/participants/me", headers=auth("participant", sub=account)).json_body
    return str(me["status"])


@pytest.fixture
def applicants(client: Client, auth: TokenFactory) -> Iterator[list[str]]:
    """Eight applicants from DKI Jakarta (31), five from Jawa Barat (32); three share a family card."""
    assert client.http.post("/v1/waves", headers=auth("admin"), body=body(WAVE)).status_code == 201
    accounts = []
    for index in range(13):
        province = "31" if index < 8 else "32"
        family = "3171230101090099" if index in (0, 1, 2) else None
        account = f"acc-{index}"
        assert register(client, auth, person(index, province, family), account).status_code == 201
        if index != 7:
            verify(account)
        accounts.append(account)
    clock.set_now(datetime.fromisoformat("2021-06-02T10:00:00+07:00"))
    for account in accounts:
        response = client.http.post("/v1/waves/W1/applications", headers=auth("participant", sub=account))
        assert response.status_code == 201, response.json_body
    clock.set_now(datetime.fromisoformat("2021-06-05T10:00:00+07:00"))
    yield accounts
    clock.set_now(None)


def test_selection_fills_each_province_quota_and_tells_everyone(
    client: Client, auth: TokenFactory, applicants: list[str]
) -> None:
    started = client.http.post("/v1/waves/W1/selection", headers=auth("admin"))
    assert (started.status_code, started.json_body["selection"]) == (202, "REQUESTED")
    assert run_job(client, "selection") == {"waves_started": ["W1"]}

    statuses = {account: status_of(client, auth, account) for account in applicants}
    jakarta = [statuses[account] for account in applicants[:8]]
    west_java = [statuses[account] for account in applicants[8:]]
    assert jakarta.count("SELECTED") == 3
    assert west_java.count("SELECTED") == 2
    assert set(statuses.values()) == {"SELECTED", "NOT_SELECTED"}
    family = [statuses[account] for account in applicants[:3]]
    assert family.count("SELECTED") <= 2
    assert statuses["acc-7"] == "NOT_SELECTED"
    figures = client.http.get("/v1/stats/provinces/31").json_body
    # acc-7's identity check has not run: registrations are counted once the registry has answered.
    assert (figures["registered"], figures["applied"], figures["selected"]) == (7, 8, 3)
    listed = client.http.get("/v1/waves").json_body["waves"][0]
    assert listed["wave_id"] == "W1"
    assert wave_store.wave("W1").selection.value == "DONE"  # type: ignore[union-attr]


def test_the_selected_get_a_balance_and_a_deadline_thirty_days_out(
    client: Client, auth: TokenFactory, applicants: list[str]
) -> None:
    client.http.post("/v1/waves/W1/selection", headers=auth("admin"))
    run_job(client, "selection")
    selected = [
        participant
        for participant in (
            participants.participant(service.participant_id_for(account)) for account in applicants
        )
        if participant is not None and participant.status.value == "SELECTED"
    ]
    assert len(selected) == 5
    for participant in selected:
        assert participant.balance == 1_000_000
        assert participant.purchase_deadline == datetime.fromisoformat("2021-07-05T23:59:59+07:00")
        assert "SELECTED" in [event.action for event in ledger.events(participant.participant_id)]


def test_selection_cannot_start_while_the_wave_is_open(
    client: Client, auth: TokenFactory, applicants: list[str]
) -> None:
    clock.set_now(datetime.fromisoformat("2021-06-03T10:00:00+07:00"))
    response = client.http.post("/v1/waves/W1/selection", headers=auth("admin"))
    assert (response.status_code, response.json_body["error"]["code"]) == (409, "WAVE_OPEN")


def test_running_the_job_again_changes_nothing(
    client: Client, auth: TokenFactory, applicants: list[str]
) -> None:
    client.http.post("/v1/waves/W1/selection", headers=auth("admin"))
    run_job(client, "selection")
    before = {account: status_of(client, auth, account) for account in applicants}
    client.http.post("/v1/waves/W1/selection", headers=auth("admin"))
    assert run_job(client, "selection") == {"waves_started": []}
    assert {account: status_of(client, auth, account) for account in applicants} == before


def test_a_pool_out_of_time_hands_the_rest_to_its_own_queue(
    client: Client, auth: TokenFactory, applicants: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page per delivery when the Lambda's time is short: the pool's continuation goes through
    the selection queue (its function may send there), and the wave still ends as in one run."""
    from chalicelib.registration import jobs, selection

    monkeypatch.setattr(selection, "PAGE", 2)
    monkeypatch.setattr(jobs, "time_keeper", lambda context: lambda: False)
    client.http.post("/v1/waves/W1/selection", headers=auth("admin"))

    run_job(client, "selection")

    assert wave_store.wave("W1").selection.value == "DONE"  # type: ignore[union-attr]
    statuses = [status_of(client, auth, account) for account in applicants]
    assert statuses.count("SELECTED") == 5


def test_every_run_of_a_pool_reads_the_checkpoints_consistently(
    client: Client,
    auth: TokenFactory,
    applicants: list[str],
    monkeypatch: pytest.MonkeyPatch,
    dynamodb_reads: ReadLog,
) -> None:
    from chalicelib.registration import selection

    monkeypatch.setattr(selection, "PAGE", 2)
    client.http.post("/v1/waves/W1/selection", headers=auth("admin"))
    run_job(client, "selection")
    assert wave_store.wave("W1").selection.value == "DONE"  # type: ignore[union-attr]
    reads = reads_of(dynamodb_reads, "SELECTION#W1")
    assert {read["Key"]["sk"]["S"] for read in reads if "Key" in read} == {"POOL#31", "POOL#32"}
    assert any("KeyConditionExpression" in read for read in reads)
    assert all(read.get("ConsistentRead") is True for read in reads)
