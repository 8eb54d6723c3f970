"""The `prakerja` commands against a stub API: what they send, what they print, how they fail."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from prakerja_cli.main import app
from tests.unit.cli.stub_api import MISSING_ROUTE, StubApi, stub_api

NIK = "3171234501900001"
TOKEN = "header.claims.signature"


@pytest.fixture
def stub() -> Iterator[StubApi]:
    with stub_api() as running:
        yield running


def prakerja(stub: StubApi, *args: str, columns: int = 200) -> Result:
    """The command as an operator runs it, with the API's address and token from the environment."""
    environment = {"PRAKERJA_API_URL": stub.url, "PRAKERJA_TOKEN": TOKEN, "COLUMNS": str(columns)}
    return CliRunner().invoke(app, list(args), env=environment)


def error(status: int, code: str, message: str, **fields: str) -> tuple[int, object]:
    return status, {"error": {"code": code, "message": message, "fields": fields}}


def test_token_prints_the_token_alone_for_use_in_a_shell(stub: StubApi) -> None:
    stub.answer("POST", "/dev/tokens", (200, {"token": "minted.jwt.value"}))

    result = prakerja(stub, "token", "--role", "office", "--sub", "clerk", "--province", "31")

    assert (result.exit_code, result.stdout) == (0, "minted.jwt.value\n")
    [sent] = stub.requests_to("POST", "/dev/tokens")
    assert sent.json() == {"role": "office", "sub": "clerk", "province": "31"}
    assert "Authorization" not in sent.headers


def test_token_on_a_deployed_stage_points_to_cognito(stub: StubApi) -> None:
    result = prakerja(stub, "token", "--role", "admin")

    assert result.exit_code == 1
    assert "hanya stack lokal" in result.stderr and "Cognito" in result.stderr
    assert result.stdout == ""


def test_wave_creation_sends_the_province_quotas_once_and_shows_the_wave(stub: StubApi) -> None:
    opens_at, closes_at = "2021-06-01T00:00:00+07:00", "2021-06-04T00:00:00+07:00"
    wave = {"wave_id": "W17", "opens_at": opens_at, "closes_at": closes_at, "quota": 200000,
            "province_quotas": {"31": 1000, "32": 2500}, "applications_open": False}  # fmt: skip
    stub.answer("POST", "/v1/waves", (201, wave))

    result = prakerja(stub, "waves", "create", "W17", "--opens-at", opens_at, "--closes-at",
                      closes_at, "--quota", "200000", "--province-quota", "31=1000",
                      "--province-quota", "32=2500")  # fmt: skip

    assert result.exit_code == 0, result.output
    [sent] = stub.requests_to("POST", "/v1/waves")
    assert sent.json()["province_quotas"] == {"31": 1000, "32": 2500}
    assert sent.headers["Authorization"] == f"Bearer {TOKEN}"
    assert len(sent.headers["Idempotency-Key"]) == 36
    assert "Gelombang W17 dibuat." in result.stdout
    assert "200.000" in result.stdout and "31=1.000, 32=2.500" in result.stdout


def test_a_wave_waiting_for_a_second_admin_names_its_approval(stub: StubApi) -> None:
    stub.answer("POST", "/v1/waves", (202, {"approval_id": "APR-1"}))

    result = prakerja(stub, "waves", "create", "W18", "--opens-at", "a", "--closes-at", "b", "--quota", "5")

    assert result.exit_code == 0
    assert "prakerja approvals approve APR-1" in result.stdout


def test_a_malformed_province_quota_is_refused_before_any_request(stub: StubApi) -> None:
    result = prakerja(stub, "waves", "create", "W1", "--opens-at", "a", "--closes-at", "b", "--quota", "5",
                      "--province-quota", "31:1000")  # fmt: skip

    assert result.exit_code == 2
    assert "KODE=KUOTA" in result.stderr
    assert stub.received == []


def test_a_refusal_shows_the_code_and_fields_with_personal_data_masked(stub: StubApi) -> None:
    refusal = error(
        422, "VALIDATION_FAILED", f"NIK {NIK} tidak sah [baris 2].", closes_at="harus setelah opens_at"
    )
    stub.answer("POST", "/v1/waves", refusal)

    result = prakerja(stub, "waves", "create", "W1", "--opens-at", "a", "--closes-at", "b", "--quota", "5")

    assert result.exit_code == 1
    assert "422 VALIDATION_FAILED" in result.stderr
    assert "closes_at: harus setelah opens_at" in result.stderr
    assert "NIK ************0001 tidak sah [baris 2]." in result.stderr
    assert NIK not in result.output


def test_waves_are_listed_with_whether_applications_are_open(stub: StubApi) -> None:
    open_wave = {"wave_id": "W1", "opens_at": "x", "closes_at": "y", "quota": 10, "province_quotas": {},
                 "applications_open": True}  # fmt: skip
    stub.answer("GET", "/v1/waves", (200, {"waves": [open_wave]}))

    result = prakerja(stub, "waves", "list")

    assert result.exit_code == 0
    assert "W1" in result.stdout and "dibuka" in result.stdout


def test_province_figures_show_rupiah_the_indonesian_way(stub: StubApi) -> None:
    figures = {"province_code": "31", "name": "DKI Jakarta", "registered": 1234, "selected": 7,
               "incentive_paid_amount": 1234567, "unspent_balance": 3500000, "training_spent": 0,
               "cohorts": {"PURNA_PMI": 12}, "survey_outcomes": {}}  # fmt: skip
    stub.answer("GET", "/v1/stats/provinces/31", (200, figures))

    result = prakerja(stub, "stats", "31")

    assert result.exit_code == 0, result.output
    assert "Rp1.234.567" in result.stdout and "Rp3.500.000" in result.stdout and "Rp0" in result.stdout
    assert "1.234" in result.stdout
    assert "PURNA_PMI" in result.stdout


def test_every_province_is_a_row_of_the_national_table(stub: StubApi) -> None:
    rows = [{"province_code": "11", "name": "Aceh", "registered": 5, "incentive_paid_amount": 600000},
            {"province_code": "31", "name": "DKI Jakarta", "registered": 1000000}]  # fmt: skip
    stub.answer("GET", "/v1/stats/provinces", (200, {"provinces": rows}))

    result = prakerja(stub, "stats")

    assert result.exit_code == 0, result.output
    assert "Aceh" in result.stdout and "Rp600.000" in result.stdout and "1.000.000" in result.stdout


def test_a_narrow_terminal_squeezes_the_names_never_the_figures(stub: StubApi) -> None:
    row = {"province_code": "92", "name": "Papua Barat Daya", "registered": 1234567,
           "incentive_paid_amount": 1234567890000, "unspent_balance": 98765432100}  # fmt: skip
    stub.answer("GET", "/v1/stats/provinces", (200, {"provinces": [row]}))

    result = prakerja(stub, "stats", columns=130)

    assert result.exit_code == 0, result.output
    assert max(len(line) for line in result.stdout.splitlines()) <= 130
    for written in ("1.234.567", "Rp1.234.567.890.000", "Rp98.765.432.100", "92"):
        assert written in result.stdout


def test_an_unknown_province_is_the_apis_refusal(stub: StubApi) -> None:
    stub.answer("GET", "/v1/stats/provinces/99", error(404, "PROVINCE_NOT_FOUND", "Provinsi tidak dikenal."))

    result = prakerja(stub, "stats", "99")

    assert result.exit_code == 1
    assert "404 PROVINCE_NOT_FOUND: Provinsi tidak dikenal." in result.stderr


def _import_answers(stub: StubApi, *statuses: Mapping[str, object]) -> None:
    stub.answer(
        "POST",
        "/v1/imports",
        (201, {"import_id": "IMP1", "upload_url": f"{stub.url}/s3/imports/31/IMP1.csv"}),
    )
    stub.answer("PUT", "/s3/imports/31/IMP1.csv", (200, b""))
    stub.answer("GET", "/v1/imports/IMP1", *[(200, {"import_id": "IMP1", **status}) for status in statuses])


def test_an_upload_puts_the_file_waits_for_the_report_and_counts_outcomes(
    stub: StubApi, tmp_path: Path
) -> None:
    content = b"nik,cohort\n" + b"".join(f"31712345019{n:05d},PURNA_PMI\n".encode() for n in range(5000))
    file = tmp_path / "kohor.csv"
    file.write_bytes(content)
    done = {"status": "DONE", "counts": {"IMPORTED": 4990, "INVALID": 10},
            "error_counts": {"INVALID_NIK": 10},
            "report_url": f"{stub.url}/s3/results/31/IMP1.csv?X-Amz-Signature=abc"}  # fmt: skip
    _import_answers(stub, {"status": "PENDING"}, {"status": "RUNNING"}, done)

    result = prakerja(stub, "imports", "upload", str(file), "--kind", "cohort", "--interval", "0.01")

    assert result.exit_code == 0, result.output
    [request] = stub.requests_to("POST", "/v1/imports")
    assert request.json() == {"kind": "cohort", "filename": "kohor.csv"}
    [put] = stub.requests_to("PUT", "/s3/imports/31/IMP1.csv")
    assert (put.body, put.headers["Content-Length"], put.headers["Content-Type"]) == (
        content, str(len(content)), "text/csv")  # fmt: skip
    assert len(stub.requests_to("GET", "/v1/imports/IMP1")) == 3
    assert "DONE" in result.stdout and "4.990" in result.stdout and "INVALID_NIK" in result.stdout
    assert "X-Amz-Signature=abc" in result.stdout
    assert "Mengunggah kohor.csv" in result.stderr


def test_a_rejected_file_says_why_and_exits_non_zero(stub: StubApi, tmp_path: Path) -> None:
    file = tmp_path / "daftar.csv"
    file.write_text("nik\n3.17305E+15\n")
    _import_answers(stub, {"status": "REJECTED", "reason": "NIK_AS_NUMBER", "counts": {},
                           "reason_message": "Kolom nik tersimpan sebagai angka."})  # fmt: skip

    result = prakerja(stub, "imports", "upload", str(file), "--kind", "registrations", "--province", "31")

    assert result.exit_code == 1
    assert stub.requests_to("POST", "/v1/imports")[0].json()["province"] == "31"
    assert "NIK_AS_NUMBER: Kolom nik tersimpan sebagai angka." in result.stdout


def test_an_import_shown_later_masks_a_file_named_after_a_person(stub: StubApi) -> None:
    status = {"import_id": "IMP1", "kind": "registrations", "filename": f"{NIK} [revisi].csv",
              "status": "RUNNING", "counts": {"IMPORTED": 3}}  # fmt: skip
    stub.answer("GET", "/v1/imports/IMP1", (200, status))

    result = prakerja(stub, "imports", "show", "IMP1")

    assert result.exit_code == 0, result.output
    assert "(registrations, ************0001 [revisi].csv): RUNNING" in result.stdout
    assert NIK not in result.stdout


def test_an_import_still_running_at_the_deadline_says_how_to_look_later(
    stub: StubApi, tmp_path: Path
) -> None:
    file = tmp_path / "a.csv"
    file.write_text("nik,list\n")
    _import_answers(stub, {"status": "RUNNING"})

    result = prakerja(stub, "imports", "upload", str(file), "--kind", "exclusion", "--wait", "0.05",
                      "--interval", "0.01")  # fmt: skip

    assert result.exit_code == 1
    assert "prakerja imports show IMP1" in result.stderr


def test_a_refused_upload_names_s3s_reason(stub: StubApi, tmp_path: Path) -> None:
    file = tmp_path / "a.csv"
    file.write_text("nik,list\n")
    stub.answer("POST", "/v1/imports", (201, {"import_id": "IMP1", "upload_url": f"{stub.url}/s3/x"}))
    stub.answer("PUT", "/s3/x", (403, b"<Error><Code>AccessDenied</Code></Error>"))

    result = prakerja(stub, "imports", "upload", str(file), "--kind", "exclusion")

    assert result.exit_code == 1
    assert "S3 menolak unggahan: AccessDenied" in result.stderr
    assert stub.requests_to("GET", "/v1/imports/IMP1") == []


def test_a_job_run_prints_its_summary_with_strings_masked(stub: StubApi) -> None:
    stub.answer("POST", "/dev/jobs/verification", (200, {"verified": 12, "last": f"NIK {NIK}"}))

    result = prakerja(stub, "jobs", "run", "verification")

    assert result.exit_code == 0, result.output
    assert '"verified": 12' in result.stdout
    assert "************0001" in result.stdout and NIK not in result.stdout


def test_a_job_on_a_deployed_stage_runs_on_its_schedule(stub: StubApi) -> None:
    result = prakerja(stub, "jobs", "run", "selection")

    assert result.exit_code == 1
    assert "berjalan sesuai jadwalnya" in result.stderr


def test_the_jobs_help_says_what_a_deployed_stage_does_instead() -> None:
    result = CliRunner().invoke(app, ["jobs", "run", "--help"], env={"COLUMNS": "200"})

    assert "stack lokal saja" in result.stdout
    assert "job berjalan sesuai jadwalnya sendiri (EventBridge)" in " ".join(result.stdout.split())


def test_pending_approvals_are_listed_with_their_detail_masked(stub: StubApi) -> None:
    pending = {"approval_id": "APR-7", "kind": "WAVE_CREATION", "requested_by": "admin-a",
               "requested_at": "2021-05-30T10:00:00+07:00", "account_number": "1234567890",
               "note": "[revisi] kuota"}  # fmt: skip
    stub.answer("GET", "/v1/approvals?status=PENDING", (200, {"approvals": [pending]}))

    result = prakerja(stub, "approvals", "list")

    assert result.exit_code == 0, result.output
    assert "APR-7" in result.stdout and "WAVE_CREATION" in result.stdout and "admin-a" in result.stdout
    assert "******7890" in result.stdout and "1234567890" not in result.stdout
    assert "[revisi] kuota" in result.stdout


@pytest.mark.parametrize(("command", "decision", "said"), [("approve", "APPROVE", "disetujui"),
                                                          ("reject", "REJECT", "ditolak")])  # fmt: skip
def test_a_decision_is_sent_once_and_confirmed(stub: StubApi, command: str, decision: str, said: str) -> None:
    stub.answer("POST", "/v1/approvals/APR-7", (200, {"approval_id": "APR-7", "status": f"{decision}D"}))

    result = prakerja(stub, "approvals", command, "APR-7")

    assert result.exit_code == 0, result.output
    [sent] = stub.requests_to("POST", "/v1/approvals/APR-7")
    assert sent.json() == {"decision": decision}
    assert "Idempotency-Key" in sent.headers
    assert f"Permintaan APR-7 {said}" in result.stdout


def test_the_requester_cannot_approve_their_own_request(stub: StubApi) -> None:
    refusal = error(403, "SAME_ADMIN", "Admin yang meminta tidak boleh menyetujui sendiri.")
    stub.answer("POST", "/v1/approvals/APR-7", refusal)

    result = prakerja(stub, "approvals", "approve", "APR-7")

    assert result.exit_code == 1
    assert "403 SAME_ADMIN" in result.stderr


@pytest.mark.parametrize(
    "missing", [MISSING_ROUTE, (404, b"Not Found"), (403, {"message": "Missing Authentication Token"})]
)
@pytest.mark.parametrize("args", [("approvals", "list"), ("approvals", "approve", "APR-1")])
def test_a_server_without_approvals_says_so(
    stub: StubApi, missing: tuple[int, object], args: tuple[str, ...]
) -> None:
    stub.answer("GET", "/v1/approvals?status=PENDING", missing)
    stub.answer("POST", "/v1/approvals/APR-1", missing)

    result = prakerja(stub, *args)

    assert result.exit_code == 1
    assert "belum punya rute persetujuan" in result.stderr


def test_an_approval_the_server_does_not_know_is_its_refusal_not_a_missing_route(stub: StubApi) -> None:
    stub.answer("POST", "/v1/approvals/APR-9", error(404, "NOT_FOUND", "Data tidak ditemukan."))

    result = prakerja(stub, "approvals", "reject", "APR-9")

    assert result.exit_code == 1
    assert "404 NOT_FOUND: Data tidak ditemukan." in result.stderr


def test_an_unreachable_api_says_where_it_looked(stub: StubApi) -> None:
    result = CliRunner().invoke(app, ["waves", "list", "--api-url", "http://127.0.0.1:9"])

    assert result.exit_code == 1
    assert "Tidak dapat menghubungi API di http://127.0.0.1:9" in result.stderr


def test_the_flags_win_over_the_environment(stub: StubApi) -> None:
    stub.answer("GET", "/v1/waves", (200, {"waves": []}))

    result = CliRunner().invoke(
        app,
        ["waves", "list", "--api-url", stub.url, "--token", "from-flag"],
        env={"PRAKERJA_API_URL": "http://127.0.0.1:9", "PRAKERJA_TOKEN": "from-env"},
    )

    assert result.exit_code == 0, result.output
    assert stub.received[0].headers["Authorization"] == "Bearer from-flag"


COMMANDS = [[], ["token"], ["stats"], ["waves"], ["waves", "create"], ["waves", "list"], ["imports"],
            ["imports", "upload"], ["imports", "show"], ["jobs"], ["jobs", "run"], ["approvals"],
            ["approvals", "list"], ["approvals", "approve"], ["approvals", "reject"]]  # fmt: skip


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help_that_never_shows_the_token(command: list[str]) -> None:
    result = CliRunner().invoke(app, [*command, "--help"], env={"PRAKERJA_TOKEN": "secret.jwt.here"})

    assert result.exit_code == 0, result.output
    assert "Usage: " in result.stdout
    assert "secret.jwt.here" not in result.stdout
