"""The balance's invariant over random sequences of purchases, completions and revocations.

For every participant, at every step: balance = initial − sum of their purchases, and once
revoked, what was returned to the programme is exactly what was left. The balance never goes
below zero, and the province's counters agree with the participants' own records.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.core import clock
from chalicelib.core import counters as stats
from chalicelib.core.errors import DomainError
from chalicelib.registration import selection
from chalicelib.registration import service as registration
from chalicelib.registration.model import Event, Participant, Status, Verification
from chalicelib.registration.stores import ledger, registrations
from chalicelib.registration.stores import selection as selection_store
from chalicelib.training import service as training
from chalicelib.training.schemas import CompletionRequest, CourseRequest

PRICES = {"P1": 150_000, "P2": 300_000, "P3": 400_000, "P4": 550_000, "P5": 700_000}
INITIAL = 1_000_000
PEOPLE = 3
NOW = datetime.fromisoformat("2021-06-10T10:00:00+07:00")
_serial = itertools.count(1)

Step = tuple[str, int, str]
steps = st.lists(
    st.tuples(
        st.sampled_from(["buy", "buy", "buy", "complete", "revoke"]),
        st.integers(0, PEOPLE - 1),
        st.sampled_from(sorted(PRICES)),
    ),
    max_size=14,
)


def _selected_participant(number: int) -> str:
    """A participant as selection leaves them, written through the registration store's own functions."""
    account = f"prop-{number}"
    participant = Participant(
        participant_id=registration.participant_id_for(account),
        nik=f"3171230101{number % 100:02d}{number:04d}"[:16],
        kk_number=f"3171230101{number:06d}",
        full_name="Budi Santoso",
        birth_date=date(2001, 1, 1),
        gender="M",
        email=None,
        phone=f"+62812{number:08d}",
        province_code="31",
        regency_code="3171",
        education="SMA",
        employment_status="UNEMPLOYED",
        declarations={},
        registered_at=NOW,
        registered_by=account,
        channel="ONLINE",
        fingerprint="-",
        status=Status.APPLIED,
        verification=Verification.NIK_VERIFIED,
        wave_id="W1",
    )
    registrations.add_registration(participant)
    event = Event(NOW, "selection", "SELECTED", "APPLIED", "SELECTED", details={"wave_id": "W1"})
    decision = selection.Decision(
        participant,
        True,
        None,
        event,
        balance=INITIAL,
        purchase_deadline=selection.purchase_deadline(NOW),
        balance_expires_at=selection.balance_expiry(NOW),
    )
    assert selection_store.DynamoSelectionStore().record_selection(decision, family_cap=2)
    return account


@pytest.fixture
def catalogue(aws: None) -> Iterator[None]:
    clock.set_now(NOW)
    for course_id, price in PRICES.items():
        request = CourseRequest(title="Kursus", institution="Lembaga", category="UMUM", price=price, hours=4)
        training.publish_course("PLATFORM", course_id, request)
    yield
    clock.set_now(None)


def _returned(participant_id: str) -> int:
    return sum(
        int(event.details.get("returned_balance", 0))
        for event in ledger.events(participant_id)
        if event.action == "REVOKED"
    )


def _apply(step: Step, accounts: list[str]) -> None:
    action, person, course_id = step
    account = accounts[person]
    participant_id = registration.participant_id_for(account)
    if action == "buy":
        training.buy(account, course_id, PRICES[course_id])
    elif action == "revoke":
        training.revoke(participant_id, "admin-1", "FRAUD", "pemeriksaan acak")
    else:
        bought = [
            purchase for purchase in training.purchases_of(participant_id) if purchase.course_id == course_id
        ]
        if bought:
            request = CompletionRequest(
                purchase_id=bought[0].purchase_id,
                completed_at=NOW + timedelta(minutes=1),
                certificate_no="C-1",
            )
            training.complete("PLATFORM", request)


def _check(participant_id: str) -> None:
    participant = registration.participant(participant_id)
    spent = sum(purchase.price for purchase in training.purchases_of(participant_id))
    balance = participant.balance
    assert balance is not None and balance >= 0
    assert balance + _returned(participant_id) == INITIAL - spent
    if participant.status is Status.REVOKED:
        assert balance == 0


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps)
def test_balance_is_initial_minus_purchases_and_never_negative(catalogue: Any, sequence: list[Step]) -> None:
    accounts = [_selected_participant(next(_serial)) for _ in range(PEOPLE)]
    ids = [registration.participant_id_for(account) for account in accounts]
    spent_before, _ = stats.totals(stats.province_scope("31"), training.FIGURES)
    for step in sequence:
        with contextlib.suppress(DomainError):
            _apply(step, accounts)
        _check(ids[step[1]])
    for participant_id in ids:
        _check(participant_id)
    spent_after, _ = stats.totals(stats.province_scope("31"), training.FIGURES)
    spent = sum(
        purchase.price for participant_id in ids for purchase in training.purchases_of(participant_id)
    )
    assert spent_after["training_spent"] - spent_before["training_spent"] == spent
    returned = sum(_returned(participant_id) for participant_id in ids)
    assert spent_after["returned_balance"] - spent_before["returned_balance"] == returned
