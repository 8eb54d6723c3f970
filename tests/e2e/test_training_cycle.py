"""A participant's way through the marketplace on the local stack, over HTTP as the acceptance
checks go: selected, 20 purchases at once against a balance that covers 3, a completion, a
rating; and a second participant who buys nothing is revoked by the sweep, the balance returned."""

from __future__ import annotations

import pytest

from bench.local_stack import local_stack
from bench.purchases import (
    BALANCE,
    buy_at_once,
    call,
    publish_courses,
    run_job,
    selected_participants,
    set_clock,
    token,
)

pytestmark = [pytest.mark.slow, pytest.mark.server]


def test_concurrent_purchases_completion_rating_and_the_revocation_sweep() -> None:
    with local_stack() as stack:
        buyer, idle = selected_participants(stack, 2)
        courses = publish_courses(stack, 20, 300_000)

        outcome = buy_at_once(stack, buyer, courses)
        assert outcome.answers == {"201": 3, "409 INSUFFICIENT_BALANCE": 17}
        assert (outcome.balance, outcome.purchases) == (BALANCE - 3 * 300_000, 3)

        record = call(stack, "GET", "/v1/participants/me", buyer).json()
        first = record["purchases"][0]
        set_clock(stack, "2021-06-20T10:00:00+07:00")
        platform = token(stack, "platform", "bench-platform", platform_id="BENCH_PLATFORM")
        completion = {"purchase_id": first["purchase_id"], "completed_at": "2021-06-19T10:00:00+07:00",
                      "certificate_no": "SERT-001"}  # fmt: skip
        assert call(stack, "POST", "/v1/platform/completions", platform, json=completion).status_code == 200
        assert call(stack, "GET", "/v1/participants/me", buyer).json()["status"] == "INCENTIVE"
        rating = call(stack, "POST", f"/v1/courses/{first['course_id']}/ratings", buyer, json={"stars": 5})
        assert rating.status_code == 201

        set_clock(stack, "2021-07-06T01:00:00+07:00")
        assert run_job(stack, "revocation")["deadlines"]["acted"] == 1
        revoked = call(stack, "GET", "/v1/participants/me", idle).json()
        assert (revoked["status"], revoked["balance"]) == ("REVOKED", 0)
        figures = call(stack, "GET", "/v1/stats/provinces/31").json()
        assert figures["training_spent"] == 900_000
        assert (figures["revoked"], figures["returned_balance"], figures["freed_places"]) == (1, BALANCE, 1)
        set_clock(stack, None)
