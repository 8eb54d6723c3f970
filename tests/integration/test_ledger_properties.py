"""The ledger's invariants, whatever happens in whatever order (issue 14, "Ledger invariants"):
schedules owed again, survey rewards, accounts relinked, partners failing, callbacks repeated,
time passing, reconciliation run; then, once the partners are healthy and everything settled:

- per participant, incentives paid at most 4 × Rp600,000 and survey rewards at most 3 × Rp50,000;
- per entitlement, at most one completed transfer on the partners' ledgers, and one exactly when
  the programme recorded it paid;
- per partner and day, what the programme reconciled equals what the partner's ledger completed.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from chalice.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.core import clock
from chalicelib.core.errors import ServiceUnavailable
from chalicelib.core.settings import programme
from chalicelib.incentives import accounts as linking
from chalicelib.incentives import partners, schedules
from chalicelib.incentives.model import Kind, Payment, PaymentStatus
from chalicelib.incentives.schemas import AccountRequest
from chalicelib.incentives.stores import payments
from chalicelib.incentives.stores.payments import paid_day
from chalicelib.registration.model import Participant
from devstack.partners import FakePartners
from tests.conftest import run_job
from tests.integration.conftest import Callbacks
from tests.integration.test_incentives import (
    ledger,
    rerun_until_paid,
    seeded_payees,
    settled,
    to_bucket,
)

PARTNERS = ("BNI", "OVO", "GOPAY", "LINKAJA")
NUMBERS = {"BNI": "0123456789", "OVO": "081234567891", "GOPAY": "081234567892", "LINKAJA": "081234567893"}
STEPS = st.lists(
    st.one_of(
        st.just(("disburse",)),
        st.just(("callbacks",)),
        st.just(("replay",)),
        st.just(("half_hour",)),
        st.just(("month",)),
        st.just(("owe_again",)),
        st.tuples(st.just("survey"), st.integers(1, 3)),
        st.tuples(st.just("relink"), st.sampled_from(PARTNERS)),
        st.tuples(
            st.just("faults"), st.sampled_from(PARTNERS), st.sampled_from(["timeout", "down", "accept"])
        ),
        st.just(("reconcile",)),
    ),
    min_size=4,
    max_size=14,
)
_SEEDS = itertools.count(100)


@pytest.fixture
def rated(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every payee here has a rated completion: the schedule is made by the real use case."""
    from chalicelib.training import service as training

    monkeypatch.setattr(training, "rated_completion", lambda participant_id: True)


def _reconcile(client: Client, fake: FakePartners) -> None:
    """The settlement files in the bucket, and reconciliation run at 02:00 the next day."""
    to_bucket(fake)
    day = clock.now().astimezone(programme().timezone).date() + timedelta(days=1)
    clock.set_now(datetime.fromisoformat(f"{day.isoformat()}T02:00:00+07:00"))
    run_job(client, "reconciliation")


def link(payee: Participant, partner_id: str) -> None:
    """Link an account at `partner_id`; a partner that is down refuses it (503), as it should."""
    request = AccountRequest(
        partner_id=partner_id, account_number=NUMBERS[partner_id], account_name="Penerima"
    )
    with contextlib.suppress(ServiceUnavailable):
        linking.link_account(payee.registered_by, request)


FAULTS: dict[str, dict[str, Any]] = {
    "timeout": {"timeout": 0.5},
    "down": {"down": True},
    "accept": {"accept_then_timeout": 0.5},
}
Step = Callable[[tuple[Any, ...], Client, FakePartners, Callbacks, list[Participant]], object]
ACTIONS: dict[str, Step] = {
    "disburse": lambda step, client, fake, callbacks, payees: run_job(client, "disbursement"),
    "callbacks": lambda step, client, fake, callbacks, payees: settled(fake, callbacks, client),
    "replay": lambda step, client, fake, callbacks, payees: callbacks.replay(client),
    "half_hour": lambda step, client, fake, callbacks, payees: clock.set_now(
        clock.now() + timedelta(minutes=31)
    ),
    "month": lambda step, client, fake, callbacks, payees: clock.set_now(clock.now() + timedelta(days=32)),
    "owe_again": lambda step, client, fake, callbacks, payees: [
        schedules.owe_incentives(payee.participant_id) for payee in payees
    ],
    "survey": lambda step, client, fake, callbacks, payees: [
        schedules.owe_survey_reward(payee.participant_id, step[1]) for payee in payees
    ],
    "relink": lambda step, client, fake, callbacks, payees: link(payees[0], step[1]),
    "faults": lambda step, client, fake, callbacks, payees: fake.set_faults(
        step[1], {**FAULTS[step[2]], "seed": next(_SEEDS)}
    ),
    "reconcile": lambda step, client, fake, callbacks, payees: _reconcile(client, fake),
}


def owed_to(payees: list[Participant]) -> list[Payment]:
    return [payment for payee in payees for payment in payments.payments_of(payee.participant_id)]


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=STEPS)
def test_the_ledger_invariants_hold_whatever_happens(
    client: Client, fake: FakePartners, callbacks: Callbacks, rated: None, steps: list[tuple[Any, ...]]
) -> None:
    clock.set_now(datetime.fromisoformat("2021-08-01T09:00:00+07:00"))
    partners.forget()
    payees = seeded_payees(2, seed=next(_SEEDS))
    for payee in payees:
        link(payee, "OVO")
        assert schedules.owe_incentives(payee.participant_id) == 4
    for step in steps:
        ACTIONS[step[0]](step, client, fake, callbacks, payees)
    for partner_id in PARTNERS:
        fake.set_faults(partner_id, {})
    clock.set_now(clock.now() + timedelta(days=150))
    partners.forget()
    due = [payment for payment in owed_to(payees) if payment.status is not PaymentStatus.NEEDS_ACTION]
    rerun_until_paid(client, fake, callbacks, due)
    _reconcile(client, fake)
    owed = owed_to(payees)
    assert_within_the_programmes_amounts(owed, payees)
    assert_the_ledgers_agree(owed, fake)


def assert_within_the_programmes_amounts(owed: list[Payment], payees: list[Participant]) -> None:
    rules = programme()
    caps = {
        Kind.INCENTIVE: rules.incentive_months * rules.incentive_amount,
        Kind.SURVEY: rules.survey_count * rules.survey_reward,
    }
    for payee in payees:
        for kind, cap in caps.items():
            owed_here = [p for p in owed if p.participant_id == payee.participant_id and p.kind is kind]
            assert sum(p.amount for p in owed_here) <= cap
            assert sum(p.amount for p in owed_here if p.status is PaymentStatus.RECONCILED) <= cap


def assert_the_ledgers_agree(owed: list[Payment], fake: FakePartners) -> None:
    """One completed transfer per paid entitlement and none for the rest; every paid one
    reconciled; per partner and day, what we reconciled is what the partner completed."""
    ours = {payment.payment_id: payment for payment in owed}
    paid = {p.payment_id for p in owed if p.status in (PaymentStatus.PAID, PaymentStatus.RECONCILED)}
    assert all(ours[payment_id].status is PaymentStatus.RECONCILED for payment_id in paid)
    completed: dict[str, int] = {}
    ours_by_day: dict[tuple[str, str], int] = {}
    theirs_by_day: dict[tuple[str, str], int] = {}
    for payment_id in paid:
        payment = ours[payment_id]
        assert payment.paid_at is not None and payment.partner_id is not None
        key = (payment.partner_id, paid_day(payment.paid_at).isoformat())
        ours_by_day[key] = ours_by_day.get(key, 0) + payment.amount
    for partner_id in PARTNERS:
        for transfer in ledger(fake, partner_id):
            entitlement = transfer["reference"].rpartition("-A")[0]
            if entitlement not in ours or transfer["status"] != "COMPLETED":
                continue
            completed[entitlement] = completed.get(entitlement, 0) + 1
            key = (partner_id, transfer["settled_at"][:10])
            theirs_by_day[key] = theirs_by_day.get(key, 0) + transfer["amount"]
    assert set(completed.values()) <= {1}
    assert set(completed) == paid
    assert ours_by_day == theirs_by_day
