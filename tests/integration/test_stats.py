"""Province and national figures, the `stats` job's fold into the series, and the drift check,
through the app against moto."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.core import checkpoints, clock, counters, tallies
from chalicelib.core.storage import UnitOfWork
from chalicelib.reports import drift
from tests.conftest import TokenFactory, run_job
from tests.integration.test_registration import register
from tests.integration.test_selection import applicants, person, verify

__all__ = ["applicants"]

NOON = datetime.fromisoformat("2026-12-03T12:30:00+00:00")


@pytest.fixture
def registered(client: Client, auth: TokenFactory) -> Iterator[list[str]]:
    """Three people of Jakarta (31) registered at 12:30 UTC, one of Jawa Barat (32) at 13:30, all
    decided by the registry; one more of Jakarta still waiting for it."""
    accounts = []
    for index, (province, moment) in enumerate(
        [("31", NOON), ("31", NOON), ("31", NOON), ("32", NOON + timedelta(hours=1)), ("31", NOON)]
    ):
        clock.set_now(moment)
        account = f"acc-{index}"
        assert register(client, auth, person(index, province), account).status_code == 201
        if index < 4:
            verify(account)
        accounts.append(account)
    clock.set_now(NOON + timedelta(hours=2))
    yield accounts
    clock.set_now(None)


def run_to_the_end(client: Client, job: str) -> Any:
    """Invoke the job again while it reports more, as `/dev/jobs` and the next schedules do (a
    test's Lambda context gives an invocation 3 seconds); the last summary, with the shards every
    invocation folded."""
    folded = 0
    for _ in range(100):
        summary = run_job(client, job)
        folded += summary.get("folded", 0)
        if not summary.get("more"):
            return {**summary, "folded": folded} if "folded" in summary else summary
    raise AssertionError(f"{job} never finished")


def _series(client: Client, path: str, query: str = "?from=2026-12-03&to=2026-12-03") -> Any:
    return client.http.get(f"{path}{query}").json_body


def _hour(series: dict[str, Any], hour: str) -> int:
    hours = {entry["hour"]: int(entry["registered"]) for entry in series["registrations_per_hour"]}
    return hours[hour]


def test_registrations_count_before_the_fold_and_the_series_once_it_ran(
    client: Client, registered: list[str]
) -> None:
    assert client.http.get("/v1/stats/provinces/31").json_body["registered"] == 3
    assert tallies.unfolded(counters.province_scope("31"))
    before = _series(client, "/v1/stats/provinces/31/series")
    assert _hour(before, "2026-12-03T12:00:00Z") == 0

    assert run_to_the_end(client, "stats") == {"folded": 4, "left": 0, "more": False}

    assert tallies.unfolded(counters.province_scope("31")) == []
    assert client.http.get("/v1/stats/provinces/31").json_body["registered"] == 3
    jakarta = _series(client, "/v1/stats/provinces/31/series")
    assert (jakarta["scope"], len(jakarta["registrations_per_hour"])) == ("PROVINCE#31", 24)
    assert _hour(jakarta, "2026-12-03T12:00:00Z") == 3
    assert _hour(jakarta, "2026-12-03T13:00:00Z") == 0
    national = _series(client, "/v1/stats/series")
    assert (_hour(national, "2026-12-03T12:00:00Z"), _hour(national, "2026-12-03T13:00:00Z")) == (3, 1)
    assert national["payments_per_day"] == [
        {
            "day": "2026-12-03",
            "payments_paid": 0,
            "payments_paid_amount": 0,
            "payments_failed": 0,
            "payments_needs_action": 0,
        }
    ]
    # Run again: nothing left to fold, nothing counted twice.
    assert run_to_the_end(client, "stats") == {"folded": 0, "left": 0, "more": False}
    assert _hour(_series(client, "/v1/stats/series"), "2026-12-03T12:00:00Z") == 3


def test_a_shard_written_to_while_it_is_folded_is_read_again_not_lost(
    client: Client, registered: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    scope = counters.province_scope("31")
    stale = tallies.unfolded(scope)

    def read_then_someone_adds() -> None:
        unit = UnitOfWork()
        # The same shard as an item the fold read: its condition no longer holds.
        sort_key = stale[0]["sk"]["S"]
        unit.add_raw(
            "update",
            {
                "TableName": counters.table_name(),
                "Key": {"pk": {"S": counters.tally_scope(scope)}, "sk": {"S": sort_key}},
                "UpdateExpression": "ADD registered :one",
                "ExpressionAttributeValues": {":one": {"N": "1"}},
            },
        )
        unit.commit()

    read_then_someone_adds()
    monkeypatch.setattr(tallies, "unfolded", lambda _scope: stale if _scope == scope else [])

    assert run_to_the_end(client, "stats")["folded"] == len(stale)
    assert counters.items_of(counters.tally_scope(scope)) == []
    assert client.http.get("/v1/stats/provinces/31").json_body["registered"] == 4
    assert _hour(_series(client, "/v1/stats/provinces/31/series"), "2026-12-03T12:00:00Z") == 4


def test_the_national_figures_are_the_provinces_added_up(client: Client, registered: list[str]) -> None:
    listed = client.http.get("/v1/stats/provinces").json_body
    national = listed["national"]
    assert (national["province_code"], national["registered"]) == ("NATIONAL", 4)
    for name in ("registered", "applied", "training_spent", "payments_paid", "unspent_balance"):
        assert national[name] == sum(province[name] for province in listed["provinces"])


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?from=2026-12-04&to=2026-12-03", "from"),
        ("?from=2026-10-01&to=2026-12-03", "from"),
        ("?to=3-12-2026", "to"),
    ],
)
def test_a_series_range_must_be_a_bounded_one(client: Client, query: str, field: str) -> None:
    answer = client.http.get(f"/v1/stats/series{query}")
    assert answer.status_code == 422
    assert field in answer.json_body["error"]["fields"]


def test_a_series_of_an_unknown_province_is_not_found(client: Client) -> None:
    assert client.http.get("/v1/stats/provinces/99/series").status_code == 404


def test_the_drift_check_finds_nothing_then_a_skewed_figure(
    client: Client, auth: TokenFactory, applicants: list[str]
) -> None:
    """Registered, applied, selected (with purchases and payments read for the selected) recount
    to the counters; a figure skewed by hand is reported, with both numbers."""
    client.http.post("/v1/waves/W1/selection", headers=auth("admin"))
    run_job(client, "selection")
    first = run_to_the_end(client, "stats_drift")
    assert first["report"]["differences"] == {}

    unit = UnitOfWork()
    counters.add_in(unit, counters.province_scope("31"), "skew", {"applied": 2})
    counters.add_in(unit, counters.province_scope("32"), "skew", {"participants": 1}, group="COHORT#PETANI")
    unit.commit()
    # A pass ran less than a day ago: its report stands.
    assert run_job(client, "stats_drift")["report"] == first["report"]
    clock.set_now(clock.now() + drift.EVERY)
    second = run_to_the_end(client, "stats_drift")["report"]["differences"]
    assert second == {
        "31": {"applied": {"counted": 10, "recounted": 8}},
        "32": {"cohort:PETANI": {"counted": 1, "recounted": 0}},
    }


def test_a_drift_pass_stopped_between_pages_or_killed_mid_page_recounts_nothing_twice(
    client: Client, registered: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(drift, "PAGE", 1)
    pages = iter([True, True, False])
    assert drift.check(lambda: next(pages, True))["more"] is True

    saved = checkpoints.save
    calls = {"n": 0}

    def killed_once(job: str, key: str, state: dict[str, Any], version: int) -> int:
        calls["n"] += 1
        if calls["n"] == 1:
            raise KeyboardInterrupt
        return saved(job, key, state, version)

    monkeypatch.setattr(checkpoints, "save", killed_once)
    with pytest.raises(KeyboardInterrupt):
        drift.check(lambda: True)
    assert drift.check(lambda: True)["report"]["differences"] == {}
