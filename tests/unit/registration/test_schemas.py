"""The registration body's checks that are cheaper than they look, and still as strict."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from chalicelib.registration.schemas import indonesian_mobile


def _accepted_by_the_full_check(value: str) -> str | None:
    """The phone rule spelled out in full: an Indonesian number, valid, and a mobile one."""
    text = value.strip()
    if text.startswith("62"):
        text = "+" + text
    try:
        number = phonenumbers.parse(text, "ID")
    except phonenumbers.NumberParseException:
        return None
    if (
        phonenumbers.region_code_for_number(number) != "ID"
        or not phonenumbers.is_valid_number(number)
        or phonenumbers.number_type(number) != phonenumbers.PhoneNumberType.MOBILE
    ):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _accepted(value: str) -> str | None:
    try:
        return indonesian_mobile(value)
    except ValueError:
        return None


PREFIXES = st.sampled_from(["08", "628", "+628", "02", "6221", "+6221", "+65", "+1", "8", "0", ""])


@settings(max_examples=2000)
@given(prefix=PREFIXES, digits=st.text(alphabet="0123456789", min_size=0, max_size=14))
@example(prefix="08", digits="1200000000")
@example(prefix="+6221", digits="5550123")
def test_the_phone_check_accepts_exactly_what_the_full_check_accepts(prefix: str, digits: str) -> None:
    assert _accepted(prefix + digits) == _accepted_by_the_full_check(prefix + digits)


@pytest.mark.parametrize("landline", ["0215550123", "+62215550123", "62215550123"])
def test_a_jakarta_landline_is_not_a_mobile(landline: str) -> None:
    assert _accepted(landline) is None
