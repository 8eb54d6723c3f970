"""The selection result reaches a participant by e-mail and SMS on the local stack, over HTTP as
the acceptance checks go: `/dev/jobs/notifications` sends it through the local endpoint's SES and
SNS, `/dev/messages` lists it once, and running the job again sends nothing more."""

from __future__ import annotations

import pytest

from bench.local_stack import local_stack
from bench.purchases import call, run_job, selected_participants, set_clock

pytestmark = [pytest.mark.slow, pytest.mark.server]


def test_the_selection_result_is_sent_once_and_listed_newest_first() -> None:
    with local_stack() as stack:
        [participant] = selected_participants(stack, 1)
        participant_id = call(stack, "GET", "/v1/participants/me", participant).json()["participant_id"]

        assert run_job(stack, "notifications")["sent"] == 2
        assert run_job(stack, "notifications").get("sent", 0) == 0

        listed = call(stack, "GET", f"/dev/messages?participant_id={participant_id}").json()["messages"]
        assert sorted((message["channel"], message["template"]) for message in listed) == [
            ("EMAIL", "SELECTED"),
            ("SMS", "SELECTED"),
        ]
        assert all("BENCH-W1" in message["text"] and message["sent_at"] for message in listed)
        assert call(stack, "GET", "/dev/messages").status_code == 422
        set_clock(stack, None)
