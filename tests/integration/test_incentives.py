"""Incentives through the app, against in-process moto and the fake payment partners: accounts,
the schedule owed once, disbursement exactly once under faults and crashes, callbacks,
reconciliation and the disbursement view."""

from __future__ import annotations

import contextlib
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import boto3
import pytest
from chalice.test import Client

from chalicelib.core import clock
from chalicelib.core.storage import UnitOfWork
from chalicelib.incentives import disbursement, partners
from chalicelib.incentives.model import Kind, Payment, PaymentAccount, PaymentStatus
from chalicelib.incentives.partners.signing import signed_headers
from chalicelib.incentives.stores import accounts, payments
from chalicelib.registration.model import Participant
from devstack.partners import LOCAL_SECRETS, FakePartners, MemorySink
from tests.conftest import TokenFactory, body, run_job
from tests.integration.conftest import Callbacks
from tests.integration.test_training import buy, complete, me, publish, rate, select

PAID_STATES = ("PAID", "RECONCILED")
RATED_AT = datetime.fromisoformat("2021-06-10T12:00:00+07:00")
FIRST_DUE = date(2021, 6, 17)
OVO = "081234567890"
CLOSED_OVO = "081234560000"


# --- the partners and their callbacks -------------------------------------------------------------


def settled(fake: FakePartners, callbacks: Callbacks, client: Client) -> None:
    """Wait for the partners to settle what they accepted, then hand their callbacks to the app."""
    import time

    time.sleep(0.1)
    while True:
        try:
            statuses = callbacks.deliver(client)
        except Killed:
            continue  # the callback's function died: the partner, answered nothing, sends it again
        assert all(status < 300 for status in statuses)
        return


def ledger(fake: FakePartners, partner_id: str) -> list[dict[str, Any]]:
    return list(fake.ledger(partner_id)["transfers"])


# --- getting a participant to their incentives -----------------------------------------------------


def link(client: Client, auth: TokenFactory, account: str, partner_id: str = "OVO", number: str = OVO) -> Any:
    return client.http.put(
        "/v1/participants/me/payment-account",
        headers=auth("participant", sub=account),
        body=body({"partner_id": partner_id, "account_number": number, "account_name": "Siti Rahayu"}),
    )


def complete_and_rate(client: Client, auth: TokenFactory, account: str, course_id: str = "C1") -> None:
    clock.set_now(RATED_AT)
    bought = buy(client, auth, account, course_id)
    assert bought.status_code == 201, bought.json_body
    assert complete(client, auth, bought.json_body["purchase_id"], at=RATED_AT.isoformat()).status_code == 200
    assert rate(client, auth, account, course_id).status_code == 201


@pytest.fixture
def trained(client: Client, auth: TokenFactory, fake: FakePartners) -> list[str]:
    """Two selected participants who bought course C1 and one not selected."""
    accounts_ = select(client, auth, 3, quota=2)
    for course_id in ("C1", "C2"):
        assert publish(client, auth, course_id).status_code == 201
    return accounts_


def owed(client: Client, auth: TokenFactory, account: str) -> list[dict[str, Any]]:
    return list(me(client, auth, account)["payments"])


# --- the schedule -------------------------------------------------------------------------------


@pytest.mark.parametrize("account_first", [True, False])
def test_a_rated_completion_and_a_verified_account_owe_the_schedule_once_in_either_order(
    client: Client, auth: TokenFactory, trained: list[str], account_first: bool
) -> None:
    account = trained[0]
    if account_first:
        assert link(client, auth, account).status_code == 200
        complete_and_rate(client, auth, account)
    else:
        complete_and_rate(client, auth, account)
        assert owed(client, auth, account) == []
        assert link(client, auth, account).status_code == 200
    run_job(client, "incentive_events")
    run_job(client, "incentive_events")
    assert link(client, auth, account).status_code == 200
    schedule = owed(client, auth, account)
    assert [(p["kind"], p["amount"], p["due_date"], p["status"]) for p in schedule] == [
        ("INCENTIVE", 600_000, "2021-06-17", "DUE"),
        ("INCENTIVE", 600_000, "2021-07-17", "DUE"),
        ("INCENTIVE", 600_000, "2021-08-17", "DUE"),
        ("INCENTIVE", 600_000, "2021-09-17", "DUE"),
    ]
    shown = me(client, auth, account)["payment_account"]
    assert shown == {"partner_id": "OVO", "account_number": "********7890", "verified": True, "reason": None}


def test_the_schedule_is_frozen_when_made(
    client: Client, auth: TokenFactory, trained: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    account = trained[0]
    link(client, auth, account)
    complete_and_rate(client, auth, account)
    run_job(client, "incentive_events")
    from chalicelib.core import settings as configuration

    rules = configuration.programme()
    monkeypatch.setattr(configuration, "programme", lambda: rules.model_copy(update={"incentive_amount": 1}))
    link(client, auth, account, "BNI", "0123456789")
    assert {p["amount"] for p in owed(client, auth, account)} == {600_000}


def test_no_schedule_without_a_rating_or_for_a_revoked_participant(
    client: Client, auth: TokenFactory, trained: list[str]
) -> None:
    rated, revoked = trained[0], trained[1]
    link(client, auth, rated)
    clock.set_now(RATED_AT)
    bought = buy(client, auth, rated, "C1").json_body
    assert complete(client, auth, bought["purchase_id"], at=RATED_AT.isoformat()).status_code == 200
    run_job(client, "incentive_events")
    assert owed(client, auth, rated) == []

    link(client, auth, revoked)
    bought = buy(client, auth, revoked, "C1").json_body
    participant_id = me(client, auth, revoked)["participant_id"]
    client.http.post(
        f"/v1/participants/{participant_id}/revocation",
        headers=auth("admin"),
        body=body({"reason": "FRAUD"}),
    )
    refused = complete(client, auth, bought["purchase_id"], at=RATED_AT.isoformat())
    assert (refused.status_code, refused.json_body["error"]["code"]) == (409, "REVOKED")


def test_a_revocation_stops_the_payments_not_yet_sent(
    client: Client, auth: TokenFactory, trained: list[str], fake: FakePartners
) -> None:
    account = trained[0]
    link(client, auth, account)
    complete_and_rate(client, auth, account)
    run_job(client, "incentive_events")
    participant_id = me(client, auth, account)["participant_id"]
    revoked = client.http.post(
        f"/v1/participants/{participant_id}/revocation", headers=auth("admin"), body=body({"reason": "FRAUD"})
    )
    assert revoked.status_code == 200, revoked.json_body
    assert rate(client, auth, account, "C1").json_body["error"]["code"] == "REVOKED"
    run_job(client, "incentive_events")
    clock.set_now(datetime.fromisoformat("2021-09-20T09:00:00+07:00"))
    run_job(client, "disbursement")
    record = client.http.get(f"/v1/participants/{participant_id}", headers=auth("admin")).json_body
    assert {(p["status"], p["reason"]) for p in record["payments"]} == {("NEEDS_ACTION", "REVOKED")}
    assert ledger(fake, "OVO") == []


def test_a_payment_claimed_before_the_revocation_is_never_sent(
    client: Client, auth: TokenFactory, trained: list[str], fake: FakePartners
) -> None:
    account = trained[0]
    link(client, auth, account)
    complete_and_rate(client, auth, account)
    run_job(client, "incentive_events")
    participant_id = me(client, auth, account)["participant_id"]
    clock.set_now(datetime.fromisoformat("2021-06-17T09:00:00+07:00"))
    disbursement.dispatch(lambda: True)  # claimed and queued, not yet sent
    client.http.post(
        f"/v1/participants/{participant_id}/revocation", headers=auth("admin"), body=body({"reason": "FRAUD"})
    )
    run_job(client, "disbursement")
    assert ledger(fake, "OVO") == []
    first = owed(client, auth, account)[0]
    assert (first["status"], first["reason"]) == ("NEEDS_ACTION", "REVOKED")


# --- accounts: bad input ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("partner_id", "number", "status", "code"),
    [
        ("DANA", OVO, 422, "UNKNOWN_PARTNER"),
        ("BNI", "12345", 422, "INVALID_ACCOUNT_NUMBER"),
        ("BNI", OVO, 422, "INVALID_ACCOUNT_NUMBER"),
        ("OVO", "0123456789x", 422, "INVALID_ACCOUNT_NUMBER"),
        ("OVO", CLOSED_OVO, 422, "ACCOUNT_NOT_VERIFIED"),
    ],
)
def test_an_account_that_cannot_be_paid_into_is_refused_clearly(
    client: Client,
    auth: TokenFactory,
    trained: list[str],
    partner_id: str,
    number: str,
    status: int,
    code: str,
) -> None:
    answer = link(client, auth, trained[0], partner_id, number)
    assert (answer.status_code, answer.json_body["error"]["code"]) == (status, code)
    assert number not in json.dumps(answer.json_body)
    assert me(client, auth, trained[0])["payment_account"] is None


def test_a_partner_that_cannot_be_reached_is_503_and_links_nothing(
    client: Client, auth: TokenFactory, trained: list[str], fake: FakePartners
) -> None:
    fake.set_faults("OVO", {"down": True})
    answer = link(client, auth, trained[0])
    assert (answer.status_code, answer.json_body["error"]["code"]) == (503, "SERVICE_UNAVAILABLE")
    assert me(client, auth, trained[0])["payment_account"] is None


def test_the_account_number_is_sealed_at_rest(client: Client, auth: TokenFactory, trained: list[str]) -> None:
    link(client, auth, trained[0])
    items = boto3.client("dynamodb").scan(TableName="prakerja-local-payments")["Items"]
    assert items and OVO not in json.dumps(items)


# --- disbursement -------------------------------------------------------------------------------


def ready(
    client: Client, auth: TokenFactory, account: str, partner_id: str = "OVO", number: str = OVO
) -> str:
    assert link(client, auth, account, partner_id, number).status_code == 200
    complete_and_rate(client, auth, account)
    run_job(client, "incentive_events")
    return str(me(client, auth, account)["participant_id"])


def test_a_due_incentive_is_paid_once_counted_and_shown(
    client: Client, auth: TokenFactory, trained: list[str], fake: FakePartners, callbacks: Callbacks
) -> None:
    ready(client, auth, trained[0])
    clock.set_now(datetime.fromisoformat("2021-06-17T09:00:00+07:00"))
    summary = run_job(client, "disbursement")
    assert (summary["claimed"], summary["read"]) == (1, 1)
    settled(fake, callbacks, client)
    run_job(client, "disbursement")
    statuses = [p["status"] for p in owed(client, auth, trained[0])]
    assert statuses == ["PAID", "DUE", "DUE", "DUE"]
    transfers = ledger(fake, "OVO")
    assert [(t["amount"], t["status"]) for t in transfers] == [(600_000, "COMPLETED")]
    stats = client.http.get("/v1/stats/provinces/31").json_body
    assert (stats["incentive_paid_amount"], stats["survey_paid_amount"]) == (600_000, 0)
    outcomes = (stats["payments_paid"], stats["payments_paid_amount"], stats["payments_failed"])
    assert outcomes == (1, 600_000, 0)
    while run_job(client, "stats")["more"]:
        pass
    days = client.http.get("/v1/stats/series?from=2021-06-16&to=2021-06-17").json_body["payments_per_day"]
    assert [(day["day"], day["payments_paid"], day["payments_paid_amount"]) for day in days] == [
        ("2021-06-16", 0, 0),
        ("2021-06-17", 1, 600_000),
    ]
    view = client.http.get("/v1/disbursements?date=2021-06-17", headers=auth("admin")).json_body
    ovo = view["partners"]["OVO"]
    assert (ovo["due_count"], ovo["due_amount"], ovo["paid_count"], ovo["paid_amount"]) == (
        1,
        600_000,
        1,
        600_000,
    )


def test_a_closed_account_waits_for_a_new_one_then_the_payment_resumes(
    client: Client, auth: TokenFactory, trained: list[str], fake: FakePartners, callbacks: Callbacks
) -> None:
    participant_id = ready(client, auth, trained[0])
    # The account closed after it was verified: the partner refuses the transfer.
    account = accounts.account(participant_id)
    assert account is not None
    accounts.save_account(PaymentAccount(**{**account.__dict__, "account_number": CLOSED_OVO}))
    clock.set_now(datetime.fromisoformat("2021-06-17T09:00:00+07:00"))
    run_job(client, "disbursement")
    first = owed(client, auth, trained[0])[0]
    assert (first["status"], first["reason"]) == ("NEEDS_ACTION", "ACCOUNT_CLOSED")
    assert link(client, auth, trained[0], "BNI", "0123456789").status_code == 200
    run_job(client, "disbursement")
    settled(fake, callbacks, client)
    assert owed(client, auth, trained[0])[0]["status"] == "PAID"
    assert [t["status"] for t in ledger(fake, "BNI")] == ["COMPLETED"]


def test_a_reward_owed_before_any_account_waits_for_one_then_is_paid(
    client: Client, auth: TokenFactory, trained: list[str], fake: FakePartners, callbacks: Callbacks
) -> None:
    """Survey rewards are owed whether or not an account is linked: without one the payment waits
    for the participant (nothing is sent), and the account they link later is paid."""
    from chalicelib.incentives import schedules

    participant_id = str(me(client, auth, trained[1])["participant_id"])
    reward = schedules.owe_survey_reward(participant_id, 1)
    assert reward is not None and reward.partner_id is None
    run_job(client, "disbursement")
    [waiting] = owed(client, auth, trained[1])
    assert (waiting["status"], waiting["reason"]) == ("NEEDS_ACTION", "NO_ACCOUNT")
    assert all(ledger(fake, partner_id) == [] for partner_id in partners.PARTNERS)
    assert link(client, auth, trained[1]).status_code == 200
    run_job(client, "disbursement")
    settled(fake, callbacks, client)
    assert [p["status"] for p in owed(client, auth, trained[1])] == ["PAID"]
    assert [(t["amount"], t["status"]) for t in ledger(fake, "OVO")] == [(50_000, "COMPLETED")]
    stats = client.http.get("/v1/stats/provinces/31").json_body
    assert (stats["incentive_paid_amount"], stats["survey_paid_amount"]) == (0, 50_000)


def test_disbursement_reads_only_what_is_due(
    client: Client, auth: TokenFactory, trained: list[str], fake: FakePartners
) -> None:
    for account in trained[:2]:
        ready(client, auth, account)
    clock.set_now(datetime.fromisoformat("2021-06-16T09:00:00+07:00"))
    assert run_job(client, "disbursement")["read"] == 0
    clock.set_now(datetime.fromisoformat("2021-06-17T09:00:00+07:00"))
    assert run_job(client, "disbursement")["read"] == 2


# --- callbacks ----------------------------------------------------------------------------------


def callback(
    client: Client,
    auth: TokenFactory,
    payment_id: str,
    payload: dict[str, Any],
    partner_id: str = "OVO",
    secret: str | None = None,
    signed: bool = True,
) -> Any:
    import time

    raw = json.dumps(payload).encode()
    headers = auth("partner", sub=f"{partner_id}-svc", partner_id=partner_id)
    if signed:
        headers |= signed_headers((secret or LOCAL_SECRETS[partner_id]).encode(), raw, time.time())
    return client.http.post(f"/v1/partner/payments/{payment_id}/status", headers=headers, body=raw)


@pytest.fixture
def sent(client: Client, auth: TokenFactory, trained: list[str], fake: FakePartners) -> Payment:
    """A payment the partner accepted (its callback kept back)."""
    participant_id = ready(client, auth, trained[0])
    clock.set_now(datetime.fromisoformat("2021-06-17T09:00:00+07:00"))
    run_job(client, "disbursement")
    found = next(p for p in payments.payments_of(participant_id) if p.number == 1)
    assert found.status is PaymentStatus.SENT
    return found


def paid_callback(payment: Payment, **changes: Any) -> dict[str, Any]:
    return {
        "status": "PAID",
        "reference": payment.current_attempt,
        "transfer_id": "T-1",
        "amount": payment.amount,
        "currency": "IDR",
        "reason": None,
        "settled_at": "2021-06-17T10:00:00+07:00",
    } | changes


def test_a_callback_applies_once_and_a_late_one_never_undoes_it(
    client: Client, auth: TokenFactory, sent: Payment
) -> None:
    for _ in range(2):
        answer = callback(client, auth, sent.payment_id, paid_callback(sent))
        assert (answer.status_code, answer.json_body["status"]) == (200, "PAID")
    late = callback(
        client, auth, sent.payment_id, paid_callback(sent, status="FAILED", reason="ACCOUNT_CLOSED")
    )
    assert (late.status_code, late.json_body["status"]) == (200, "PAID")
    stats = client.http.get("/v1/stats/provinces/31").json_body
    assert stats["incentive_paid_amount"] == 600_000
    view = client.http.get("/v1/disbursements?date=2021-06-17", headers=auth("admin")).json_body
    assert [m["kind"] for m in view["mismatches"]] == ["SUCCEEDED_THEN_FAILED"]


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("unsigned", 401, "BAD_SIGNATURE"),
        ("wrong secret", 401, "BAD_SIGNATURE"),
        ("another partner", 403, "WRONG_PARTNER"),
        ("unknown payment", 404, "PAYMENT_NOT_FOUND"),
        ("unknown reference", 404, "PAYMENT_NOT_FOUND"),
        ("amount", 409, "AMOUNT_MISMATCH"),
        ("currency", 409, "AMOUNT_MISMATCH"),
    ],
)
def test_a_callback_that_cannot_be_applied_is_refused_and_kept_for_reconciliation(
    client: Client, auth: TokenFactory, sent: Payment, case: str, status: int, code: str
) -> None:
    payment_id, payload, partner_id = sent.payment_id, paid_callback(sent), "OVO"
    secret, signed = None, True
    if case == "unsigned":
        signed = False
    elif case == "wrong secret":
        secret = "not-the-secret"
    elif case == "another partner":
        partner_id = "GOPAY"
    elif case == "unknown payment":
        payment_id = "ffff-INCENTIVE-1"
    elif case == "unknown reference":
        payload["reference"] = f"{sent.payment_id}-A9"
    elif case == "amount":
        payload["amount"] = 6_000_000
    else:
        payload["currency"] = "USD"
    answer = callback(client, auth, payment_id, payload, partner_id, secret, signed)
    assert (answer.status_code, answer.json_body["error"]["code"]) == (status, code)
    after = payments.payment(sent.payment_id)[0]
    assert after is not None and after.status is PaymentStatus.SENT
    if status >= 404:
        view = client.http.get("/v1/disbursements?date=2021-06-17", headers=auth("admin")).json_body
        assert len(view["mismatches"]) == 1


def test_only_a_partner_calls_back(client: Client, auth: TokenFactory, sent: Payment) -> None:
    raw = json.dumps(paid_callback(sent)).encode()
    import time

    headers = auth("participant", sub="acc-0") | signed_headers(
        LOCAL_SECRETS["OVO"].encode(), raw, time.time()
    )
    answer = client.http.post(f"/v1/partner/payments/{sent.payment_id}/status", headers=headers, body=raw)
    assert answer.status_code == 403


def test_a_payment_another_run_took_holds_back_none_of_its_group(
    client: Client, fake: FakePartners, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Claims go ten to a transaction: when another run claimed one of them between this run's read
    and its claim, the transaction is refused, and the other nine are claimed one by one."""
    clock.set_now(datetime.fromisoformat("2021-08-01T09:00:00+07:00"))
    owed_now = owe_directly(12, date(2021, 8, 1))
    due = payments.due
    taken: list[str] = []

    def raced(*args: Any) -> Any:
        page, start = due(*args)
        if page and not taken:
            taken.append(page[1].payment_id)
            assert disbursement._claim(page[1], clock.now()) is not None  # the other run's claim
        return page, start

    monkeypatch.setattr(payments, "due", raced)
    assert disbursement.dispatch(lambda: True)["claimed"] == len(owed_now) - 1
    for payment in owed_now:
        found, attempts = payments.payment(payment.payment_id)
        assert found is not None and found.status is PaymentStatus.SENDING, payment.payment_id
        assert len(attempts) == 1, payment.payment_id


# --- exactly once under faults and crashes --------------------------------------------------------


class Killed(BaseException):
    """A Lambda that died mid-flight: nothing after this point ran, nothing caught it."""


@dataclass
class Crashes:
    """Kill the running function at `left` points chosen at random among the calls that change
    something: before or after a transaction commits, and after a partner accepted a transfer."""

    rng: random.Random
    left: int
    share: float
    points: list[str] = field(default_factory=list)

    def maybe(self, where: str) -> None:
        if self.left and self.rng.random() < self.share:
            self.left -= 1
            self.points.append(where)
            raise Killed(where)


def seeded_payees(count: int, seed: int) -> list[Participant]:
    """`count` registered people, written as the local stack's seeder writes them."""
    from chalicelib.core.settings import settings
    from devstack import seed as seeder

    tables = seeder.Tables(settings().table_name("participants"), settings().table_name("guards"))
    seeder.write(boto3.client("dynamodb"), seeder.generate(count, seed=seed), tables, threads=1)
    return [seeder.registration(person) for person in seeder.generate(count, seed=seed)]


def owe_directly(count: int, due: date) -> list[Payment]:
    """`count` payees spread over the four partners, each owed one incentive due on `due`."""
    people = seeded_payees(count, seed=7)
    numbers = {"BNI": "01234{:05d}", "OVO": "0812{:08d}", "GOPAY": "0813{:08d}", "LINKAJA": "0821{:08d}"}
    made = []
    for index, person in enumerate(people):
        partner_id = ("BNI", "OVO", "GOPAY", "LINKAJA")[index % 4]
        accounts.save_account(
            PaymentAccount(
                participant_id=person.participant_id,
                partner_id=partner_id,
                account_number=numbers[partner_id].format(index + 1),
                account_name="Penerima",
                verified=True,
                reason=None,
                linked_at=clock.now(),
            )
        )
        payment = Payment(
            payment_id=f"{person.participant_id}-INCENTIVE-1",
            participant_id=person.participant_id,
            kind=Kind.INCENTIVE,
            number=1,
            amount=600_000,
            due_date=due,
            province_code=person.province_code,
            partner_id=partner_id,
        )
        unit = UnitOfWork()
        payments.add_owed(unit, payment)
        unit.commit()
        made.append(payment)
    return made


def run_killable(client: Client, job: str) -> None:
    """A scheduled run, then its queues drained; a kill ends the run (or that message's
    invocation) where it struck, and a message whose invocation was killed is lost."""
    from tests.conftest import drain

    with contextlib.suppress(Killed):
        run_job(client, job)
    while True:
        try:
            drain(client)
            return
        except Killed:
            continue


def test_every_due_payment_is_paid_exactly_once_through_faults_and_crashes(
    client: Client,
    fake: FakePartners,
    callbacks: Callbacks,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The issue's figure at small N: 5% timeouts, 2% accept-then-time-out (here 25% and 15%, so
    a small run meets each case often, a timeout of the question after a timeout too), duplicate
    and late callbacks, one partner down for the first run, and the job killed at 5 random
    points; rerun until nothing is left: every payment paid exactly once on the partners'
    ledgers, nothing lost, and our totals equal theirs."""
    count = 60
    clock.set_now(datetime.fromisoformat("2021-08-01T09:00:00+07:00"))
    owed_now = owe_directly(count, date(2021, 8, 1))
    for seed_, partner_id in enumerate(("BNI", "OVO", "GOPAY", "LINKAJA")):
        fake.set_faults(
            partner_id,
            {"timeout": 0.25, "accept_then_timeout": 0.15, "duplicate_callback": 0.3, "late_callback": 0.2,
             "seed": seed_, "down": partner_id == "GOPAY"},
        )  # fmt: skip
    crashes = Crashes(random.Random(11), left=5, share=0.04)
    commit = UnitOfWork.commit
    send_transfer = partners.PartnerClient.send_transfer

    def killable_commit(self: UnitOfWork) -> None:
        crashes.maybe("before commit")
        commit(self)
        crashes.maybe("after commit")

    def killable_send(self: partners.PartnerClient, *args: Any, **kwargs: Any) -> Any:
        answer = send_transfer(self, *args, **kwargs)
        crashes.maybe("after the partner answered")
        return answer

    monkeypatch.setattr(UnitOfWork, "commit", killable_commit)
    monkeypatch.setattr(partners.PartnerClient, "send_transfer", killable_send)
    rerun_until_paid(
        client, fake, callbacks, owed_now, after_first=lambda: fake.set_faults("GOPAY", {"seed": 9})
    )
    assert crashes.left == 0, "fewer kills than asked: raise the share"
    assert_paid_exactly_once(fake, owed_now)
    stats = [
        client.http.get(f"/v1/stats/provinces/{code}").json_body
        for code in {p.province_code for p in owed_now}
    ]
    assert sum(figures["incentive_paid_amount"] for figures in stats) == 600_000 * count


def rerun_until_paid(
    client: Client,
    fake: FakePartners,
    callbacks: Callbacks,
    owed_now: list[Payment],
    after_first: Callable[[], object] = lambda: None,
) -> None:
    """The disbursement job and its queues, run again half an hour later until every payment is
    paid (a payment in flight is looked at again after at most 30 minutes)."""
    for round_ in range(40):
        run_killable(client, "disbursement")
        settled(fake, callbacks, client)
        if round_ == 0:
            after_first()
        states = [payments.payment(p.payment_id)[0] for p in owed_now]
        unpaid = [state for state in states if state is None or state.status.value not in PAID_STATES]
        if not unpaid:
            return
        clock.set_now(clock.now() + timedelta(minutes=31))
        partners.forget()  # half an hour on, every circuit breaker has tried its partner again
    pytest.fail(f"payments still unpaid: {unpaid}")


def assert_paid_exactly_once(fake: FakePartners, owed_now: list[Payment]) -> None:
    """Each payment completed once on its partner's ledger, and each partner's total ours."""
    completed: dict[str, int] = {}
    for partner_id in ("BNI", "OVO", "GOPAY", "LINKAJA"):
        theirs = 0
        for transfer in ledger(fake, partner_id):
            if transfer["status"] == "COMPLETED":
                entitlement = transfer["reference"].rpartition("-A")[0]
                completed[entitlement] = completed.get(entitlement, 0) + 1
                theirs += transfer["amount"]
        assert theirs == sum(p.amount for p in owed_now if p.partner_id == partner_id)
    assert sorted(completed) == sorted(p.payment_id for p in owed_now)
    assert set(completed.values()) == {1}


# --- reconciliation -----------------------------------------------------------------------------


def to_bucket(fake: FakePartners, changes: Callable[[str, bytes], bytes] = lambda key, data: data) -> None:
    """The partners' settlement files, as they would drop them into the programme's bucket."""
    import os
    import time

    time.sleep(0.1)
    fake.flush()
    s3 = boto3.client("s3")
    sink = fake.settlements
    assert isinstance(sink, MemorySink)
    for key, data in sink.files.items():
        s3.put_object(Bucket=os.environ["UPLOAD_BUCKET"], Key=key, Body=changes(key, data))


@pytest.fixture
def paid(
    client: Client, auth: TokenFactory, trained: list[str], fake: FakePartners, callbacks: Callbacks
) -> list[str]:
    """Two participants' first incentives paid on 17 June, through OVO."""
    ids = [ready(client, auth, account) for account in trained[:2]]
    clock.set_now(datetime.fromisoformat("2021-06-17T09:00:00+07:00"))
    run_job(client, "disbursement")
    settled(fake, callbacks, client)
    assert [payments.payments_of(i)[0].status for i in ids] == [PaymentStatus.PAID] * 2
    return ids


def first_payment(participant_id: str) -> Payment:
    return sorted(payments.payments_of(participant_id), key=lambda p: p.number)[0]


def test_reconciliation_matches_the_settlement_file_and_never_pays(
    client: Client, auth: TokenFactory, paid: list[str], fake: FakePartners
) -> None:
    to_bucket(fake)
    clock.set_now(datetime.fromisoformat("2021-06-17T23:00:00+07:00"))
    assert run_job(client, "reconciliation")["files"] == 0  # the day is not over
    clock.set_now(datetime.fromisoformat("2021-06-18T02:00:00+07:00"))
    summary = run_job(client, "reconciliation")
    assert (summary["files"], summary["reconciled"], summary["mismatches"]) == (1, 2, 0)
    assert [first_payment(i).status for i in paid] == [PaymentStatus.RECONCILED] * 2
    assert run_job(client, "reconciliation")["files"] == 0
    view = client.http.get("/v1/disbursements?date=2021-06-17", headers=auth("admin")).json_body
    ovo = view["partners"]["OVO"]
    assert (ovo["reconciled_count"], ovo["reconciled_amount"], ovo["paid_amount"]) == (
        2,
        1_200_000,
        1_200_000,
    )
    theirs = sum(t["amount"] for t in ledger(fake, "OVO") if t["status"] == "COMPLETED")
    assert theirs == ovo["reconciled_amount"]
    assert len(ledger(fake, "OVO")) == 2


def test_every_kind_of_mismatch_is_listed_and_nothing_is_paid_again(
    client: Client, auth: TokenFactory, paid: list[str], fake: FakePartners
) -> None:
    kept, dropped = first_payment(paid[0]), first_payment(paid[1])

    def doctored(key: str, data: bytes) -> bytes:
        lines = data.decode().splitlines()
        lines = [line for line in lines if not line.startswith(str(dropped.current_attempt))]
        lines = [line.replace(",600000,", ",650000,") if line.startswith(str(kept.current_attempt)) else line
                 for line in lines]  # fmt: skip
        lines.append("ffff-INCENTIVE-1-A1,T-999,600000,IDR,COMPLETED,2021-06-17T10:00:00+07:00")
        return ("\n".join(lines) + "\n").encode()

    to_bucket(fake, doctored)
    clock.set_now(datetime.fromisoformat("2021-06-18T02:00:00+07:00"))
    run_job(client, "reconciliation")
    view = client.http.get("/v1/disbursements?date=2021-06-17", headers=auth("admin")).json_body
    kinds = sorted((m["kind"], m["reference"]) for m in view["mismatches"])
    assert kinds == sorted(
        [
            ("AMOUNT_DIFFERS", kept.current_attempt),
            ("NOT_IN_FILE", dropped.current_attempt),
            ("NOT_RECORDED", "ffff-INCENTIVE-1-A1"),
        ]
    )
    assert [first_payment(i).status for i in paid] == [PaymentStatus.PAID] * 2
    assert len(ledger(fake, "OVO")) == 2
    report = (
        boto3.client("s3")
        .get_object(
            Bucket=__import__("os").environ["UPLOAD_BUCKET"], Key="reconciliation/OVO/2021-06-17.csv"
        )["Body"]
        .read()
        .decode()
    )
    assert "NOT_RECORDED" in report and "NIK" not in report


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data.replace(b"reference,", b"ref,", 1),
        lambda data: data.replace(b",600000,", b",600000.00,", 1),
        lambda data: data.replace(b",COMPLETED,", b",DONE,", 1),
        lambda data: data + b"a,b,c\n",
        lambda data: b"",
        lambda data: data.replace(b"IDR", b"\xff\xfe", 1),
    ],
)
def test_a_malformed_settlement_file_is_rejected_with_a_reason_and_changes_nothing(
    client: Client, auth: TokenFactory, paid: list[str], fake: FakePartners, damage: Callable[[bytes], bytes]
) -> None:
    to_bucket(fake, lambda key, data: damage(data))
    clock.set_now(datetime.fromisoformat("2021-06-18T02:00:00+07:00"))
    summary = run_job(client, "reconciliation")
    assert (summary["files"], summary["rejected"]) == (1, 1)
    view = client.http.get("/v1/disbursements?date=2021-06-17", headers=auth("admin")).json_body
    file = view["partners"]["OVO"]["settlement_file"]
    assert file["stage"] == "REJECTED" and file["reason"]
    assert view["mismatches"] == []
    assert [first_payment(i).status for i in paid] == [PaymentStatus.PAID] * 2
    to_bucket(fake)
    assert run_job(client, "reconciliation")["reconciled"] == 2


def test_a_stopped_reconciliation_goes_on_where_it_stopped(
    client: Client, auth: TokenFactory, paid: list[str], fake: FakePartners, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.incentives import reconciliation

    monkeypatch.setattr(reconciliation, "PAGE", 1)
    to_bucket(fake)
    clock.set_now(datetime.fromisoformat("2021-06-18T02:00:00+07:00"))
    first = reconciliation.reconcile(lambda: False)
    assert first.get("more") is True
    assert sorted(first_payment(i).status for i in paid) == [PaymentStatus.PAID, PaymentStatus.RECONCILED]
    second = reconciliation.reconcile(lambda: True)
    assert (second["files"], second["reconciled"], second["mismatches"]) == (1, 2, 0)
    assert [first_payment(i).status for i in paid] == [PaymentStatus.RECONCILED] * 2


# --- the participant record on the request path -----------------------------------------------------


def test_the_record_reads_a_bounded_number_of_payment_items(
    client: Client, auth: TokenFactory, trained: list[str], items_read: Callable[[str], int]
) -> None:
    """Four incentives and three survey rewards with a long history: /me reads the account and
    the payments, never the history."""
    from chalicelib.incentives import schedules

    participant_id = ready(client, auth, trained[0])
    for survey_round in (1, 2, 3):
        assert schedules.owe_survey_reward(participant_id, survey_round) is not None
    for survey_round in (0, 4):
        with pytest.raises(ValueError, match="no survey round"):
            schedules.owe_survey_reward(participant_id, survey_round)
    for payment in payments.payments_of(participant_id):
        for _ in range(3):
            unit = UnitOfWork()
            payments.add_history(unit, payment, payment.status, clock.now(), "test", {})
            unit.commit()
    before = items_read("payments")
    record = me(client, auth, trained[0])
    assert len(record["payments"]) == 7
    assert items_read("payments") - before == 8  # the account and the seven payments, no history


# --- re-payments: one admin asks, a second approves ------------------------------------------------


@pytest.fixture
def two_due(fake: FakePartners) -> list[Payment]:
    clock.set_now(datetime.fromisoformat("2021-08-01T09:00:00+07:00"))
    return owe_directly(2, date(2021, 8, 1))


@pytest.fixture
def held(two_due: list[Payment]) -> Payment:
    """A payment the partner refused as a request (not for the account): it waits for an admin."""
    from chalicelib.incentives import settling, transitions

    owed_now = two_due[0]
    assert settling.settle(owed_now, None, transitions.held(owed_now, "REFUSED_BAD_REQUEST"), clock.now())
    found, _ = payments.payment(owed_now.payment_id)
    assert found is not None and found.status is PaymentStatus.NEEDS_ACTION
    return found


def ask(client: Client, auth: TokenFactory, payment_id: str, admin: str = "admin-a") -> Any:
    return client.http.post(f"/v1/payments/{payment_id}/repayment", headers=auth("admin", sub=admin))


def decide(client: Client, auth: TokenFactory, approval_id: str, decision: str, admin: str) -> Any:
    return client.http.post(
        f"/v1/approvals/{approval_id}", headers=auth("admin", sub=admin), body=body({"decision": decision})
    )


def test_a_repayment_is_sent_once_a_second_admin_approves(
    client: Client, auth: TokenFactory, held: Payment, fake: FakePartners, callbacks: Callbacks
) -> None:
    asked = ask(client, auth, held.payment_id)
    assert (asked.status_code, asked.json_body["status"]) == (202, "PENDING")
    approval_id = asked.json_body["approval_id"]
    listed = client.http.get("/v1/approvals?status=PENDING", headers=auth("admin", sub="admin-b")).json_body
    assert [(a["approval_id"], a["amount"]) for a in listed["approvals"]] == [(approval_id, held.amount)]
    run_job(client, "disbursement")
    assert ledger(fake, held.partner_id or "") == [], "nothing is sent before the approval"

    same = decide(client, auth, approval_id, "APPROVE", "admin-a")
    assert (same.status_code, same.json_body["error"]["code"]) == (403, "SAME_ADMIN")
    approved = decide(client, auth, approval_id, "APPROVE", "admin-b")
    assert (approved.status_code, approved.json_body["status"]) == (200, "APPROVED")
    again = decide(client, auth, approval_id, "APPROVE", "admin-c")
    assert (again.status_code, again.json_body["error"]["code"]) == (409, "ALREADY_DECIDED")

    rerun_until_paid(client, fake, callbacks, [held])
    assert [t["amount"] for t in ledger(fake, held.partner_id or "")] == [held.amount]
    record = client.http.get(f"/v1/participants/{held.participant_id}", headers=auth("admin")).json_body
    assert record["payments"][0]["status"] == "PAID"
    assert client.http.get("/v1/approvals", headers=auth("admin")).json_body["approvals"] == []


def test_a_rejected_repayment_sends_nothing(
    client: Client, auth: TokenFactory, held: Payment, fake: FakePartners
) -> None:
    approval_id = ask(client, auth, held.payment_id).json_body["approval_id"]
    assert decide(client, auth, approval_id, "REJECT", "admin-b").json_body["status"] == "REJECTED"
    run_job(client, "disbursement")
    assert ledger(fake, held.partner_id or "") == []
    found, _ = payments.payment(held.payment_id)
    assert found is not None and found.status is PaymentStatus.NEEDS_ACTION
    rejected = client.http.get("/v1/approvals?status=REJECTED", headers=auth("admin")).json_body["approvals"]
    assert [(a["approval_id"], a["decided_by"]) for a in rejected] == [(approval_id, "admin-b")]


def test_an_approval_never_reopens_a_payment_that_moved_since_it_was_asked(
    client: Client, auth: TokenFactory, held: Payment
) -> None:
    from chalicelib.incentives import settling, transitions

    approval_id = ask(client, auth, held.payment_id).json_body["approval_id"]
    assert settling.settle(held, None, transitions.held(held, "REFUSED_OTHER"), clock.now())
    moved = decide(client, auth, approval_id, "APPROVE", "admin-b")
    assert (moved.status_code, moved.json_body["error"]["code"]) == (409, "PAYMENT_MOVED")
    pending = client.http.get("/v1/approvals", headers=auth("admin")).json_body["approvals"]
    assert [a["approval_id"] for a in pending] == [approval_id]


def test_a_repayment_is_refused_clearly(
    client: Client, auth: TokenFactory, held: Payment, two_due: list[Payment]
) -> None:
    from chalicelib.incentives import settling, transitions

    assert ask(client, auth, held.payment_id).status_code == 202
    twice = ask(client, auth, held.payment_id, admin="admin-b")
    assert (twice.status_code, twice.json_body["error"]["code"]) == (409, "ALREADY_REQUESTED")
    assert ask(client, auth, "nobody-INCENTIVE-1").json_body["error"]["code"] == "PAYMENT_NOT_FOUND"
    not_admin = client.http.post(
        f"/v1/payments/{held.payment_id}/repayment", headers=auth("office", province="31")
    )
    assert not_admin.status_code == 403
    due = two_due[1]
    assert ask(client, auth, due.payment_id).json_body["error"]["code"] == "NOT_NEEDS_ACTION"
    assert settling.settle(due, None, transitions.revoked(due), clock.now())
    assert ask(client, auth, due.payment_id).json_body["error"]["code"] == "NOT_REPAYABLE"
    unknown = decide(client, auth, "nothing-R0", "APPROVE", "admin-b")
    assert (unknown.status_code, unknown.json_body["error"]["code"]) == (404, "APPROVAL_NOT_FOUND")
    bad = client.http.get("/v1/approvals?status=MAYBE", headers=auth("admin"))
    assert bad.status_code == 422
