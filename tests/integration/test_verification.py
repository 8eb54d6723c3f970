"""Identity checks: paced dispatch, one lookup per registrant, retried on registry errors, never lost."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import boto3
import pytest
from chalice.test import Client

from chalicelib import clock
from chalicelib.registration import service, store
from chalicelib.registration.registry import RegistryUnavailable
from chalicelib.settings import settings
from devstack.registry import FakeRegistry
from tests.conftest import TokenFactory, run_job
from tests.integration.test_registration import SITI, register
from tests.integration.test_selection import person


@pytest.fixture
def registry(configure: Callable[..., None]) -> Iterator[FakeRegistry]:
    fake = FakeRegistry()
    configure(REGISTRY_URL=fake.url)
    yield fake
    fake.close()


def verification_of(account: str) -> str:
    found = store.participant(service.participant_id_for(account))
    assert found is not None
    return found.verification.value


def test_registrants_are_verified_or_rejected_by_the_registry(
    client: Client, auth: TokenFactory, registry: FakeRegistry
) -> None:
    register(client, auth, SITI, "acc-siti")
    rejected = {**person(1, "32"), "nik": person(1, "32")["nik"][:12] + "9999"}
    register(client, auth, rejected, "acc-rejected")
    summary = run_job(client, "verification")
    assert summary == {"dispatched": 2, "more": False}
    assert verification_of("acc-siti") == "NIK_VERIFIED"
    assert verification_of("acc-rejected") == "NIK_REJECTED"
    assert registry.lookups == 2
    me = client.http.get("/v1/participants/me", headers=auth("participant", sub="acc-siti")).json_body
    assert me["verification"] == "NIK_VERIFIED"


def test_a_second_run_asks_the_registry_nothing_more(
    client: Client, auth: TokenFactory, registry: FakeRegistry
) -> None:
    register(client, auth, SITI, "acc-siti")
    run_job(client, "verification")
    assert run_job(client, "verification") == {"dispatched": 0, "more": False}
    assert registry.lookups == 1


def test_the_per_run_cap_leaves_the_rest_for_the_next_run(
    client: Client,
    auth: TokenFactory,
    registry: FakeRegistry,
    monkeypatch: pytest.MonkeyPatch,
    configure: Callable[..., None],
) -> None:
    from chalicelib.registration import verification

    for index in range(3):
        register(client, auth, person(index, "31"), f"acc-{index}")
    configure(REGISTRY_RATE_PER_SECOND="1")
    monkeypatch.setattr(verification, "RUN_SECONDS", 2)
    first = verification.dispatch()
    assert first == {"dispatched": 2, "more": True}
    assert verification.dispatch() == {"dispatched": 1, "more": False}
    assert verification.dispatch() == {"dispatched": 0, "more": False}


def test_a_registry_outage_keeps_the_participant_pending_and_retries(
    client: Client, auth: TokenFactory, registry: FakeRegistry
) -> None:
    register(client, auth, SITI, "acc-siti")
    registry.failing = True
    with pytest.raises(RegistryUnavailable):
        run_job(client, "verification")
    assert verification_of("acc-siti") == "PENDING"
    queue = boto3.client("sqs").get_queue_url(QueueName=settings().queue_name("verification"))["QueueUrl"]
    attributes = boto3.client("sqs").get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])[
        "Attributes"
    ]
    assert int(attributes["ApproximateNumberOfMessagesNotVisible"]) == 1


def test_registrations_made_before_the_clock_was_moved_back_are_still_checked(
    client: Client, auth: TokenFactory, registry: FakeRegistry
) -> None:
    register(client, auth, SITI, "acc-siti")
    clock.set_now(datetime.fromisoformat("2021-06-01T10:00:00+07:00"))
    try:
        run_job(client, "verification")
    finally:
        clock.set_now(None)
    assert verification_of("acc-siti") == "NIK_VERIFIED"


def queued_lookups() -> list[str]:
    """The participants the verification queue holds lookups for, one entry per message."""
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=settings().queue_name("verification"))["QueueUrl"]
    found: list[str] = []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return found
        found += [json.loads(message["Body"])["participant_id"] for message in messages]


def test_a_run_killed_after_sending_leaves_the_next_within_the_daily_cap(
    client: Client, auth: TokenFactory, configure: Callable[..., None], monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib import queues
    from chalicelib.registration import verification

    for index in range(4):
        register(client, auth, person(index, "31"), f"acc-{index}")
    configure(REGISTRY_DAILY_CAP="2")
    send_all = queues.send_all

    def killed_after_sending(*args: Any, **kwargs: Any) -> int:
        send_all(*args, **kwargs)
        raise KeyboardInterrupt("the Lambda ran out of time")

    monkeypatch.setattr(queues, "send_all", killed_after_sending)
    with pytest.raises(KeyboardInterrupt):
        verification.dispatch()
    monkeypatch.setattr(queues, "send_all", send_all)
    verification.dispatch()
    assert len(queued_lookups()) == 2


def overlapping(monkeypatch: pytest.MonkeyPatch) -> None:
    """A second dispatch (a duplicate scheduled invocation) runs whole while the first is between
    reading the pending index and acting on what it read."""
    from chalicelib.registration import verification

    read = store.pending_verifications
    state = {"overlapped": False}

    def pending(*args: Any, **kwargs: Any) -> Any:
        found = read(*args, **kwargs)
        if found and not state["overlapped"]:
            state["overlapped"] = True
            verification.dispatch()
        return found

    monkeypatch.setattr(store, "pending_verifications", pending)


def test_overlapping_runs_stay_within_the_daily_cap(
    client: Client, auth: TokenFactory, configure: Callable[..., None], monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.registration import verification

    for index in range(4):
        register(client, auth, person(index, "31"), f"acc-{index}")
    configure(REGISTRY_DAILY_CAP="2")
    overlapping(monkeypatch)
    verification.dispatch()
    assert len(queued_lookups()) == 2


def test_overlapping_runs_ask_about_each_registrant_once(
    client: Client, auth: TokenFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.registration import verification

    for index in range(4):
        register(client, auth, person(index, "31"), f"acc-{index}")
    overlapping(monkeypatch)
    verification.dispatch()
    lookups = queued_lookups()
    assert sorted(lookups) == sorted(service.participant_id_for(f"acc-{index}") for index in range(4))


def test_a_run_killed_before_sending_leaves_its_checks_to_a_later_run(
    client: Client, auth: TokenFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib import queues
    from chalicelib.registration import verification

    register(client, auth, SITI, "acc-siti")
    send_all = queues.send_all

    def killed_before_sending(*args: Any, **kwargs: Any) -> int:
        raise KeyboardInterrupt("the Lambda ran out of time")

    monkeypatch.setattr(queues, "send_all", killed_before_sending)
    with pytest.raises(KeyboardInterrupt):
        verification.dispatch()
    monkeypatch.setattr(queues, "send_all", send_all)
    verification.dispatch()
    clock.set_now(clock.now() + verification.REDISPATCH_AFTER + timedelta(minutes=1))
    try:
        verification.dispatch()
    finally:
        clock.set_now(None)
    assert queued_lookups() == [service.participant_id_for("acc-siti")]
