"""A priority cohort tagged after someone applied still gives them priority in that wave's selection,
as long as the selection has not started."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from chalice.test import Client

from chalicelib.core import clock
from chalicelib.registration import service
from chalicelib.registration.stores import ledger
from chalicelib.registration.stores import waves as wave_store
from tests.conftest import TokenFactory, body, run_job
from tests.integration.test_import_processing import report, upload_as
from tests.integration.test_registration import register
from tests.integration.test_selection import person, verify

WAVE = {
    "wave_id": "W1",
    "opens_at": "2021-06-01T00:00:00+07:00",
    "closes_at": "2021-06-04T00:00:00+07:00",
    "quota": 1,
}
PEOPLE = 5


@pytest.fixture
def last_in_order(client: Client, auth: TokenFactory) -> Iterator[dict[str, str]]:
    """Five verified applicants of a one-place wave; the one its random order puts last."""
    assert client.http.post("/v1/waves", headers=auth("admin"), body=body(WAVE)).status_code == 201
    people = [person(index, "31") for index in range(PEOPLE)]
    for index, someone in enumerate(people):
        assert register(client, auth, someone, f"acc-{index}").status_code == 201
        verify(f"acc-{index}")
    clock.set_now(datetime.fromisoformat("2021-06-02T10:00:00+07:00"))
    for index in range(PEOPLE):
        answer = client.http.post(
            "/v1/waves/W1/applications", headers=auth("participant", sub=f"acc-{index}")
        )
        assert answer.status_code == 201, answer.json_body
    wave = wave_store.wave("W1")
    assert wave is not None
    ranks = {
        service.rank_in(wave, service.participant_id_for(f"acc-{index}")): index for index in range(PEOPLE)
    }
    last = ranks[max(ranks)]
    yield {"account": f"acc-{last}", "nik": people[last]["nik"]}
    clock.set_now(None)


def tag(client: Client, auth: TokenFactory, nik: str) -> None:
    import_id = upload_as(
        client, auth, "cohort", f"nik;cohort\r\n{nik};PURNA_PMI\r\n".encode(), auth("office", province="31")
    )
    assert [row["outcome"] for row in report(import_id)] == ["IMPORTED"]


def select(client: Client, auth: TokenFactory) -> None:
    clock.set_now(datetime.fromisoformat("2021-06-05T10:00:00+07:00"))
    assert client.http.post("/v1/waves/W1/selection", headers=auth("admin")).status_code == 202
    run_job(client, "selection")


def status_of(client: Client, auth: TokenFactory, account: str) -> tuple[str, list[str]]:
    me = client.http.get("/v1/participants/me", headers=auth("participant", sub=account)).json_body
    return str(me["status"]), list(me["cohorts"])


def test_a_priority_cohort_tagged_after_applying_is_selected_first(
    client: Client, auth: TokenFactory, last_in_order: dict[str, str]
) -> None:
    tag(client, auth, last_in_order["nik"])
    select(client, auth)
    assert status_of(client, auth, last_in_order["account"]) == ("SELECTED", ["PURNA_PMI"])


def test_a_cohort_tagged_once_selection_was_asked_for_leaves_the_application_in_place(
    client: Client, auth: TokenFactory, last_in_order: dict[str, str]
) -> None:
    clock.set_now(datetime.fromisoformat("2021-06-05T10:00:00+07:00"))
    assert client.http.post("/v1/waves/W1/selection", headers=auth("admin")).status_code == 202
    tag(client, auth, last_in_order["nik"])
    run_job(client, "selection")
    assert status_of(client, auth, last_in_order["account"]) == ("NOT_SELECTED", ["PURNA_PMI"])


def test_tagging_the_same_priority_cohort_again_changes_nothing(
    client: Client, auth: TokenFactory, last_in_order: dict[str, str]
) -> None:
    tag(client, auth, last_in_order["nik"])
    tag(client, auth, last_in_order["nik"])
    participant_id = service.participant_id_for(last_in_order["account"])
    tagged = [event for event in ledger.events(participant_id) if event.action == "COHORT_TAGGED"]
    assert len(tagged) == 1
    select(client, auth)
    assert status_of(client, auth, last_in_order["account"]) == ("SELECTED", ["PURNA_PMI"])
