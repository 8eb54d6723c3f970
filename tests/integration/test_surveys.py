"""Employment surveys through the app: scheduled once from a first completion, sent once when due
with the version of the day, answered once by the person they were sent to, rewarded through the
payment records, counted in the outcome figures, expired when not answered in time."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import boto3
import pytest
from chalice.test import Client

from chalicelib.core import clock
from chalicelib.core.settings import settings
from chalicelib.core.storage import UnitOfWork
from chalicelib.surveys import definitions
from devstack.partners import FakePartners
from tests.conftest import TokenFactory, body, run_job
from tests.integration.conftest import Callbacks
from tests.integration.test_incentives import link, settled
from tests.integration.test_training import buy, complete, me, publish, select

BOUGHT_AT = datetime.fromisoformat("2021-06-05T09:00:00+07:00")
COMPLETED_AT = datetime.fromisoformat("2021-06-10T12:00:00+07:00")
FIRST_DUE = date(2021, 7, 10)  # 30 days after the completion (chalicelib/programme.json)
GOOD = {
    "employment_status": "EMPLOYED",
    "income_band": "1-3M",
    "training_helped": True,
    "comment": "Terima kasih",
}


@pytest.fixture
def trained(client: Client, auth: TokenFactory) -> list[str]:
    """Three selected participants, each of whom completed course C1 on 10 June."""
    accounts = select(client, auth, 3, quota=3)
    assert publish(client, auth, "C1").status_code == 201
    for index, account in enumerate(accounts):
        clock.set_now(BOUGHT_AT)
        bought = buy(client, auth, account, "C1")
        assert bought.status_code == 201, bought.json_body
        clock.set_now(COMPLETED_AT)
        done = complete(
            client,
            auth,
            bought.json_body["purchase_id"],
            COMPLETED_AT.isoformat(),
            certificate=f"CERT-{index}",
        )
        assert done.status_code == 200, done.json_body
    return accounts


def surveys_of(client: Client, auth: TokenFactory, account: str) -> list[dict[str, Any]]:
    return list(me(client, auth, account)["surveys"])


def answer(client: Client, auth: TokenFactory, account: str, survey_id: str, answers: Any = None) -> Any:
    return client.http.post(
        f"/v1/surveys/{survey_id}/responses",
        headers=auth("participant", sub=account),
        body=body({"answers": GOOD if answers is None else answers}),
    )


def sent(client: Client, auth: TokenFactory, trained: list[str]) -> str:
    """Schedule everyone's surveys, then send the first round on its due day; the first person's
    first survey id."""
    run_job(client, "surveys")
    clock.set_now(datetime.combine(FIRST_DUE, datetime.min.time(), COMPLETED_AT.tzinfo) + timedelta(hours=8))
    run_job(client, "surveys")
    return str(surveys_of(client, auth, trained[0])[0]["survey_id"])


def invitation(participant_id: str, survey_round: int) -> dict[str, Any] | None:
    item = boto3.client("dynamodb").get_item(
        TableName=settings().table_name("outbox"),
        Key={"pk": {"S": f"NOTIFY#{participant_id}"}, "sk": {"S": f"SURVEY#{survey_round}"}},
    )
    found: dict[str, Any] | None = item.get("Item")
    return found


def test_a_first_completion_schedules_three_rounds_once(
    client: Client, auth: TokenFactory, trained: list[str]
) -> None:
    summary = run_job(client, "surveys")
    assert summary["events"]["scheduled"] == 3
    expected = [(1, "DUE", "2021-07-10"), (2, "DUE", "2021-09-08"), (3, "DUE", "2021-12-07")]
    assert [
        (s["round"], s["status"], s["due_date"]) for s in surveys_of(client, auth, trained[0])
    ] == expected
    assert run_job(client, "surveys")["events"] == {"events": 0, "scheduled": 0, "ended": 0}
    # A second completion is no first one: nothing more is scheduled.
    assert publish(client, auth, "C2").status_code == 201
    clock.set_now(COMPLETED_AT)
    bought = buy(client, auth, trained[0], "C2")
    done = complete(
        client, auth, bought.json_body["purchase_id"], COMPLETED_AT.isoformat(), certificate="CERT-9"
    )
    assert done.status_code == 200, done.json_body
    assert run_job(client, "surveys")["events"]["events"] == 0
    assert len(surveys_of(client, auth, trained[0])) == 3


def test_a_due_survey_is_sent_once_with_its_invitation_and_nothing_else_is_read(
    client: Client, auth: TokenFactory, trained: list[str]
) -> None:
    run_job(client, "surveys")
    clock.set_now(datetime.fromisoformat("2021-07-09T08:00:00+07:00"))
    assert (run_job(client, "surveys")["sent"], run_job(client, "surveys")["read"]) == (0, 0)
    clock.set_now(datetime.fromisoformat("2021-07-10T08:00:00+07:00"))
    summary = run_job(client, "surveys")
    assert (summary["sent"], summary["read"]) == (3, 3)
    first = surveys_of(client, auth, trained[0])[0]
    assert (first["status"], first["deadline"]) == ("SENT", "2021-07-24")
    participant_id = me(client, auth, trained[0])["participant_id"]
    found = invitation(participant_id, 1)
    assert found is not None and found["kind"]["S"] == "SURVEY_INVITATION"
    assert (run_job(client, "surveys")["sent"], run_job(client, "surveys")["read"]) == (0, 0)


def test_the_invitation_reaches_the_participant_with_its_deadline(
    client: Client, auth: TokenFactory, trained: list[str]
) -> None:
    from chalicelib.surveys.notify import messages

    sent(client, auth, trained)
    run_job(client, "notifications")
    participant_id = me(client, auth, trained[0])["participant_id"]
    invitations = [m for m in messages.sent_to(participant_id) if m["template"] == "SURVEY_INVITATION"]
    assert sorted(m["channel"] for m in invitations) == ["EMAIL", "SMS"]
    assert all("24 Juli 2021" in m["text"] for m in invitations)


def test_a_dispatch_killed_midway_sends_each_survey_exactly_once(
    client: Client, auth: TokenFactory, trained: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run_job(client, "surveys")
    clock.set_now(datetime.fromisoformat("2021-07-10T08:00:00+07:00"))
    commit, commits = UnitOfWork.commit, []

    def dies_on_the_second(self: UnitOfWork) -> None:
        commits.append(1)
        if len(commits) == 2:
            raise KeyboardInterrupt("killed between two surveys")
        commit(self)

    monkeypatch.setattr(UnitOfWork, "commit", dies_on_the_second)
    with pytest.raises(KeyboardInterrupt):
        run_job(client, "surveys")
    monkeypatch.setattr(UnitOfWork, "commit", commit)
    assert run_job(client, "surveys")["sent"] == 2
    for account in trained:
        assert surveys_of(client, auth, account)[0]["status"] == "SENT"
        assert invitation(me(client, auth, account)["participant_id"], 1) is not None
    assert run_job(client, "surveys")["sent"] == 0


def test_an_answer_is_kept_once_and_its_reward_paid_once(
    client: Client, auth: TokenFactory, trained: list[str], fake: FakePartners, callbacks: Callbacks
) -> None:
    survey_id = sent(client, auth, trained)
    shown = client.http.get(f"/v1/surveys/{survey_id}", headers=auth("participant", sub=trained[0]))
    assert shown.status_code == 200
    assert [q["id"] for q in shown.json_body["questions"]] == [
        "employment_status",
        "income_band",
        "training_helped",
        "comment",
    ]
    answered = answer(client, auth, trained[0], survey_id)
    assert answered.status_code == 201, answered.json_body
    assert answered.json_body["status"] == "ANSWERED"
    again = answer(client, auth, trained[0], survey_id)
    assert (again.status_code, again.json_body["error"]["code"]) == (409, "ALREADY_ANSWERED")
    [reward] = me(client, auth, trained[0])["payments"]
    assert (reward["kind"], reward["amount"], reward["status"]) == ("SURVEY", 50_000, "DUE")
    # No account yet: the reward waits for one, and is paid into the account linked later.
    run_job(client, "disbursement")
    assert me(client, auth, trained[0])["payments"][0]["reason"] == "NO_ACCOUNT"
    assert link(client, auth, trained[0]).status_code == 200
    run_job(client, "disbursement")
    settled(fake, callbacks, client)
    assert [p["status"] for p in me(client, auth, trained[0])["payments"]] == ["PAID"]
    assert [(t["amount"], t["status"]) for t in fake.ledger("OVO")["transfers"]] == [(50_000, "COMPLETED")]
    stats = client.http.get("/v1/stats/provinces/31").json_body
    assert stats["survey_paid_amount"] == 50_000


def test_outcome_figures_are_counted_as_answers_arrive(
    client: Client, auth: TokenFactory, trained: list[str]
) -> None:
    sent(client, auth, trained)
    unemployed = {**GOOD, "employment_status": "UNEMPLOYED", "training_helped": False}
    for account, answers in ((trained[0], GOOD), (trained[1], unemployed)):
        survey_id = surveys_of(client, auth, account)[0]["survey_id"]
        assert answer(client, auth, account, survey_id, answers).status_code == 201
    outcomes = client.http.get("/v1/stats/provinces/31").json_body["survey_outcomes"]
    first = outcomes["rounds"]["1"]
    assert (first["answered"], first["employed"], first["unemployed"], first["training_helped"]) == (
        2,
        1,
        1,
        1,
    )
    assert (first["employed_share"], first["training_helped_share"]) == (0.5, 0.5)
    assert "2" not in outcomes["rounds"]
    wave = client.http.get("/v1/stats/provinces/31/waves/W1").json_body["survey_outcomes"]["rounds"]["1"]
    assert (wave["answered"], wave["employed"]) == (2, 1)
    assert client.http.get("/v1/stats/provinces/32/waves/W1").json_body["survey_outcomes"]["rounds"] == {}
    for unknown in ("/v1/stats/provinces/31/waves/W9", "/v1/stats/provinces/99/waves/W1"):
        assert client.http.get(unknown).status_code == 404


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        ({**GOOD, "employment_status": None}, "answers.employment_status"),
        ({k: v for k, v in GOOD.items() if k != "income_band"}, "answers.income_band"),
        ({**GOOD, "training_helped": "ya"}, "answers.training_helped"),
        ({**GOOD, "employment_status": "RETIRED"}, "answers.employment_status"),
        ({**GOOD, "comment": "x" * 1001}, "answers.comment"),
        ({**GOOD, "salary": "10M"}, "answers.salary"),
        ({**GOOD, "comment": "baik\u202esekali"}, "answers.comment"),
    ],
    ids=["missing", "absent", "wrong-type", "not-a-choice", "oversized-text", "unknown-question", "bidi"],
)
def test_answers_that_do_not_fit_the_questionnaire_are_422_naming_the_question(
    client: Client, auth: TokenFactory, trained: list[str], answers: dict[str, Any], field: str
) -> None:
    survey_id = sent(client, auth, trained)
    refused = answer(client, auth, trained[0], survey_id, answers)
    assert (refused.status_code, refused.json_body["error"]["code"]) == (422, "INVALID_ANSWERS")
    assert field in refused.json_body["error"]["fields"]
    assert surveys_of(client, auth, trained[0])[0]["status"] == "SENT"
    assert me(client, auth, trained[0])["payments"] == []


def test_another_persons_survey_reveals_nothing(
    client: Client, auth: TokenFactory, trained: list[str]
) -> None:
    survey_id = sent(client, auth, trained)
    for response in (
        answer(client, auth, trained[1], survey_id),
        client.http.get(f"/v1/surveys/{survey_id}", headers=auth("participant", sub=trained[1])),
        answer(client, auth, trained[1], "no-such-survey"),
    ):
        assert (response.status_code, response.json_body["error"]["code"]) == (404, "SURVEY_NOT_FOUND")
        assert survey_id.rpartition("-S")[0] not in response.body.decode()
    assert answer(client, auth, trained[0], survey_id).status_code == 201


def test_a_survey_not_answered_in_time_expires_unrewarded(
    client: Client, auth: TokenFactory, trained: list[str]
) -> None:
    survey_id = sent(client, auth, trained)
    clock.set_now(datetime.fromisoformat("2021-07-25T08:00:00+07:00"))
    late = answer(client, auth, trained[0], survey_id)
    assert (late.status_code, late.json_body["error"]["code"]) == (422, "SURVEY_EXPIRED")
    assert surveys_of(client, auth, trained[0])[0]["status"] == "EXPIRED"
    assert run_job(client, "surveys")["expired"] == 3
    assert run_job(client, "surveys")["expired"] == 0
    assert me(client, auth, trained[0])["payments"] == []


def test_a_survey_not_yet_sent_cannot_be_answered(
    client: Client, auth: TokenFactory, trained: list[str]
) -> None:
    run_job(client, "surveys")
    survey_id = surveys_of(client, auth, trained[0])[0]["survey_id"]
    early = answer(client, auth, trained[0], survey_id)
    assert (early.status_code, early.json_body["error"]["code"]) == (422, "SURVEY_NOT_SENT")


def test_a_survey_keeps_the_version_it_was_sent_with(
    client: Client, auth: TokenFactory, trained: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    survey_id = sent(client, auth, trained)
    current = definitions.definitions()
    second = definitions.Definition(questions=(current.versions[1].questions[0],))
    newer = definitions.Definitions(current_version=2, versions={**current.versions, 2: second})
    monkeypatch.setattr(definitions, "definitions", lambda: newer)
    shown = client.http.get(f"/v1/surveys/{survey_id}", headers=auth("participant", sub=trained[0])).json_body
    assert (shown["version"], len(shown["questions"])) == (1, 4)
    assert answer(client, auth, trained[0], survey_id).status_code == 201


def test_a_revoked_participants_surveys_end_and_cannot_be_answered(
    client: Client, auth: TokenFactory, trained: list[str]
) -> None:
    survey_id = sent(client, auth, trained)
    participant_id = me(client, auth, trained[0])["participant_id"]
    revoked = client.http.post(
        f"/v1/participants/{participant_id}/revocation", headers=auth("admin"), body=body({"reason": "FRAUD"})
    )
    assert revoked.status_code == 200, revoked.json_body
    refused = answer(client, auth, trained[0], survey_id)
    assert (refused.status_code, refused.json_body["error"]["code"]) == (409, "REVOKED")
    assert run_job(client, "surveys")["events"]["ended"] == 3
    record = client.http.get(f"/v1/participants/{participant_id}", headers=auth("admin")).json_body
    assert {s["status"] for s in record["surveys"]} == {"EXPIRED"}
    assert record["payments"] == []
