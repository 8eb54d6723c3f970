"""Notifications: every kind the outbox holds reaches the person by e-mail and SMS, at most once
per channel whatever happens to the sender, failures end dead-lettered, and each channel keeps its
pace. Balance reminders come on the configured days before the deadline and stop at a purchase."""

from __future__ import annotations

import contextlib
import io
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.core import clock, outbox
from chalicelib.core.storage import UnitOfWork
from chalicelib.registration import service as registration
from chalicelib.surveys.notify import channels, messages, templates
from tests.conftest import TokenFactory, run_job
from tests.integration.test_training import buy, me, select

DEADLINE = datetime.fromisoformat("2021-07-05T23:59:59+07:00")

EVERY_KIND: dict[str, tuple[str, dict[str, str]]] = {
    "REVOKED": ("REVOKED", {"reason": "NO_PURCHASE_BY_DEADLINE"}),
    "INCENTIVE_STAGE": ("TRAINING#FIRST_COMPLETION", {"purchase_id": "P1", "course_id": "C1"}),
    "TRAINING_RATED": ("TRAINING#FIRST_RATING", {"purchase_id": "P1", "course_id": "C1"}),
    "SURVEY_INVITATION": ("SURVEY#1", {"survey_id": "S1", "round": "1", "deadline": "2021-08-15"}),
    "PAYMENT_SENT": ("PAYMENT#X-INCENTIVE-1#PAID", {"amount": "600000", "payment_kind": "INCENTIVE"}),
    "PAYMENT_NEEDS_ACTION": (
        "PAYMENT#X-SURVEY-1#NEEDS_ACTION",
        {"amount": "50000", "payment_kind": "SURVEY"},
    ),
}


class Killed(BaseException):
    """A sender that died mid-batch: nothing after this point ran, nothing caught it."""


@pytest.fixture
def accounts(client: Client, auth: TokenFactory) -> Iterator[list[str]]:
    """Two selected participants' accounts and one not selected (their outbox holds SELECTED,
    NOT_SELECTED)."""
    yield select(client, auth, 3, quota=2)
    clock.set_now(None)


@pytest.fixture
def people(accounts: list[str]) -> list[str]:
    return [registration.participant_id_for(account) for account in accounts]


def provider_messages() -> list[tuple[str, str, str]]:
    """What the local endpoint's SES and SNS were given: (channel, address, text)."""
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends
    from moto.sns.models import sns_backends

    ses = ses_backends[DEFAULT_ACCOUNT_ID]["ap-southeast-3"]
    sns = sns_backends[DEFAULT_ACCOUNT_ID]["ap-southeast-3"]
    mail = [("EMAIL", message.destinations["ToAddresses"][0], message.body) for message in ses.sent_messages]
    texts = [("SMS", phone, text) for phone, text in sns.sms_messages.values()]
    return mail + texts


def notify(client: Client) -> dict[str, Any]:
    summary: dict[str, Any] = run_job(client, "notifications")
    while summary.get("more"):
        summary = run_job(client, "notifications")
    return summary


def add(participant_id: str, kind: str, topic: str, details: dict[str, str]) -> None:
    unit = UnitOfWork()
    outbox.add(unit, participant_id, kind, topic, details, clock.now())
    unit.commit()


def test_every_kind_the_outbox_holds_is_delivered_in_indonesian_with_the_name_and_rupiah(
    client: Client, people: list[str]
) -> None:
    selected = people[0]
    for kind, (topic, details) in EVERY_KIND.items():
        add(selected, kind, topic, details)
    add(selected, "BALANCE_REMINDER", "REMINDER#2021-07-05#14", {"days_left": "14", "deadline": "2021-07-05"})

    notify(client)

    sent = messages.sent_to(selected)
    kinds = Counter((message["template"], message["channel"]) for message in sent)
    every = {*EVERY_KIND, "SELECTED", "BALANCE_REMINDER"}
    assert kinds == Counter({(kind, channel): 1 for kind in every for channel in ("EMAIL", "SMS")})
    assert [message["sent_at"] for message in sent] == sorted((m["sent_at"] for m in sent), reverse=True)
    name = registration.contacts([selected])[selected].full_name
    assert all(name in message["text"] for message in sent)
    by_kind = {(message["template"], message["channel"]): message["text"] for message in sent}
    assert "Rp600.000" in by_kind[("PAYMENT_SENT", "SMS")]
    assert "Rp50.000" in by_kind[("PAYMENT_NEEDS_ACTION", "EMAIL")]
    assert "15 Agustus 2021" in by_kind[("SURVEY_INVITATION", "SMS")]
    assert "Selamat" in by_kind[("SELECTED", "EMAIL")]
    assert [message["template"] for message in messages.sent_to(people[2])] == ["NOT_SELECTED"] * 2
    # What the providers were given is what /dev/messages shows.
    given = {text for _, _, text in provider_messages()}
    assert {message["text"].split("\n\n", 1)[-1] for message in sent} <= given


def test_a_run_again_sends_nothing_twice(client: Client, people: list[str]) -> None:
    first = notify(client)
    before = len(provider_messages())

    again = notify(client)

    assert first["sent"] == before == 6  # 3 people, e-mail and SMS each
    assert again.get("sent", 0) == 0 and again["read"] == 0
    assert len(provider_messages()) == before


def test_a_sender_killed_mid_batch_and_run_again_sends_every_message_exactly_once(
    client: Client, people: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for person in people:
        for kind, (topic, details) in EVERY_KIND.items():
            add(person, kind, topic, details)
    real = channels.send
    calls = {"n": 0}

    def dying(*args: Any, **kwargs: Any) -> str:
        # Killed right after the provider took a message (the worst moment: it went, nothing says so)
        # on the 5th send, and before the provider saw one on the 17th.
        calls["n"] += 1
        if calls["n"] == 17:
            raise Killed("before the provider")
        message_id = real(*args, **kwargs)
        if calls["n"] == 5:
            raise Killed("after the provider")
        return message_id

    monkeypatch.setattr(channels, "send", dying)
    for _ in range(2):
        with contextlib.suppress(Killed):
            notify(client)
    notify(client)
    # The claims the killed runs left are found stale once no run could still hold them.
    clock.set_now(clock.now() + timedelta(minutes=16))
    notify(client)

    given = Counter(provider_messages())
    assert max(given.values()) == 1  # nothing twice
    expected = len(people) * (len(EVERY_KIND) + 1) * 2
    assert len(given) == expected - 1  # the one killed before the provider saw it never went...
    uncertain = [found for shard in range(outbox.SHARDS) for found in outbox.dead_letters(shard, 100)]
    # ...and it, with the one that went unconfirmed, waits as a dead letter: never silently dropped.
    assert sorted(found.reason or "" for found in uncertain) == ["CLAIM_ABANDONED", "CLAIM_ABANDONED"]
    delivered = sum(len(messages.sent_to(person)) for person in people)
    assert delivered == expected - 2


def test_a_send_that_keeps_failing_is_retried_then_dead_lettered(
    client: Client, people: list[str], monkeypatch: pytest.MonkeyPatch, configure: Any
) -> None:
    configure(NOTIFY_ATTEMPTS="3")
    tries: Counter[str] = Counter()
    real = channels.send

    def refusing(channel: channels.Channel, address: str, message: templates.Message, token: str) -> str:
        if channel is channels.Channel.SMS and address == registration.contacts([people[2]])[people[2]].phone:
            tries[address] += 1
            raise channels.Refused("InvalidParameter")
        return real(channel, address, message, token)

    monkeypatch.setattr(channels, "send", refusing)
    for _ in range(5):
        notify(client)
        clock.set_now(clock.now() + timedelta(hours=2))

    assert list(tries.values()) == [3]
    dead = [found for shard in range(outbox.SHARDS) for found in outbox.dead_letters(shard, 100)]
    assert [(found.participant_id, found.channel, found.state, found.attempt) for found in dead] == [
        (people[2], "SMS", "DEAD", 3)
    ]
    # The e-mail went once; the notification left the pending index.
    assert [message["channel"] for message in messages.sent_to(people[2])] == ["EMAIL"]
    assert notify(client)["read"] == 0


def test_each_channel_keeps_its_rate_limit(
    client: Client, people: list[str], monkeypatch: pytest.MonkeyPatch, configure: Any
) -> None:
    configure(NOTIFY_EMAIL_PER_SECOND="10", NOTIFY_SMS_PER_SECOND="10")
    for person in people:
        for kind, (topic, details) in EVERY_KIND.items():
            add(person, kind, topic, details)
    times: dict[str, list[float]] = {"EMAIL": [], "SMS": []}
    real = channels.send

    def timed(channel: channels.Channel, *args: Any) -> str:
        times[channel.value].append(time.monotonic())
        return real(channel, *args)

    monkeypatch.setattr(channels, "send", timed)
    notify(client)

    for sends in times.values():
        assert len(sends) == 21
        # No window of one second holds more than 10 sends of a channel.
        assert all(later - earlier >= 0.99 for earlier, later in zip(sends, sends[10:], strict=False))


def test_reminders_come_on_the_configured_days_and_stop_after_a_purchase(
    client: Client, auth: TokenFactory, accounts: list[str], people: list[str]
) -> None:
    from tests.integration.test_training import publish

    assert publish(client, auth, "C1").status_code == 201
    assert [me(client, auth, account)["purchase_deadline"] for account in accounts[:2]] == [
        DEADLINE.isoformat()
    ] * 2
    notify(client)  # the selection results
    told: list[tuple[str, int]] = []
    read_on: dict[int, int] = {}
    for day in (20, 15, 14, 13, 10, 8, 7, 6, 3, 2, 1, 0):
        clock.set_now(DEADLINE - timedelta(days=day, hours=12))
        if day == 10:
            assert buy(client, auth, accounts[0], "C1").status_code == 201
        before = {person: len(reminders_of(person)) for person in people}
        read_on[day] = notify(client).get("reminders_read", 0)
        told += [(person, day) for person in people if len(reminders_of(person)) > before[person]]

    assert told == [(people[0], 14), (people[1], 14), (people[1], 7), (people[1], 2)]
    # Only the people due were read: the index holds no one else on those days.
    assert read_on == {20: 0, 15: 0, 14: 2, 13: 0, 10: 0, 8: 0, 7: 1, 6: 0, 3: 0, 2: 1, 1: 0, 0: 0}
    texts = [message["text"] for message in reminders_of(people[1])]
    assert any("2 hari lagi" in text and "5 Juli 2021" in text for text in texts)


def reminders_of(participant_id: str) -> list[dict[str, Any]]:
    return [
        message for message in messages.sent_to(participant_id) if message["template"] == "BALANCE_REMINDER"
    ]


def test_no_personal_data_reaches_the_logs(
    client: Client, people: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.core.observability import logger

    contact = registration.contacts([people[0]])[people[0]]

    def refusing(channel: channels.Channel, address: str, message: templates.Message, token: str) -> str:
        raise channels.Refused("MessageRejected")

    monkeypatch.setattr(channels, "send", refusing)
    buffer = io.StringIO()
    handler = logger.registered_handler
    original = handler.setStream(buffer)  # type: ignore[attr-defined]
    try:
        notify(client)
    finally:
        handler.setStream(original)  # type: ignore[attr-defined]

    logs = buffer.getvalue()
    assert "notification refused" in logs
    for value in (contact.full_name, contact.phone, contact.email or "-", contact.phone.removeprefix("+")):
        assert value not in logs


def test_a_payment_paid_or_needing_action_tells_the_participant_once(
    client: Client, auth: TokenFactory, accounts: list[str], fake: Any, callbacks: Any
) -> None:
    from chalicelib.incentives.model import PaymentAccount
    from chalicelib.incentives.stores import accounts as payment_accounts
    from tests.integration.test_incentives import CLOSED_OVO, ready, settled
    from tests.integration.test_training import publish

    assert publish(client, auth, "C1").status_code == 201
    paid = ready(client, auth, accounts[0])
    clock.set_now(datetime.fromisoformat("2021-06-17T09:00:00+07:00"))
    run_job(client, "disbursement")
    settled(fake, callbacks, client)
    run_job(client, "disbursement")
    notify(client)
    # The next month's payment goes to an account that closed meanwhile: the participant must act.
    account = payment_accounts.account(paid)
    assert account is not None
    payment_accounts.save_account(PaymentAccount(**{**account.__dict__, "account_number": CLOSED_OVO}))
    clock.set_now(datetime.fromisoformat("2021-07-17T09:00:00+07:00"))
    run_job(client, "disbursement")
    run_job(client, "disbursement")
    notify(client)

    told = [
        (m["template"], m["channel"]) for m in messages.sent_to(paid) if m["template"].startswith("PAYMENT")
    ]
    assert sorted(told) == [
        ("PAYMENT_NEEDS_ACTION", "EMAIL"),
        ("PAYMENT_NEEDS_ACTION", "SMS"),
        ("PAYMENT_SENT", "EMAIL"),
        ("PAYMENT_SENT", "SMS"),
    ]
    texts = [m["text"] for m in messages.sent_to(paid) if m["template"].startswith("PAYMENT")]
    assert all("Rp600.000" in text for text in texts)


def test_every_partners_consumer_tells_a_participant_whose_account_closed(
    client: Client, fake: Any, callbacks: Any
) -> None:
    """Each partner's consumer settles what its partner answers, so each one writes the notification
    (a closed account: NEEDS_ACTION at the first refusal), and each reaches its participant."""
    from datetime import date

    from chalicelib.incentives.model import Kind, Payment, PaymentAccount
    from chalicelib.incentives.stores import accounts as payment_accounts
    from chalicelib.incentives.stores import payments
    from tests.integration.test_incentives import seeded_payees

    closed = {"BNI": "0123450000", "OVO": "081234560000", "GOPAY": "081334560000", "LINKAJA": "082134560000"}
    clock.set_now(datetime.fromisoformat("2021-08-01T09:00:00+07:00"))
    payees = seeded_payees(4, seed=3)
    for person, (partner_id, number) in zip(payees, closed.items(), strict=True):
        payment_accounts.save_account(
            PaymentAccount(person.participant_id, partner_id, number, "Penerima", True, None, clock.now())
        )
        unit = UnitOfWork()
        payments.add_owed(
            unit,
            Payment(f"{person.participant_id}-INCENTIVE-1", person.participant_id, Kind.INCENTIVE, 1, 600_000,
                    date(2021, 8, 1), person.province_code, partner_id=partner_id),
        )  # fmt: skip
        unit.commit()

    run_job(client, "disbursement")
    notify(client)

    for person in payees:
        told = sorted((m["template"], m["channel"]) for m in messages.sent_to(person.participant_id))
        assert told == [("PAYMENT_NEEDS_ACTION", "EMAIL"), ("PAYMENT_NEEDS_ACTION", "SMS")]
    clock.set_now(None)


def test_a_payment_reconciliation_finds_paid_is_told_to_the_participant(
    client: Client, auth: TokenFactory, accounts: list[str], fake: Any, callbacks: Any
) -> None:
    """A partner's callback that never came: the settlement file is where the programme learns the
    payment was made, and reconciliation tells the participant in the unit that moves it to PAID."""
    from chalicelib.incentives.model import PaymentStatus
    from chalicelib.incentives.stores import payments
    from tests.integration.test_incentives import first_payment, ready, to_bucket
    from tests.integration.test_training import publish

    assert publish(client, auth, "C1").status_code == 201
    participant_id = ready(client, auth, accounts[0])
    clock.set_now(datetime.fromisoformat("2021-06-17T09:00:00+07:00"))
    run_job(client, "disbursement")  # the partner accepts; its callback is never delivered
    assert first_payment(participant_id).status is PaymentStatus.SENT
    to_bucket(fake)
    clock.set_now(datetime.fromisoformat("2021-06-18T02:00:00+07:00"))
    run_job(client, "reconciliation")
    assert first_payment(participant_id).status is PaymentStatus.RECONCILED
    notify(client)

    told = sorted(
        (m["template"], m["channel"])
        for m in messages.sent_to(participant_id)
        if m["template"].startswith("PAY")
    )
    assert told == [("PAYMENT_SENT", "EMAIL"), ("PAYMENT_SENT", "SMS")]
    assert len(payments.payments_of(participant_id)) == 4
