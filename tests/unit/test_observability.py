"""Personal data never reaches a log line, however it gets there."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.core.observability import logger, mask, scrub
from tests.unit.registration.test_registration_request import _participant

PARTICIPANT = {
    "participant_id": "p-123",
    "nik": "3171234501900001",
    "kk_number": "3171230101090001",
    "full_name": "Siti Rahayu",
    "birth_date": "1990-01-05",
    "email": "siti@example.id",
    "phone": "+6281234567890",
    "payment_account": {"partner_id": "BNI", "account_number": "0123456789", "account_name": "Siti Rahayu"},
}
SECRETS = [
    "3171234501900001",
    "3171230101090001",
    "Siti Rahayu",
    "siti@example.id",
    "81234567890",
    "0123456789",
]


@pytest.fixture
def logged() -> Iterator[io.StringIO]:
    """What the service logger writes, as CloudWatch would receive it."""
    buffer = io.StringIO()
    handler = logger.registered_handler
    original = handler.setStream(buffer)  # type: ignore[attr-defined]
    yield buffer
    handler.setStream(original)  # type: ignore[attr-defined]


def test_a_logged_participant_shows_none_of_its_personal_data(logged: io.StringIO) -> None:
    logger.info("registered", extra={"participant": PARTICIPANT})
    line = logged.getvalue()
    assert json.loads(line)["participant"]["participant_id"] == "p-123"
    for secret in SECRETS:
        assert secret not in line
    assert "************0001" in line


def test_a_logged_participant_record_is_masked_field_by_field(logged: io.StringIO) -> None:
    participant = _participant(
        participant_id="p-123",
        nik="3171234501900001",
        kk_number="3171230101090001",
        birth_date=date(1990, 1, 5),
        phone="+6281234567890",
    )
    logger.info("registered", extra={"participant": participant, "row": [3171234501900001]})
    line = logged.getvalue()
    assert json.loads(line)["participant"]["participant_id"] == "p-123"
    for secret in [*SECRETS, "1990-01-05", "1990, 1, 5"]:
        assert secret not in line


def test_personal_data_in_a_message_or_an_exception_is_scrubbed(logged: io.StringIO) -> None:
    try:
        raise ValueError("duplicate 3171234501900001 siti@example.id 081234567890 acct 0123456789")
    except ValueError:
        logger.exception("failed for %s", "+6281234567890")
    line = logged.getvalue()
    assert "ValueError" in line
    for secret in ["3171234501900001", "siti@example.id", "81234567890", "0123456789"]:
        assert secret not in line


@given(st.from_regex(r"\d{16}", fullmatch=True), st.text(max_size=20))
def test_any_nik_inside_any_text_is_masked(nik: str, around: str) -> None:
    assert nik not in scrub(f"{around}{nik}{around}") or nik in around


def test_mask_keeps_only_the_last_four() -> None:
    assert mask("3171234501900001") == "************0001"
    assert mask("123") == "***"
