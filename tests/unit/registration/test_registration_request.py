"""`add_registration` builds its transaction without PynamoDB's models, for speed; what it sends must
be exactly what PynamoDB's `TransactWrite` would send for the same models and conditions."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from pynamodb.constants import ALL_OLD
from pynamodb.transactions import TransactWrite

from chalicelib.core import storage
from chalicelib.registration.model import Participant, Verification
from chalicelib.registration.stores import participants, registrations


class RecordingConnection:
    """Stands in for PynamoDB's `Connection`: keeps each transaction's arguments, sends nothing."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def transact_write_items(self, **arguments: Any) -> dict[str, Any]:
        self.sent.append({name: list(value) for name, value in arguments.items() if name.endswith("_items")})
        return {}


def _participant(**changes: Any) -> Participant:
    participant = Participant(
        participant_id="5f0c3a2e9b7d4c1a8e6f2d0b4a9c7e31",
        nik="3171100101900001",
        kk_number="3171230101000000",
        full_name="Siti Rahayu",
        birth_date=date(1990, 1, 1),
        gender="F",
        email="siti@example.id",
        phone="+6281200000000",
        province_code="31",
        regency_code="3171",
        education="SMA",
        employment_status="UNEMPLOYED",
        declarations={"student": False, "civil_servant": False},
        registered_at=datetime(2026, 11, 23, 6, 30, 15, 123456, tzinfo=UTC),
        registered_by="account-1",
        channel="ONLINE",
        fingerprint="REGISTRATION#abc",
    )
    return replace(participant, **changes)


def _with_models(participant: Participant, connection: RecordingConnection) -> None:
    """The transaction as it was written before: PynamoDB's models and `TransactWrite`."""
    record, *guards = participants.registration_items(participant)
    with TransactWrite(connection=connection) as transaction:
        transaction.save(
            record, condition=participants.ProfileRecord.pk.does_not_exist(), return_values=ALL_OLD
        )
        for guard in guards:
            transaction.save(guard, condition=participants.GuardRecord.pk.does_not_exist())


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"email": None},
        {"verification": Verification.NIK_VERIFIED},
        {"wave_id": "2026-W1", "cohorts": ("PRIORITY",)},
        {"registered_at": datetime(2026, 11, 23, 13, 30, tzinfo=timezone(timedelta(hours=7)))},
        {"full_name": "Ni Luh Putu Ayu’s", "declarations": {}},
    ],
    ids=["online", "no-email", "verified", "in-a-wave", "jakarta-time", "unusual-values"],
)
def test_a_registration_sends_what_pynamodb_would_send(
    changes: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    participant = _participant(**changes)
    direct, with_models = RecordingConnection(), RecordingConnection()
    monkeypatch.setattr(storage, "connection", lambda: direct)

    registrations.add_registration(participant)
    _with_models(participant, with_models)

    assert direct.sent == with_models.sent
    assert len(direct.sent[0]["put_items"]) == 4 - (participant.email is None)


def test_a_required_attribute_left_empty_is_refused_before_sending(monkeypatch: pytest.MonkeyPatch) -> None:
    connection = RecordingConnection()
    monkeypatch.setattr(storage, "connection", lambda: connection)

    with pytest.raises(ValueError, match="phone"):
        registrations.add_registration(_participant(phone=None))

    assert connection.sent == []


def test_an_attribute_the_model_does_not_have_is_refused() -> None:
    with pytest.raises(ValueError, match="nickname"):
        participants.item(participants.GuardRecord, {"pk": "NIK#x", "nickname": "Siti"})
