"""Identity checks: paced dispatch, one lookup per registrant, retried on registry errors, never lost."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import boto3
import pytest
from chalice.test import Client

from chalicelib.core import clock
from chalicelib.core.settings import settings
from chalicelib.registration import service
from chalicelib.registration.registry import RegistryUnavailable
from chalicelib.registration.stores import participants
from chalicelib.registration.stores import verification as verification_store
from devstack.registry import FakeRegistry
from tests.conftest import ReadLog, TokenFactory, reads_of, run_job
from tests.integration.test_registration import SITI, register
from tests.integration.test_selection import person


@pytest.fixture
def registry(configure: Callable[..., None]) -> Iterator[FakeRegistry]:
    fake = FakeRegistry()
    configure(REGISTRY_URL=fake.url)
    yield fake
    fake.close()


def verification_of(account: str) -> str:
    found = participants.participant(service.participant_id_for(account))
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


def test_every_lookup_carries_the_programmes_key_from_ssm(
    client: Client, auth: TokenFactory, registry: FakeRegistry
) -> None:
    """The registry knows the programme by its key: a SecureString in SSM, read as AWS would."""
    register(client, auth, SITI, "acc-siti")

    run_job(client, "verification")

    assert registry.api_keys == ["test-registry-key"]


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
    from chalicelib.core import queues
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

    read = verification_store.pending_verifications
    state = {"overlapped": False}

    def pending(*args: Any, **kwargs: Any) -> Any:
        found = read(*args, **kwargs)
        if found and not state["overlapped"]:
            state["overlapped"] = True
            verification.dispatch()
        return found

    monkeypatch.setattr(verification_store, "pending_verifications", pending)


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
    from chalicelib.core import queues
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


def account_in_shard(shard: int, name: str) -> str:
    """An account whose participant's pending check lands in `shard` of the verification index."""
    for attempt in range(1000):
        account = f"acc-{name}-{attempt}"
        if participants.verification_shard_key(service.participant_id_for(account)) == f"VERIFY#{shard:02d}":
            return account
    raise AssertionError(f"no account found for shard {shard}")


def register_at(client: Client, auth: TokenFactory, moment: str, index: int, account: str) -> str:
    clock.set_now(datetime.fromisoformat(moment))
    try:
        assert register(client, auth, person(index, "31"), account).status_code == 201
    finally:
        clock.set_now(None)
    return service.participant_id_for(account)


def dispatched_by(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The participants each dispatch sends lookups for, in order (the messages are dropped)."""
    from chalicelib.core import queues

    sent: list[str] = []

    def send_all(queue: str, messages: Any, **kwargs: Any) -> int:
        sent.extend(message["participant_id"] for message in messages)
        return len(sent)

    monkeypatch.setattr(queues, "send_all", send_all)
    return sent


def test_the_oldest_pending_checks_go_first_whatever_their_shard(
    client: Client, auth: TokenFactory, configure: Callable[..., None], monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.registration import verification

    # Given two people who registered first, whose checks sit in the last shards,
    # and two who registered an hour later, in the first shard
    first = [
        register_at(client, auth, "2021-06-01T01:00:00+00:00", 0, account_in_shard(15, "a")),
        register_at(client, auth, "2021-06-01T01:01:00+00:00", 1, account_in_shard(12, "b")),
    ]
    register_at(client, auth, "2021-06-01T02:00:00+00:00", 2, account_in_shard(0, "c"))
    register_at(client, auth, "2021-06-01T02:01:00+00:00", 3, account_in_shard(0, "d"))
    configure(REGISTRY_RATE_PER_SECOND="1")
    monkeypatch.setattr(verification, "RUN_SECONDS", 2)
    sent = dispatched_by(monkeypatch)

    # When a run has room for two lookups
    summary = verification.dispatch()

    # Then it sends the two who have waited longest
    assert summary == {"dispatched": 2, "more": True}
    assert sent == first


def test_the_order_is_by_the_moment_whatever_the_clocks_timezone(
    client: Client, auth: TokenFactory, configure: Callable[..., None], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The local stack's clock can be set in WIB; 10:00 WIB is 03:00 UTC, before 05:00 UTC."""
    from chalicelib.registration import verification

    later = register_at(client, auth, "2021-06-01T05:00:00+00:00", 0, account_in_shard(0, "a"))
    earlier = register_at(client, auth, "2021-06-01T10:00:00+07:00", 1, account_in_shard(1, "b"))
    configure(REGISTRY_RATE_PER_SECOND="1")
    monkeypatch.setattr(verification, "RUN_SECONDS", 1)
    sent = dispatched_by(monkeypatch)
    verification.dispatch()
    assert sent == [earlier]
    assert later not in sent


def test_a_check_due_again_waits_behind_older_ones_never_sent(
    client: Client, auth: TokenFactory, configure: Callable[..., None], monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.registration import verification

    # Given a check in the first shard that was dispatched and never answered
    lost = register_at(client, auth, "2021-06-01T02:00:00+00:00", 0, account_in_shard(0, "lost"))
    configure(REGISTRY_RATE_PER_SECOND="1")
    monkeypatch.setattr(verification, "RUN_SECONDS", 1)
    sent = dispatched_by(monkeypatch)
    clock.set_now(datetime.fromisoformat("2021-06-01T03:00:00+00:00"))
    try:
        verification.dispatch()
    finally:
        clock.set_now(None)
    # and an older registration in the last shard that no run has sent yet
    older = register_at(client, auth, "2021-06-01T01:00:00+00:00", 1, account_in_shard(15, "older"))

    # When both are due and a run has room for one
    due = datetime.fromisoformat("2021-06-01T03:00:00+00:00") + verification.REDISPATCH_AFTER
    clock.set_now(due + timedelta(minutes=1))
    try:
        verification.dispatch()
        verification.dispatch()
    finally:
        clock.set_now(None)

    # Then the older one goes first, the lost one in the next run
    assert sent == [lost, older, lost]


def test_a_backlog_in_one_shard_is_read_a_page_at_a_time(
    client: Client,
    auth: TokenFactory,
    configure: Callable[..., None],
    monkeypatch: pytest.MonkeyPatch,
    dynamodb_reads: ReadLog,
) -> None:
    from chalicelib.registration import verification

    # Given six people waiting longest in one shard, and six newer ones in the shards before it
    backlog = [
        register_at(client, auth, f"2021-06-01T01:0{index}:00+00:00", index, account_in_shard(3, f"b{index}"))
        for index in range(6)
    ]
    for index in range(6, 12):
        register_at(
            client, auth, "2021-06-01T02:00:00+00:00", index, account_in_shard(index % 3, f"n{index}")
        )
    configure(REGISTRY_RATE_PER_SECOND="1")
    monkeypatch.setattr(verification, "RUN_SECONDS", 4)
    sent = dispatched_by(monkeypatch)
    dynamodb_reads.clear()

    # When a run has room for four lookups
    verification.dispatch()

    # Then it sends the four oldest, having read about as many entries as it sends, never everything
    assert sent == backlog[:4]
    index_reads = [read for read in dynamodb_reads if read.get("IndexName") == "gsi2"]
    assert sum(read["Limit"] for read in index_reads) <= 2 * 4 + participants.VERIFICATION_SHARDS


def dispatched_one(client: Client, auth: TokenFactory, monkeypatch: pytest.MonkeyPatch) -> str:
    """Siti registered and her check dispatched; the id its lookup message carries."""
    from chalicelib.registration import verification

    register(client, auth, SITI, "acc-siti")
    sent = dispatched_by(monkeypatch)
    verification.dispatch()
    assert sent == [service.participant_id_for("acc-siti")]
    return sent[0]


def test_a_lookup_delivered_twice_at_once_asks_the_registry_once(
    client: Client, auth: TokenFactory, registry: FakeRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.registration import registry as adapter
    from chalicelib.registration import verification

    # Given a lookup whose message SQS delivers a second time while the first delivery waits for
    # the registry's answer
    participant_id = dispatched_one(client, auth, monkeypatch)
    look_up = adapter.look_up
    state = {"overlapped": False}
    outcomes: list[str] = []

    def answered_late(*args: Any) -> Any:
        if not state["overlapped"]:
            state["overlapped"] = True
            outcomes.append(verification.verify(participant_id))
        return look_up(*args)

    monkeypatch.setattr(adapter, "look_up", answered_late)

    # When both deliveries are handled
    outcomes.append(verification.verify(participant_id))

    # Then the registry was asked once, by the first, and its answer recorded
    assert outcomes == ["SKIPPED", "NIK_VERIFIED"]
    assert registry.lookups == 1
    assert verification_of("acc-siti") == "NIK_VERIFIED"


def test_a_lookup_that_failed_after_the_registry_answered_is_not_asked_again_until_due(
    client: Client, auth: TokenFactory, registry: FakeRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.registration import verification

    # Given a delivery that asked the registry and then failed to record the answer
    participant_id = dispatched_one(client, auth, monkeypatch)
    record = verification_store.record_verification

    def throttled(*args: Any) -> bool:
        raise RuntimeError("the participants table is throttled")

    monkeypatch.setattr(verification_store, "record_verification", throttled)
    with pytest.raises(RuntimeError):
        verification.verify(participant_id)
    monkeypatch.setattr(verification_store, "record_verification", record)

    # When SQS delivers the message again
    retried = verification.verify(participant_id)

    # Then the registry is not asked a second time, and Siti stays pending
    assert retried == "SKIPPED"
    assert registry.lookups == 1
    assert verification_of("acc-siti") == "PENDING"

    # and once her check falls due again, the next dispatch sends it and the answer is recorded
    sent = dispatched_by(monkeypatch)
    clock.set_now(clock.now() + verification.REDISPATCH_AFTER + timedelta(minutes=1))
    try:
        verification.dispatch()
        assert sent == [participant_id]
        assert verification.verify(participant_id) == "NIK_VERIFIED"
    finally:
        clock.set_now(None)
    assert registry.lookups == 2


def test_a_lookup_the_registry_did_not_answer_is_asked_again_on_the_next_delivery(
    client: Client, auth: TokenFactory, registry: FakeRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.registration import verification

    # Given a delivery the registry did not answer
    participant_id = dispatched_one(client, auth, monkeypatch)
    registry.failing = True
    with pytest.raises(RegistryUnavailable):
        verification.verify(participant_id)

    # When the registry is back and SQS delivers the message again
    registry.failing = False
    retried = verification.verify(participant_id)

    # Then the retry asks and records the answer
    assert retried == "NIK_VERIFIED"
    assert registry.lookups == 1


def test_the_consumer_never_acts_on_a_stale_profile(
    client: Client,
    auth: TokenFactory,
    registry: FakeRegistry,
    monkeypatch: pytest.MonkeyPatch,
    dynamodb_reads: ReadLog,
) -> None:
    from chalicelib.registration import verification

    participant_id = dispatched_one(client, auth, monkeypatch)
    dynamodb_reads.clear()

    verification.verify(participant_id)

    profile_reads = reads_of(dynamodb_reads, participants.participant_key(participant_id))
    assert all(read.get("ConsistentRead") for read in profile_reads)
