"""The training marketplace through the app, against in-process moto: catalogue, purchases,
completions, ratings, revocation (admin and sweep) and balance expiry."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any, cast

import pytest
from chalice.test import Client

from chalicelib.core import clock
from chalicelib.registration import service
from chalicelib.registration.model import Participant
from chalicelib.registration.stores import ledger, participants
from tests.conftest import ReadLog, TokenFactory, body, reads_of, run_job
from tests.integration.test_registration import error_of, register
from tests.integration.test_selection import person, verify

WAVE = {
    "wave_id": "W1",
    "opens_at": "2021-06-01T00:00:00+07:00",
    "closes_at": "2021-06-04T00:00:00+07:00",
    "quota": 4,
    "province_quotas": {},
}
AFTER_SELECTION = datetime.fromisoformat("2021-06-05T10:00:00+07:00")
COURSE = {"title": "Digital Marketing Dasar", "institution": "Lembaga A", "category": "Pemasaran",
          "price": 400_000, "hours": 12}  # fmt: skip


def platform(auth: TokenFactory, platform_id: str = "TOKOPEDIA") -> dict[str, str]:
    return auth("platform", sub=f"{platform_id}-svc", platform_id=platform_id)


def publish(
    client: Client, auth: TokenFactory, course_id: str, platform_id: str = "TOKOPEDIA", **changes: Any
) -> Any:
    return client.http.put(
        f"/v1/platform/courses/{course_id}", headers=platform(auth, platform_id), body=body(COURSE | changes)
    )


def buy(
    client: Client,
    auth: TokenFactory,
    account: str,
    course_id: str,
    key: str | None = None,
    price: int = 400_000,
) -> Any:
    """Buy at the price the participant was shown (`COURSE`'s, unless a test says otherwise)."""
    headers = auth("participant", sub=account) | ({"Idempotency-Key": key} if key else {})
    return client.http.post(
        "/v1/purchases", headers=headers, body=body({"course_id": course_id, "price": price})
    )


def complete(client: Client, auth: TokenFactory, purchase_id: str, at: str = "2021-06-10T10:00:00+07:00",
             certificate: str = "CERT-1", platform_id: str = "TOKOPEDIA") -> Any:  # fmt: skip
    return client.http.post(
        "/v1/platform/completions",
        headers=platform(auth, platform_id),
        body=body({"purchase_id": purchase_id, "completed_at": at, "certificate_no": certificate}),
    )


def rate(client: Client, auth: TokenFactory, account: str, course_id: str, stars: Any = 5) -> Any:
    return client.http.post(
        f"/v1/courses/{course_id}/ratings",
        headers=auth("participant", sub=account),
        body=body({"stars": stars, "review": "Bermanfaat"}),
    )


def sweep(client: Client) -> list[dict[str, Any]]:
    """The revocation job, run again while it hands work on (as the hourly schedule would)."""
    summaries = [run_job(client, "revocation")]
    while summaries[-1]["more"]:
        summaries.append(run_job(client, "revocation"))
    return summaries


def me(client: Client, auth: TokenFactory, account: str) -> dict[str, Any]:
    return client.http.get("/v1/participants/me", headers=auth("participant", sub=account)).json_body  # type: ignore[no-any-return]


def select(client: Client, auth: TokenFactory, accounts: int, quota: int = 4) -> list[str]:
    """`accounts` verified applicants of wave W1 (national quota `quota`), selection run; returns the
    accounts, selected ones first."""
    clock.set_now(datetime.fromisoformat("2021-05-30T10:00:00+07:00"))
    wave = WAVE | {"quota": quota}
    assert client.http.post("/v1/waves", headers=auth("admin"), body=body(wave)).status_code == 201
    names = []
    for index in range(accounts):
        account = f"acc-{index}"
        assert register(client, auth, person(index, "31"), account).status_code == 201
        verify(account)
        names.append(account)
    clock.set_now(datetime.fromisoformat("2021-06-02T10:00:00+07:00"))
    for account in names:
        assert (
            client.http.post(
                "/v1/waves/W1/applications", headers=auth("participant", sub=account)
            ).status_code
            == 201
        )
    clock.set_now(AFTER_SELECTION)
    client.http.post("/v1/waves/W1/selection", headers=auth("admin"))
    run_job(client, "selection")
    return sorted(names, key=lambda account: me(client, auth, account)["status"] != "SELECTED")


@pytest.fixture
def market(client: Client, auth: TokenFactory) -> Iterator[list[str]]:
    """Two selected participants and one not selected, and three courses of 400,000."""
    accounts = select(client, auth, 3, quota=2)
    for course_id in ("C1", "C2", "C3"):
        assert publish(client, auth, course_id).status_code == 201
    yield accounts
    clock.set_now(None)


# --- catalogue ----------------------------------------------------------------------------------


def test_platforms_publish_their_own_courses_and_the_catalogue_lists_them(
    client: Client, auth: TokenFactory
) -> None:
    assert (
        publish(client, auth, "TP-1", title="Belajar Excel untuk Kantor", category="office").status_code
        == 201
    )
    assert publish(client, auth, "TP-2", title="Menjahit Busana", category="Kriya").status_code == 201
    assert (
        publish(client, auth, "RG-1", "RUANGGURU", title="Excel Lanjutan", category="OFFICE").status_code
        == 201
    )

    updated = publish(
        client, auth, "TP-1", title="Belajar Excel untuk Kantor", category="office", price=350_000
    )
    assert (updated.status_code, updated.json_body["price"]) == (200, 350_000)
    taken = publish(client, auth, "TP-1", "RUANGGURU")
    assert error_of(taken) == (403, "COURSE_OF_ANOTHER_PLATFORM")

    def ids(query: str) -> list[str]:
        return [course["course_id"] for course in client.http.get(f"/v1/courses{query}").json_body["courses"]]

    assert ids("") == ["RG-1", "TP-1", "TP-2"]
    assert ids("?platform=TOKOPEDIA") == ids("?platform=tokopedia") == ["TP-1", "TP-2"]
    assert ids("?category=office") == ["RG-1", "TP-1"]
    assert ids("?q=excel%20KANTOR") == ["TP-1"]
    publish(client, auth, "TP-2", title="Menjahit Busana", category="Kriya", active=False)
    assert ids("") == ["RG-1", "TP-1"]


def test_the_catalogue_pages_with_an_opaque_cursor(client: Client, auth: TokenFactory) -> None:
    for index in range(5):
        publish(client, auth, f"C{index}")
    first = client.http.get("/v1/courses?limit=2").json_body
    second = client.http.get(f"/v1/courses?limit=2&cursor={first['next']}").json_body
    third = client.http.get(f"/v1/courses?limit=2&cursor={second['next']}").json_body
    pages = [[course["course_id"] for course in page["courses"]] for page in (first, second, third)]
    assert pages == [["C0", "C1"], ["C2", "C3"], ["C4"]]
    assert third["next"] is None
    assert error_of(client.http.get("/v1/courses?cursor=not-a-cursor")) == (422, "INVALID_CURSOR")
    assert error_of(client.http.get("/v1/courses?limit=1000"))[0] == 422


def test_the_catalogue_snapshot_is_read_once_until_the_catalogue_changes(
    client: Client, auth: TokenFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.training.stores import courses as training_store

    publish(client, auth, "C1")
    rebuilt: list[int] = []
    original = training_store.all_courses

    def counted() -> Iterator[Any]:
        rebuilt.append(1)
        return original()

    monkeypatch.setattr(training_store, "all_courses", counted)
    for _ in range(3):
        client.http.get("/v1/courses")
    publish(client, auth, "C2")
    for _ in range(3):
        client.http.get("/v1/courses")
    assert len(rebuilt) <= 2


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"price": -1}, "price"),
        ({"price": 0}, "price"),
        ({"price": 1.5}, "price"),
        ({"price": "100000"}, "price"),
        ({"price": 10**12}, "price"),
        ({"hours": 0}, "hours"),
        ({"title": ""}, "title"),
    ],
)
def test_a_course_with_a_bad_price_or_field_is_refused(
    client: Client, auth: TokenFactory, changes: dict[str, Any], field: str
) -> None:
    response = publish(client, auth, "C1", **changes)
    assert error_of(response) == (422, "VALIDATION_FAILED")
    assert field in response.json_body["error"]["fields"]


def test_only_platforms_publish_courses(client: Client, auth: TokenFactory) -> None:
    response = client.http.put("/v1/platform/courses/C1", headers=auth("participant"), body=body(COURSE))
    assert response.status_code == 403
    response = client.http.put("/v1/platform/courses/C1", body=body(COURSE))
    assert response.status_code == 401


# --- purchases ----------------------------------------------------------------------------------


def test_a_selected_participant_buys_a_course_against_the_balance(
    client: Client, auth: TokenFactory, market: list[str]
) -> None:
    bought = buy(client, auth, market[0], "C1")
    assert bought.status_code == 201, bought.json_body
    assert bought.json_body["balance"] == 600_000
    assert bought.json_body["redemption_code"].startswith("PRK-")
    record = me(client, auth, market[0])
    assert (record["status"], record["balance"]) == ("TRAINING", 600_000)
    assert [purchase["course_id"] for purchase in record["purchases"]] == ["C1"]
    assert error_of(buy(client, auth, market[0], "C1")) == (409, "ALREADY_PURCHASED")
    assert buy(client, auth, market[0], "C2").json_body["balance"] == 200_000
    assert error_of(buy(client, auth, market[0], "C3")) == (409, "INSUFFICIENT_BALANCE")
    assert me(client, auth, market[0])["balance"] == 200_000
    stats = client.http.get("/v1/stats/provinces/31").json_body
    assert (stats["training_purchased"], stats["training_spent"]) == (2, 800_000)


def test_a_purchase_retried_with_its_key_is_charged_once(
    client: Client, auth: TokenFactory, market: list[str]
) -> None:
    first = buy(client, auth, market[0], "C1", key="k-1")
    again = buy(client, auth, market[0], "C1", key="k-1")
    assert again.json_body == first.json_body
    assert me(client, auth, market[0])["balance"] == 600_000


def test_purchases_are_refused_with_the_contract_codes(
    client: Client, auth: TokenFactory, market: list[str]
) -> None:
    assert error_of(buy(client, auth, market[2], "C1")) == (409, "NOT_SELECTED")
    assert error_of(buy(client, auth, market[0], "NOPE")) == (404, "COURSE_NOT_FOUND")
    publish(client, auth, "C3", active=False)
    assert error_of(buy(client, auth, market[0], "C3")) == (409, "COURSE_INACTIVE")
    participant_id = service.participant_id_for(market[1])
    client.http.post(
        f"/v1/participants/{participant_id}/revocation",
        headers=auth("admin"),
        body=body({"reason": "FRAUD", "note": "data palsu"}),
    )
    assert error_of(buy(client, auth, market[1], "C1")) == (409, "REVOKED")
    bad = client.http.post(
        "/v1/purchases", headers=auth("participant", sub=market[0]), body=body({"course": "C1"})
    )
    assert bad.status_code == 422


# --- completions and ratings --------------------------------------------------------------------


def test_the_first_completion_starts_the_incentive_stage_and_a_rating_follows(
    client: Client, auth: TokenFactory, market: list[str]
) -> None:
    purchase_id = buy(client, auth, market[0], "C1").json_body["purchase_id"]
    assert error_of(rate(client, auth, market[0], "C1")) == (409, "NOT_COMPLETED")
    clock.set_now(datetime.fromisoformat("2021-06-12T10:00:00+07:00"))
    done = complete(client, auth, purchase_id)
    assert (done.status_code, done.json_body["status"]) == (200, "COMPLETED")
    assert complete(client, auth, purchase_id).status_code == 200
    assert error_of(complete(client, auth, purchase_id, certificate="OTHER")) == (409, "ALREADY_COMPLETED")
    assert me(client, auth, market[0])["status"] == "INCENTIVE"
    participant_id = service.participant_id_for(market[0])
    assert "COURSE_COMPLETED" in [event.action for event in ledger.events(participant_id)]

    from chalicelib.training import service as training

    assert not training.rated_completion(participant_id)
    rated = rate(client, auth, market[0], "C1", stars=4)
    assert (rated.status_code, rated.json_body["rating"]) == (201, {"average": 4.0, "count": 1})
    assert training.rated_completion(participant_id)
    assert error_of(rate(client, auth, market[0], "C1")) == (409, "ALREADY_RATED")
    assert client.http.get("/v1/courses/C1").json_body["rating"] == {"average": 4.0, "count": 1}
    stats = client.http.get("/v1/stats/provinces/31").json_body
    assert stats["training_completed"] == 1


@pytest.mark.parametrize("stars", [0, 6, 4.5, "5", None])
def test_a_rating_outside_one_to_five_is_refused(client: Client, auth: TokenFactory, stars: Any) -> None:
    response = rate(client, auth, "anyone", "C1", stars=stars)
    assert error_of(response) == (422, "VALIDATION_FAILED")


def test_completions_are_refused_with_the_contract_codes(
    client: Client, auth: TokenFactory, market: list[str]
) -> None:
    purchase_id = buy(client, auth, market[0], "C1").json_body["purchase_id"]
    clock.set_now(datetime.fromisoformat("2021-06-12T10:00:00+07:00"))
    other = complete(client, auth, purchase_id, platform_id="RUANGGURU")
    assert error_of(other) == (403, "PURCHASE_OF_ANOTHER_PLATFORM")
    early = complete(client, auth, purchase_id, at="2021-06-01T10:00:00+07:00")
    assert error_of(early) == (422, "COMPLETED_BEFORE_PURCHASE")
    future = complete(client, auth, purchase_id, at="2030-01-01T10:00:00+07:00")
    assert error_of(future) == (422, "COMPLETED_IN_FUTURE")
    assert error_of(complete(client, auth, "0" * 32)) == (404, "PURCHASE_NOT_FOUND")
    assert me(client, auth, market[0])["status"] == "TRAINING"


# --- revocation and expiry ----------------------------------------------------------------------


def test_the_sweep_revokes_who_did_not_buy_by_the_deadline(
    client: Client, auth: TokenFactory, market: list[str]
) -> None:
    buy(client, auth, market[0], "C1")
    clock.set_now(datetime.fromisoformat("2021-07-05T23:00:00+07:00"))
    assert sum(summary["deadlines"]["acted"] for summary in sweep(client)) == 0
    clock.set_now(datetime.fromisoformat("2021-07-06T00:30:00+07:00"))
    deadlines = [summary["deadlines"] for summary in sweep(client)]
    assert (sum(run["read"] for run in deadlines), sum(run["acted"] for run in deadlines)) == (1, 1)
    assert me(client, auth, market[0])["status"] == "TRAINING"
    revoked = me(client, auth, market[1])
    assert (revoked["status"], revoked["balance"]) == ("REVOKED", 0)
    assert sum(summary["deadlines"]["read"] for summary in sweep(client)) == 0

    participant_id = service.participant_id_for(market[1])
    record = client.http.get(f"/v1/participants/{participant_id}", headers=auth("admin")).json_body
    assert record["exclusions"] == {"REVOKED": "REVOCATION"}
    assert record["audit_trail"][-1]["reason"] == "NO_PURCHASE_BY_DEADLINE"
    stats = client.http.get("/v1/stats/provinces/31").json_body
    assert (stats["revoked"], stats["freed_places"], stats["returned_balance"]) == (1, 1, 1_000_000)
    assert stats["unspent_balance"] == 1_000_000
    from chalicelib.core import counters

    per_wave, _ = counters.totals(counters.wave_scope("W1", "31"), ("revoked", "returned_balance"))
    assert (per_wave["revoked"], per_wave["returned_balance"]) == (1, 1_000_000)


def test_an_admin_revokes_with_a_reason_once(client: Client, auth: TokenFactory, market: list[str]) -> None:
    buy(client, auth, market[0], "C1")
    participant_id = service.participant_id_for(market[0])
    path = f"/v1/participants/{participant_id}/revocation"
    revoked = client.http.post(
        path, headers=auth("admin"), body=body({"reason": "CIVIL_SERVANT", "note": "terbukti ASN"})
    )
    assert (revoked.status_code, revoked.json_body["status"]) == (200, "REVOKED")
    assert revoked.json_body["revocation_reason"] == "CIVIL_SERVANT"
    again = client.http.post(
        path, headers=auth("admin"), body=body({"reason": "CIVIL_SERVANT", "note": "terbukti ASN"})
    )
    assert error_of(again) == (409, "ALREADY_REVOKED")
    assert (
        client.http.post(
            path, headers=auth("office", province="31"), body=body({"reason": "x" * 5})
        ).status_code
        == 403
    )
    stats = client.http.get("/v1/stats/provinces/31").json_body
    assert (stats["revoked"], stats["freed_places"], stats["returned_balance"]) == (1, 0, 600_000)


def test_balance_left_after_the_usage_period_returns_to_the_programme(
    client: Client, auth: TokenFactory, market: list[str]
) -> None:
    buy(client, auth, market[0], "C1")
    expires = me(client, auth, market[0])["balance_expires_at"]
    assert expires == "2021-12-02T23:59:59+07:00"
    clock.set_now(datetime.fromisoformat("2021-12-03T01:00:00+07:00"))
    summaries = sweep(client)
    acted = [
        (summary["deadlines"]["acted"], summary.get("expiry", {}).get("acted", 0)) for summary in summaries
    ]
    assert tuple(map(sum, zip(*acted, strict=True))) == (1, 1)
    assert me(client, auth, market[0])["balance"] == 0
    assert error_of(buy(client, auth, market[0], "C2")) == (409, "BALANCE_EXPIRED")
    stats = client.http.get("/v1/stats/provinces/31").json_body
    assert (stats["expired_balance"], stats["returned_balance"]) == (600_000, 1_000_000)
    assert stats["unspent_balance"] == 1_600_000


def test_a_first_purchase_after_the_deadline_is_refused_before_the_sweep_comes(
    client: Client, auth: TokenFactory, market: list[str]
) -> None:
    assert me(client, auth, market[1])["purchase_deadline"] == "2021-07-05T23:59:59+07:00"
    clock.set_now(datetime.fromisoformat("2021-07-06T00:20:00+07:00"))
    assert error_of(buy(client, auth, market[1], "C1")) == (409, "PURCHASE_DEADLINE_PASSED")
    summaries = sweep(client)
    assert me(client, auth, market[1])["status"] == "REVOKED", summaries


def refused_when_written_at(participant: Participant, course_id: str, landed: datetime) -> bool:
    """Whether the purchase transaction's own condition refuses a purchase of `course_id` that the
    service checked in time on `participant` as read, but that lands at `landed`: the service's
    check and the write are not one moment."""
    from chalicelib.registration.model import Event
    from chalicelib.training import purchases as training
    from chalicelib.training.model import Purchase

    late = Purchase(
        purchase_id="P-LATE",
        participant_id=participant.participant_id,
        course_id=course_id,
        platform_id="TOKOPEDIA",
        price=400_000,
        redemption_code="PRK-LATE",
        purchased_at=landed,
    )
    event = Event(at=landed, actor="late", action="COURSE_PURCHASED", status_from=participant.status.value,
                  status_to="TRAINING")  # fmt: skip
    try:
        training.record_purchase(participant, late, event)
    except training.PurchaseRefused:
        return True
    return False


def second_read_fails(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> None:
    """`module.name`'s second call times out: the read that builds a request's answer, after its
    write committed."""
    read = getattr(module, name)
    reads = {"count": 0}

    def fails_after_the_write(key: str) -> Participant:
        reads["count"] += 1
        if reads["count"] == 2:
            raise ConnectionError("the answer's read timed out")
        return cast(Participant, read(key))

    monkeypatch.setattr(module, name, fails_after_the_write)


def test_the_database_refuses_a_first_purchase_that_lands_after_the_deadline(
    client: Client, auth: TokenFactory, market: list[str]
) -> None:
    read_in_time = participants.participant(service.participant_id_for(market[1]))
    assert read_in_time is not None and read_in_time.purchase_deadline is not None
    assert refused_when_written_at(read_in_time, "C1", read_in_time.purchase_deadline + timedelta(seconds=1))
    assert me(client, auth, market[1])["balance"] == 1_000_000


def test_the_database_refuses_a_later_purchase_that_lands_after_the_balance_expired(
    client: Client, auth: TokenFactory, market: list[str]
) -> None:
    assert buy(client, auth, market[1], "C1").status_code == 201
    read_in_time = participants.participant(service.participant_id_for(market[1]))
    assert read_in_time is not None and read_in_time.balance_expires_at is not None
    assert refused_when_written_at(read_in_time, "C2", read_in_time.balance_expires_at + timedelta(seconds=1))
    assert me(client, auth, market[1])["balance"] == 600_000


def test_a_revocation_whose_answer_was_lost_after_its_write_is_answered_on_the_retry(
    client: Client, auth: TokenFactory, market: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.registration import service as registration

    participant_id = service.participant_id_for(market[0])
    path = f"/v1/participants/{participant_id}/revocation"
    second_read_fails(monkeypatch, registration, "participant")
    headers = auth("admin") | {"Idempotency-Key": "revoke-1"}
    reason = body({"reason": "CIVIL_SERVANT", "note": "terbukti ASN"})
    assert client.http.post(path, headers=headers, body=reason).status_code == 500
    retried = client.http.post(path, headers=headers, body=reason)
    assert (retried.status_code, retried.json_body["status"]) == (200, "REVOKED")
    another = auth("admin", sub="admin-2") | {"Idempotency-Key": "revoke-2"}
    assert error_of(client.http.post(path, headers=another, body=reason)) == (409, "ALREADY_REVOKED")


def test_revocation_reads_the_participant_consistently(
    client: Client, auth: TokenFactory, market: list[str], dynamodb_reads: ReadLog
) -> None:
    """Its answer is built from the record it just wrote, and replayed to retries for a day."""
    participant_id = service.participant_id_for(market[0])
    path = f"/v1/participants/{participant_id}/revocation"
    response = client.http.post(
        path, headers=auth("admin"), body=body({"reason": "FRAUD", "note": "data palsu"})
    )
    assert response.status_code == 200, response.json_body
    gets = [read for read in reads_of(dynamodb_reads, f"P#{participant_id}") if "Key" in read]
    assert gets and all(read.get("ConsistentRead") for read in gets)


def test_the_audit_trail_states_money_as_integer_rupiah(
    client: Client, auth: TokenFactory, market: list[str]
) -> None:
    assert buy(client, auth, market[0], "C1").status_code == 201
    path = f"/v1/participants/{service.participant_id_for(market[0])}"
    trail = client.http.get(path, headers=auth("admin")).json_body["audit_trail"]
    [purchased] = [entry for entry in trail if entry["action"] == "COURSE_PURCHASED"]
    assert purchased["details"]["price"] == 400_000


def test_two_first_purchases_at_once_move_the_participant_to_training_once(
    client: Client, auth: TokenFactory, market: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both read SELECTED; the second to write is refused and retried as a later purchase."""
    from chalicelib.registration import service as registration

    participant_id = service.participant_id_for(market[0])
    as_both_read = participants.participant(participant_id)
    assert as_both_read is not None
    own_record = registration.own_record
    stale: list[Participant] = []

    def read(account: str) -> Participant:
        return stale.pop() if stale else own_record(account)

    monkeypatch.setattr(registration, "own_record", read)
    assert buy(client, auth, market[0], "C1").status_code == 201
    stale.append(as_both_read)
    assert buy(client, auth, market[0], "C2").status_code == 201
    moves = sorted(
        (event.status_from, event.status_to)
        for event in ledger.events(participant_id)
        if event.action == "COURSE_PURCHASED"
    )
    assert moves == [("SELECTED", "TRAINING"), ("TRAINING", "TRAINING")]
    assert me(client, auth, market[0])["balance"] == 200_000


def test_a_purchase_whose_answer_was_lost_after_its_write_is_answered_on_the_retry(
    client: Client, auth: TokenFactory, market: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The write committed, then the read for the answer failed: the client got a 500 telling it to
    try again, and its retry with the same key gets the purchase, not ALREADY_PURCHASED."""
    from chalicelib.registration import service as registration

    second_read_fails(monkeypatch, registration, "own_record")
    assert buy(client, auth, market[0], "C1", key="k-1").status_code == 500
    retried = buy(client, auth, market[0], "C1", key="k-1")
    assert retried.status_code == 201, retried.json_body
    assert retried.json_body["balance"] == 600_000
    assert [purchase["purchase_id"] for purchase in me(client, auth, market[0])["purchases"]] == [
        retried.json_body["purchase_id"]
    ]


def test_an_idempotency_key_reused_for_another_participant_is_refused(
    client: Client, auth: TokenFactory, market: list[str]
) -> None:
    first, second = (service.participant_id_for(account) for account in market[:2])
    headers = auth("admin") | {"Idempotency-Key": "revoke-batch-7"}
    reason = body({"reason": "CIVIL_SERVANT", "note": "terbukti ASN"})
    assert (
        client.http.post(f"/v1/participants/{first}/revocation", headers=headers, body=reason).status_code
        == 200
    )
    reused = client.http.post(f"/v1/participants/{second}/revocation", headers=headers, body=reason)
    assert error_of(reused) == (409, "IDEMPOTENCY_KEY_REUSED")
    assert me(client, auth, market[1])["status"] == "SELECTED"


def test_a_sweep_holding_a_stale_copy_does_not_expire_a_balance_twice(
    client: Client, auth: TokenFactory, market: list[str]
) -> None:
    from chalicelib.training import revocation as training

    buy(client, auth, market[0], "C1")
    participant_id = service.participant_id_for(market[0])
    clock.set_now(datetime.fromisoformat("2021-12-03T01:00:00+07:00"))
    stale = participants.participant(participant_id)
    assert stale is not None
    assert training._expire_if_due(stale)
    assert not training._expire_if_due(stale)
    assert [event.action for event in ledger.events(participant_id)].count("BALANCE_EXPIRED") == 1
    stats = client.http.get("/v1/stats/provinces/31").json_body
    assert stats["expired_balance"] == 600_000


def test_the_sweep_finds_deadlines_filed_under_rules_since_changed(
    client: Client, auth: TokenFactory, market: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Selected with a 30-day window; the programme then shortens it to 14 days for later waves."""
    from chalicelib.core.settings import programme
    from chalicelib.registration import selection
    from chalicelib.training import courses as training

    shorter = programme().model_copy(update={"purchase_deadline_days": 14})
    for module in (selection, training):
        monkeypatch.setattr(module, "programme", lambda: shorter)
    clock.set_now(datetime.fromisoformat("2021-06-20T00:30:00+07:00"))
    sweep(client)
    assert me(client, auth, market[1])["status"] == "SELECTED"
    clock.set_now(datetime.fromisoformat("2021-07-06T00:30:00+07:00"))
    summaries = sweep(client)
    assert me(client, auth, market[1])["status"] == "REVOKED", summaries


def test_each_sweep_run_reads_where_the_last_one_stopped_consistently(
    client: Client, auth: TokenFactory, market: list[str], dynamodb_reads: ReadLog
) -> None:
    """An hourly run that read the checkpoint as it was before the last run's save would redo it."""
    clock.set_now(datetime.fromisoformat("2021-07-06T00:30:00+07:00"))
    sweep(client)
    reads = [*reads_of(dynamodb_reads, "SWEEP#DEADLINE"), *reads_of(dynamodb_reads, "SWEEP#EXPIRY")]
    assert len(reads) >= 2
    assert all(read.get("ConsistentRead") is True for read in reads)


def test_an_admins_reason_stays_out_of_the_logs(
    client: Client, auth: TokenFactory, market: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The note is free text: an admin may well write who and why, and the audit trail keeps it."""
    import io
    import logging

    from chalicelib.core.observability import logger

    written = io.StringIO()
    monkeypatch.setattr(logger.registered_handler, "stream", written)
    assert logger.log_level <= logging.INFO
    participant_id = service.participant_id_for(market[0])
    note = "Siti Rahayu, NIK 3171 2345 0190 0001, HP 0812-3456-7890"
    revoked = client.http.post(
        f"/v1/participants/{participant_id}/revocation",
        headers=auth("admin"),
        body=body({"reason": "FRAUD", "note": note}),
    )
    assert revoked.status_code == 200
    assert '"message":"revoked"' in written.getvalue()
    assert "Siti" not in written.getvalue()
    assert "3456-7890" not in written.getvalue()
