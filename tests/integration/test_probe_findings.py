"""What an outside probe of the running stack broke, one test per finding (issue 11), each named
after the case it protects."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.core import clock
from chalicelib.core.settings import settings
from chalicelib.registration import service
from tests.conftest import ISSUER, TokenFactory, body, run_job
from tests.integration.test_import_processing import HEADER, ROW, notify, status, upload
from tests.integration.test_registration import SITI, error_of, register
from tests.integration.test_training import buy, market, me, publish, sweep

__all__ = ["market"]  # the fixture


def _segment(value: Any) -> str:
    return base64.urlsafe_b64encode(
        value if isinstance(value, bytes) else json.dumps(value).encode()
    ).decode()


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


# --- 1: a token header of deeply nested JSON -----------------------------------------------------


@pytest.mark.parametrize("depth", [650, 5000])
def test_a_token_whose_header_is_deeply_nested_json_is_401(client: Client, depth: int) -> None:
    token = f"{_segment(nested(depth)).rstrip('=')}.e30.c2ln"
    for path in ("/v1/participants/me", "/v1/imports/x"):
        response = client.http.get(path, headers={"Authorization": f"Bearer {token}"})
        assert error_of(response) == (401, "UNAUTHENTICATED")


def test_an_oversized_token_is_401_before_it_is_decoded(client: Client) -> None:
    token = ISSUER.token({"role": "admin", "sub": "a", "padding": "x" * 20_000})
    response = client.http.get("/v1/participants/me", headers={"Authorization": f"Bearer {token}"})
    assert error_of(response) == (401, "UNAUTHENTICATED")


# --- 2: a cursor of deeply nested JSON, or forged -------------------------------------------------


@pytest.mark.parametrize(
    "cursor",
    [
        _segment(nested(650)),
        _segment(nested(100_000)),
        _segment({"after": "C1"}),
        _segment({"after": ["C1"]}),
        "x" * 5000,
    ],
    ids=["nested", "deeply-nested", "forged", "forged-list", "long"],
)
def test_a_cursor_the_server_did_not_sign_is_422_invalid_cursor(
    client: Client, auth: TokenFactory, cursor: str
) -> None:
    publish(client, auth, "C1")
    assert error_of(client.http.get(f"/v1/courses?cursor={cursor}")) == (422, "INVALID_CURSOR")


# --- 3: an import whose header item would not fit ------------------------------------------------


def test_an_import_whose_header_has_100010_columns_is_rejected_too_many_columns(
    client: Client, auth: TokenFactory
) -> None:
    header = HEADER + "".join(f",c{index}" for index in range(100_000))
    import_id = upload(client, auth, f"{header}\n{ROW}\n".encode())
    notify(client, import_id)
    state = status(client, auth, import_id)
    assert (state["status"], state["reason"]) == ("REJECTED", "TOO_MANY_COLUMNS")
    assert state["reason_message"]


def test_an_exclusion_file_of_more_lists_than_an_import_can_carry_refuses_the_rows_of_the_rest(
    client: Client, auth: TokenFactory
) -> None:
    """Every list an upload carries is kept in its state item: their number is bounded too."""
    from chalicelib.registration.imports.rows import MAX_LISTS_PER_UPLOAD
    from tests.integration.test_import_processing import report, upload_as

    lines = [f"31712345019{index:05d},LIST_{chr(65 + index % 26)}{index // 26}" for index in range(30)]
    import_id = upload_as(
        client, auth, "exclusion", ("nik,list\n" + "\n".join(lines)).encode(), auth("admin")
    )
    state = status(client, auth, import_id)
    assert state["counts"] == {"IMPORTED": MAX_LISTS_PER_UPLOAD, "INVALID": 30 - MAX_LISTS_PER_UPLOAD}
    assert state["error_counts"] == {"TOO_MANY_LISTS": 30 - MAX_LISTS_PER_UPLOAD}
    assert report(import_id, "national")[-1]["error_message"].startswith("Kolom list: ")


def test_an_import_that_stops_making_progress_is_rejected_by_the_watchdog(
    client: Client, auth: TokenFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever stalled it (a file never uploaded, a consumer failing on every delivery until its
    message goes to the dead-letter queue), an import ends in a terminal state with a reason."""
    from chalicelib.registration.imports import processing as imports

    clock.set_now(datetime.fromisoformat("2021-06-01T10:00:00+07:00"))
    try:
        never_uploaded = client.http.post(
            "/v1/imports",
            headers=auth("office", province="31"),
            body=body({"kind": "cohort", "filename": "x.csv"}),
        ).json_body["import_id"]
        failing = upload(client, auth, f"{HEADER}\n{ROW}\n".encode())
        monkeypatch.setattr(imports, "_next_chunk", _fails)
        with pytest.raises(RuntimeError):
            notify(client, failing)
        assert status(client, auth, failing)["status"] == "RUNNING"
        assert run_job(client, "import_watchdog")["stalled"] == []

        clock.set_now(datetime.fromisoformat("2021-06-01T12:30:00+07:00"))
        assert sorted(run_job(client, "import_watchdog")["stalled"]) == sorted([never_uploaded, failing])
        for import_id, reason in ((never_uploaded, "NOT_UPLOADED"), (failing, "STALLED")):
            state = status(client, auth, import_id)
            assert (state["status"], state["reason"]) == ("REJECTED", reason)
            assert state["reason_message"]
        assert run_job(client, "import_watchdog")["stalled"] == []
    finally:
        clock.set_now(None)


def _fails(batch: Any) -> Any:
    raise RuntimeError("DynamoDB refuses the checkpoint on every delivery")


# --- 4: a purchase at a price the participant never saw ------------------------------------------


def test_a_purchase_at_a_price_the_participant_did_not_see_debits_nothing(
    client: Client, auth: TokenFactory, market: list[str]
) -> None:
    shown = client.http.get("/v1/courses").json_body["courses"][0]
    publish(client, auth, shown["course_id"], price=1_000_000)
    refused = buy(client, auth, market[0], shown["course_id"], price=shown["price"])
    assert error_of(refused) == (409, "PRICE_CHANGED")
    assert me(client, auth, market[0])["balance"] == 1_000_000
    bought = buy(client, auth, market[0], shown["course_id"], price=1_000_000)
    assert (bought.status_code, bought.json_body["balance"]) == (201, 0)


def test_a_purchase_without_the_shown_price_is_refused(
    client: Client, auth: TokenFactory, market: list[str]
) -> None:
    response = client.http.post(
        "/v1/purchases", headers=auth("participant", sub=market[0]), body=body({"course_id": "C1"})
    )
    assert error_of(response) == (422, "VALIDATION_FAILED")
    assert "price" in response.json_body["error"]["fields"]
    assert me(client, auth, market[0])["balance"] == 1_000_000


# --- 5: dates at the ends of the calendar --------------------------------------------------------


@pytest.mark.parametrize(
    ("opens_at", "closes_at"),
    [
        ("0001-01-01T00:00:00+07:00", "2021-06-05T00:00:00+07:00"),
        ("2021-06-01T00:00:00+07:00", "9999-12-31T20:00:00-07:00"),
        ("0001-01-01T00:00:00+07:00", "9999-12-31T20:00:00-07:00"),
    ],
)
def test_a_wave_dated_at_the_ends_of_the_calendar_is_422(
    client: Client, auth: TokenFactory, opens_at: str, closes_at: str
) -> None:
    wave = {"wave_id": "W9", "opens_at": opens_at, "closes_at": closes_at, "quota": 10}
    response = client.http.post("/v1/waves", headers=auth("admin"), body=body(wave))
    assert error_of(response) == (422, "VALIDATION_FAILED")


def test_a_completion_dated_at_the_end_of_the_calendar_is_422(client: Client, auth: TokenFactory) -> None:
    response = client.http.post(
        "/v1/platform/completions",
        headers=auth("platform", platform_id="TOKOPEDIA"),
        body=body(
            {"purchase_id": "0" * 32, "completed_at": "9999-12-31T23:59:59-12:00", "certificate_no": "C"}
        ),
    )
    assert error_of(response) == (422, "VALIDATION_FAILED")


# --- 6: claims of the wrong type in a validly signed token ---------------------------------------


@pytest.mark.parametrize(
    "claims",
    [
        {"role": ["admin"], "sub": "a"},
        {"role": {"admin": True}, "sub": "a"},
        {"role": "office", "sub": "a", "province": ["31"]},
        {"sub": "a", "cognito:groups": "admin"},
        {"sub": "a", "cognito:groups": [["admin"]]},
        {"role": "admin", "sub": 42},
    ],
)
def test_a_signed_token_with_claims_of_the_wrong_type_is_401(client: Client, claims: dict[str, Any]) -> None:
    token = ISSUER.token(claims)
    response = client.http.get("/v1/imports/x", headers={"Authorization": f"Bearer {token}"})
    assert error_of(response) == (401, "UNAUTHENTICATED")


# --- 7: the issuer is checked locally as in AWS --------------------------------------------------


@pytest.mark.parametrize("issuer", ["https://evil.example", None])
def test_a_local_token_of_another_issuer_or_none_is_401(client: Client, issuer: str | None) -> None:
    token = ISSUER.token({"role": "admin", "sub": "a", "iss": issuer})
    if issuer is None:
        import jwt

        claims = jwt.decode(token, options={"verify_signature": False})
        claims.pop("iss")
        token = ISSUER.sign(claims)
    response = client.http.get("/v1/imports/x", headers={"Authorization": f"Bearer {token}"})
    assert error_of(response) == (401, "UNAUTHENTICATED")


# --- 8: idempotency keys are scoped by the whole caller ------------------------------------------


def test_offices_of_two_provinces_sharing_a_sub_and_a_key_get_two_imports(
    client: Client, auth: TokenFactory
) -> None:
    request = body({"kind": "registrations", "filename": "x.csv"})
    answers = [
        client.http.post(
            "/v1/imports",
            headers=auth("office", sub="shared", province=province) | {"Idempotency-Key": "k1"},
            body=request,
        ).json_body
        for province in ("31", "32")
    ]
    assert answers[0]["import_id"] != answers[1]["import_id"]
    assert "/imports/32/" in answers[1]["upload_url"]


# --- 9: imported rows' accounts are out of every token's reach -----------------------------------


def test_a_token_whose_sub_names_an_imported_row_reads_nobody(client: Client, auth: TokenFactory) -> None:
    import_id = upload(client, auth, f"{HEADER}\n{ROW}\n".encode())
    notify(client, import_id)
    assert status(client, auth, import_id)["counts"] == {"IMPORTED": 1}
    response = client.http.get(
        "/v1/participants/me", headers=auth("participant", sub=f"office:{import_id}:1")
    )
    assert error_of(response) == (404, "NOT_REGISTERED")


# --- 10: a revocation's reason is a code; its note is for admins ---------------------------------


def test_a_revocation_reason_is_a_code_and_its_note_reaches_admins_only_masked(
    client: Client, auth: TokenFactory, market: list[str]
) -> None:
    participant_id = service.participant_id_for(market[0])
    path = f"/v1/participants/{participant_id}/revocation"
    free_text = client.http.post(
        path, headers=auth("admin"), body=body({"reason": "Siti, NIK 3171234501900001"})
    )
    assert error_of(free_text) == (422, "VALIDATION_FAILED")
    note = "lapor warga: NIK 3171234501900001, HP 081234567890"
    revoked = client.http.post(path, headers=auth("admin"), body=body({"reason": "FRAUD", "note": note}))
    assert (revoked.status_code, revoked.json_body["revocation_reason"]) == (200, "FRAUD")
    for role in ("office", "pemda"):
        seen = client.http.get(
            f"/v1/participants/{participant_id}", headers=auth(role, province="31")
        ).body.decode()
        assert "lapor warga" not in seen and "3171234501900001" not in seen and "FRAUD" in seen
    admin = client.http.get(f"/v1/participants/{participant_id}", headers=auth("admin")).json_body
    (shown,) = [event for event in admin["audit_trail"] if event["action"] == "REVOKED"]
    assert shown["reason"] == "FRAUD"
    assert shown["note"].startswith("lapor warga")
    assert "3171234501900001" not in shown["note"] and "081234567890" not in shown["note"]
    assert "lapor warga" not in json.dumps(me(client, auth, market[0]))


# --- 11: personal data is not kept by caches -----------------------------------------------------


def test_responses_with_personal_data_are_not_stored_by_caches(client: Client, auth: TokenFactory) -> None:
    register(client, auth, SITI, "acc-siti")
    for response in (
        client.http.get("/v1/participants/me", headers=auth("participant", sub="acc-siti")),
        client.http.post("/v1/registrations", headers=auth("participant", sub="acc-siti"), body=body(SITI)),
        client.http.get("/v1/participants/me", headers=auth("participant", sub="nobody")),
    ):
        assert response.headers.get("Cache-Control") == "no-store"


# --- 12: free text refuses invisible and control characters -------------------------------------


@pytest.mark.parametrize(
    "text",
    ["Excel\x00Dasar", "Excel \u202eresaD", "Ex\u200bcel", "Ex\u2066cel", "Excel\u200fDasar", "\ufeffExcel"],
)
def test_free_text_refuses_nul_bidi_overrides_and_zero_width_characters(
    client: Client, auth: TokenFactory, market: list[str], text: str
) -> None:
    assert error_of(publish(client, auth, "C9", title=text)) == (422, "VALIDATION_FAILED")
    assert error_of(publish(client, auth, "C9", institution=text)) == (422, "VALIDATION_FAILED")
    bought = buy(client, auth, market[0], "C1", price=400_000).json_body
    client.http.post(
        "/v1/platform/completions",
        headers=auth("platform", sub="TOKOPEDIA-svc", platform_id="TOKOPEDIA"),
        body=body({"purchase_id": bought["purchase_id"], "completed_at": "2021-06-05T09:00:00+07:00",
                   "certificate_no": "CERT-1"}),
    )  # fmt: skip
    review = client.http.post(
        "/v1/courses/C1/ratings",
        headers=auth("participant", sub=market[0]),
        body=body({"stars": 5, "review": text}),
    )
    assert error_of(review) == (422, "VALIDATION_FAILED")


# --- 13: registration attempts are capped per account -------------------------------------------


def test_registration_refusals_per_account_are_capped_with_429(client: Client, auth: TokenFactory) -> None:
    """Each 409 tells whether a NIK, e-mail or phone is registered: an account may learn that only
    a few times a day, then hears 429 THROTTLED whatever it sends."""
    assert register(client, auth, SITI, "owner").status_code == 201
    answers = [
        error_of(register(client, auth, SITI, "prober"))[1]
        for _ in range(settings().registration_refusals_per_day + 1)
    ]
    assert answers[:-1] == ["DUPLICATE_NIK"] * settings().registration_refusals_per_day
    assert answers[-1] == "THROTTLED"
    assert register(client, auth, SITI, "prober").status_code == 429
    assert register(client, auth, SITI, "someone-else").status_code == 409


# --- 14: the sweep reads every day that holds due people, whatever the clock did -----------------


def test_the_sweep_reads_every_due_day_whatever_the_clock_did(
    client: Client, auth: TokenFactory, market: list[str]
) -> None:
    """Wave W1's people fall due on 2021-07-05. The sweep runs in August; the local clock is moved
    back, wave W2 is selected (its people due in May), and moved forward again: W2's days lie
    before where the sweep stood, and must still be read."""
    from tests.integration.test_selection import person, verify

    clock.set_now(datetime.fromisoformat("2021-08-10T10:00:00+07:00"))
    sweep(client)
    clock.set_now(datetime.fromisoformat("2021-03-30T10:00:00+07:00"))
    wave = {"wave_id": "W2", "opens_at": "2021-04-01T00:00:00+07:00",
            "closes_at": "2021-04-04T00:00:00+07:00", "quota": 1}  # fmt: skip
    assert client.http.post("/v1/waves", headers=auth("admin"), body=body(wave)).status_code == 201
    assert register(client, auth, person(7, "31"), "late").status_code == 201
    verify("late")
    clock.set_now(datetime.fromisoformat("2021-04-02T10:00:00+07:00"))
    assert (
        client.http.post("/v1/waves/W2/applications", headers=auth("participant", sub="late")).status_code
        == 201
    )
    clock.set_now(datetime.fromisoformat("2021-04-05T10:00:00+07:00"))
    client.http.post("/v1/waves/W2/selection", headers=auth("admin"))
    run_job(client, "selection")
    assert me(client, auth, "late")["status"] == "SELECTED"
    clock.set_now(datetime.fromisoformat("2021-08-11T10:00:00+07:00"))
    sweep(client)
    assert me(client, auth, "late")["status"] == "REVOKED"
