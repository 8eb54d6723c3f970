"""The partners' client without a partner: account shapes, signatures, how answers are read, the
pause between resends, configuration."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from hypothesis import given
from hypothesis import strategies as st
from moto import mock_aws

from chalicelib.incentives.partners import (
    PARTNERS,
    AccountCheck,
    AccountStatus,
    CallbackStatus,
    PartnerNotConfigured,
    Transfer,
    TransferStatus,
    UnknownPartner,
    Unreadable,
    account_number_hint,
    read_callback,
    valid_account_number,
    verify_callback,
)
from chalicelib.incentives.partners.client import MAX_PAUSE_SECONDS, backoff, base_url
from chalicelib.incentives.partners.secrets import partner_secret
from chalicelib.incentives.partners.signing import holds, signed_headers

SECRETS = {partner_id: f"secret-of-{partner_id}" for partner_id in PARTNERS}
NOW = 1_700_000_000.0


@pytest.fixture
def secrets(configure: Callable[..., None]) -> None:
    configure(PARTNER_SECRETS=json.dumps(SECRETS))


def independent_signature(secret: str, timestamp: str, body: bytes) -> str:
    """The protocol's signature written out by hand, so the shared code cannot agree with itself."""
    return "sha256=" + hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


# Accounts


@pytest.mark.parametrize(
    ("partner_id", "number", "valid"),
    [
        ("BNI", "0123456789", True),
        ("BNI", "012345678", False),
        ("BNI", "01234567890", False),
        ("BNI", "081234567890", False),
        ("OVO", "081234567890", True),
        ("GOPAY", "0812345678", True),
        ("LINKAJA", "0812345678901", True),
        ("OVO", "08123456789012", False),
        ("OVO", "081234567", False),
        ("OVO", "6281234567890", False),
        ("GOPAY", "+6281234567890", False),
        ("OVO", "٠٨١٢٣٤٥٦٧٨٩٠", False),
    ],
)
def test_an_account_number_has_its_partners_shape(partner_id: str, number: str, valid: bool) -> None:
    assert valid_account_number(partner_id, number) is valid


@given(st.sampled_from(["OVO", "GOPAY", "LINKAJA"]), st.integers(8, 11), st.data())
def test_every_phone_number_written_08_of_10_to_13_digits_is_an_e_wallet_account(
    partner_id: str, rest: int, data: st.DataObject
) -> None:
    digits = data.draw(st.text("0123456789", min_size=rest, max_size=rest))

    assert valid_account_number(partner_id, "08" + digits)
    assert not valid_account_number("BNI", "08" + digits) or len(digits) == 8


@given(st.text(max_size=20))
def test_no_text_but_ten_ascii_digits_is_a_bni_account(number: str) -> None:
    expected = len(number) == 10 and all(character in "0123456789" for character in number)

    assert valid_account_number("BNI", number) is expected


def test_an_unknown_partner_is_refused_by_name() -> None:
    with pytest.raises(UnknownPartner, match="BCA"):
        valid_account_number("BCA", "0123456789")
    with pytest.raises(UnknownPartner):
        account_number_hint("bni")


def test_each_partner_has_a_hint_in_indonesian() -> None:
    assert "10 angka" in account_number_hint("BNI")
    assert "08" in account_number_hint("OVO")


# Signatures


def test_a_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    body = b'{"amount":600000}'

    headers = signed_headers(b"secret-of-BNI", body, NOW)

    assert headers == {
        "X-Timestamp": "1700000000",
        "X-Signature": independent_signature("secret-of-BNI", "1700000000", body),
    }


def test_a_signature_holds_with_any_header_case_and_within_300_seconds() -> None:
    body = b"{}"
    headers = {name.lower(): value for name, value in signed_headers(b"k", body, NOW).items()}

    assert holds(b"k", headers, body, NOW + 300)
    assert holds(b"k", headers, body, NOW - 300)
    assert not holds(b"k", headers, body, NOW + 301)
    assert not holds(b"k", headers, body, NOW - 301)


@pytest.mark.parametrize(
    "spoil",
    [
        lambda headers, body: ({**headers, "X-Signature": headers["X-Signature"].upper()}, body),
        lambda headers, body: ({**headers, "X-Signature": headers["X-Signature"][7:]}, body),
        lambda headers, body: ({**headers, "X-Timestamp": str(int(NOW) + 1)}, body),
        lambda headers, body: ({**headers, "X-Timestamp": "-1700000000"}, body),
        lambda headers, body: ({**headers, "X-Timestamp": "１７００００００００"}, body),
        lambda headers, body: ({**headers, "X-Signature": "sha256=ü"}, body),
        lambda headers, body: ({"X-Timestamp": headers["X-Timestamp"]}, body),
        lambda headers, body: ({"X-Signature": headers["X-Signature"]}, body),
        lambda headers, body: (headers, body + b" "),
        lambda headers, body: (headers, body.replace(b"600000", b"900000")),
    ],
)
def test_a_spoiled_signature_does_not_hold(
    spoil: Callable[[dict[str, str], bytes], tuple[dict[str, str], bytes]],
) -> None:
    body = b'{"amount":600000}'
    headers, sent = spoil(signed_headers(b"k", body, NOW), body)

    assert not holds(b"k", headers, sent, NOW)


@pytest.mark.usefixtures("secrets")
def test_a_callback_holds_only_under_its_own_partners_secret() -> None:
    body = b'{"status":"PAID"}'
    timestamp = str(int(time.time()))
    headers = {
        "X-Timestamp": timestamp,
        "X-Signature": independent_signature("secret-of-OVO", timestamp, body),
    }

    assert verify_callback("OVO", headers, body, time.time())
    assert verify_callback("OVO", headers, body, datetime.now(UTC))
    assert not verify_callback("GOPAY", headers, body, time.time())
    assert not verify_callback("OVO", headers, body + b"\n", time.time())
    assert not verify_callback("OVO", headers, body, time.time() + 301)
    assert not verify_callback("BCA", headers, body, time.time())


def test_a_callback_is_refused_when_no_secret_is_configured(configure: Callable[..., None]) -> None:
    configure(PARTNER_SECRETS=json.dumps({"BNI": "only-bni"}))
    body = b"{}"

    assert not verify_callback("OVO", signed_headers(b"", body, time.time()), body, time.time())


# Secrets


@pytest.mark.usefixtures("secrets")
def test_local_secrets_come_from_the_json_map() -> None:
    assert partner_secret("LINKAJA") == b"secret-of-LINKAJA"


def test_no_secret_anywhere_is_not_configured(configure: Callable[..., None]) -> None:
    configure(PARTNER_SECRETS="not json")

    with pytest.raises(PartnerNotConfigured):
        partner_secret("BNI")


def test_in_aws_the_secrets_come_from_secrets_manager(
    configure: Callable[..., None], monkeypatch: pytest.MonkeyPatch
) -> None:
    from aws_lambda_powertools.utilities import parameters

    monkeypatch.delenv("PARTNER_SECRETS", raising=False)
    configure(PARTNER_SECRETS_ID="prakerja/test/partners")
    parameters.clear_caches()  # type: ignore[no-untyped-call]
    with mock_aws():
        boto3.client("secretsmanager").create_secret(
            Name="prakerja/test/partners", SecretString=json.dumps({"BNI": "from-secrets-manager"})
        )

        assert partner_secret("BNI") == b"from-secrets-manager"
        with pytest.raises(PartnerNotConfigured):
            partner_secret("OVO")
    parameters.clear_caches()  # type: ignore[no-untyped-call]


def test_a_secret_that_cannot_be_read_is_not_configured(configure: Callable[..., None]) -> None:
    from aws_lambda_powertools.utilities import parameters

    configure(PARTNER_SECRETS_ID="prakerja/test/missing")
    parameters.clear_caches()  # type: ignore[no-untyped-call]
    with mock_aws(), pytest.raises(PartnerNotConfigured, match="unreadable"):
        partner_secret("BNI")


# Base URLs


@pytest.mark.parametrize(
    ("configured", "expected"),
    [
        ("http://127.0.0.1:8090/{partner_id}", "http://127.0.0.1:8090/OVO"),
        (
            '{"OVO": "https://ovo.example/disburse", "BNI": "https://bni.example"}',
            "https://ovo.example/disburse",
        ),
        ('{"BNI": "https://bni.example"}', ""),
        ("http://one-host-for-all", ""),
        ("", ""),
        ("{partner_id}", "OVO"),
    ],
)
def test_the_base_url_is_a_template_or_a_map(configured: str, expected: str) -> None:
    assert base_url(configured, "OVO") == expected


# Answers


def transfer_answer(**changes: Any) -> dict[str, Any]:
    answer = {
        "transfer_id": "T-1",
        "reference": "p-INCENTIVE-1-A1",
        "status": "ACCEPTED",
        "reason": None,
        "amount": 600000,
        "created_at": "2021-08-01T10:00:00+07:00",
    }
    return {**answer, **changes}


@pytest.mark.parametrize("status", ["ACCEPTED", "COMPLETED", "FAILED"])
def test_a_known_transfer_status_is_read_as_it_is(status: str) -> None:
    assert Transfer.of(transfer_answer(status=status)).status is TransferStatus(status)


@pytest.mark.parametrize("status", ["SETTLING", "PAID", "SUCCESS", "completed", ""])
def test_an_unknown_transfer_status_is_unknown_never_a_success(status: str) -> None:
    transfer = Transfer.of(transfer_answer(status=status))

    assert transfer.status is TransferStatus.UNKNOWN
    assert not transfer.final
    assert transfer.partner_status == status


@pytest.mark.parametrize(
    "answer",
    [
        None,
        [],
        transfer_answer(transfer_id=None),
        transfer_answer(amount="600000"),
        transfer_answer(amount=True),
        transfer_answer(status=None),
    ],
)
def test_a_transfer_without_its_fields_is_unreadable(answer: Any) -> None:
    with pytest.raises(Unreadable):
        Transfer.of(answer)


def test_an_odd_creation_time_does_not_cost_the_transfer() -> None:
    assert Transfer.of(transfer_answer(created_at="yesterday")).created_at is None
    assert Transfer.of(transfer_answer(created_at="2021-08-01T10:00:00")).created_at is None


def test_an_account_check_keeps_the_holders_name_out_of_its_repr() -> None:
    check = AccountCheck.of({"status": "VERIFIED", "account_holder": "Siti Rahayu"})

    assert check.verified
    assert check.account_holder == "Siti Rahayu"
    assert "Siti" not in repr(check)
    assert AccountCheck.of({"status": "ON_HOLD"}).status is AccountStatus.UNKNOWN
    assert not AccountCheck.of({"status": "ON_HOLD"}).verified
    with pytest.raises(Unreadable):
        AccountCheck.of({"reason": "NOT_FOUND"})


def test_a_callback_is_read_with_unknown_statuses_kept_unknown() -> None:
    body = {
        "status": "PAID",
        "reference": "p-INCENTIVE-1-A1",
        "transfer_id": "T-1",
        "amount": 600000,
        "currency": "IDR",
        "reason": None,
        "settled_at": "2021-08-01T10:00:05+07:00",
    }

    paid = read_callback(json.dumps(body).encode())
    odd = read_callback(json.dumps({**body, "status": "SETTLED"}).encode())

    assert (paid.status, paid.amount, paid.settled_at) == (
        CallbackStatus.PAID,
        600000,
        datetime.fromisoformat("2021-08-01T10:00:05+07:00"),
    )
    assert odd.status is CallbackStatus.UNKNOWN
    for broken in (
        b"[",
        b"[]",
        json.dumps({**body, "amount": 1.5}).encode(),
        json.dumps({**body, "currency": None}).encode(),
    ):
        with pytest.raises(Unreadable):
            read_callback(broken)


# Backoff


@given(st.integers(0, 10), st.floats(0, 2), st.none() | st.floats(0, 100))
def test_a_pause_is_jittered_within_its_bounds(attempt: int, base: float, retry_after: float | None) -> None:
    pause = backoff(attempt, base, retry_after)

    assert 0 <= pause <= MAX_PAUSE_SECONDS
    assert pause <= max(base * 2**attempt, retry_after or 0)
    if retry_after is not None:
        assert pause >= min(retry_after, MAX_PAUSE_SECONDS)


def test_pauses_grow_and_differ() -> None:
    first = [backoff(0, 0.1) for _ in range(50)]
    third = [backoff(3, 0.1) for _ in range(50)]

    assert len(set(first)) > 1
    assert max(first) <= 0.1 < max(third) <= 0.8
