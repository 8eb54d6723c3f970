"""The web pages in a real browser against the local stack: a participant's whole way through the
public site (register, a field error, a wave, selection, a course, its completion, an account,
payment), then the dashboard showing it; every call the pages made, checked against the API's own
OpenAPI document. Screenshots land in `build/artifacts/`.

Debian's `chromium` driven by Playwright (`make test` installs it where missing); the programme's
jobs and the platform's completion go through the API, as the contract has them run."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from bench.browser import CHROMIUM, launch
from bench.local_stack import Stack, local_stack
from bench.people import person
from bench.purchases import call, run_job, set_clock, token
from tests.openapi import operation_for

playwright = pytest.importorskip("playwright.sync_api")

pytestmark = [pytest.mark.slow, pytest.mark.server]

ARTIFACTS = Path(__file__).resolve().parents[2] / "build" / "artifacts"
WAVE = "WEB-W1"
COURSE = {"title": "Uji Peramban Kelas Web", "institution": "Lembaga Web", "category": "PEMASARAN",
          "price": 400_000, "hours": 6}  # fmt: skip
PAID_TIMEOUT_SECONDS = 30.0
WAIT_MS = 15_000


@dataclass
class Journey:
    stack: Stack
    requests: list[tuple[str, str]] = field(default_factory=list)
    seen: dict[str, Any] = field(default_factory=dict)


def _prepare(stack: Stack) -> None:
    """The programme's side: a wave open on the stack's clock, and a course in the catalogue."""
    admin = token(stack, "admin", "web-admin")
    set_clock(stack, "2021-05-30T10:00:00+07:00")
    wave = {"wave_id": WAVE, "opens_at": "2021-05-29T00:00:00+07:00",
            "closes_at": "2021-06-04T00:00:00+07:00", "quota": 10, "province_quotas": {}}  # fmt: skip
    call(stack, "POST", "/v1/waves", admin, json=wave).raise_for_status()
    platform = token(stack, "platform", "web-platform", platform_id="WEB_PLATFORM")
    call(stack, "PUT", "/v1/platform/courses/WEB-001", platform, json=COURSE).raise_for_status()


def _until_paid(stack: Stack, participant: str) -> dict[str, Any]:
    deadline = time.monotonic() + PAID_TIMEOUT_SECONDS
    while True:
        record: dict[str, Any] = call(stack, "GET", "/v1/participants/me", participant).json()
        if any(payment["status"] == "PAID" for payment in record["payments"]):
            return record
        if time.monotonic() > deadline:
            pytest.fail(f"no payment PAID within {PAID_TIMEOUT_SECONDS} s: {record['payments']}")
        run_job(stack, "reconciliation")
        time.sleep(0.5)


def _walk(page: Any, journey: Journey) -> None:
    stack = journey.stack
    expect = playwright.expect
    admin = token(stack, "admin", "web-admin")
    page.goto(f"{stack.web}/")
    page.get_by_label("ID akun").fill("peserta-web")
    page.get_by_role("button", name="Masuk").click()
    expect(page.get_by_role("heading", name="Daftar sebagai peserta")).to_be_visible(timeout=WAIT_MS)

    someone = person(7)
    page.get_by_label("NIK (16 angka)").fill("31710")
    page.get_by_label("Nomor KK (16 angka)").fill(someone["kk_number"])
    page.get_by_label("Nama lengkap sesuai KTP").fill(someone["full_name"])
    page.get_by_label("Tanggal lahir").fill(someone["birth_date"])
    page.get_by_label("Laki-laki").check()
    page.get_by_label("E-mail").fill(someone["email"])
    page.get_by_label("Nomor HP", exact=True).fill(someone["phone"])
    page.get_by_label("Kode kabupaten/kota (4 angka)").fill(someone["regency_code"])
    page.get_by_role("button", name="Daftar", exact=True).click()
    nik_error = page.locator("#nik-salah")
    expect(nik_error).not_to_be_empty(timeout=WAIT_MS)
    journey.seen["nik_error"] = nik_error.inner_text()
    journey.seen["nik_invalid"] = page.get_by_label("NIK (16 angka)").get_attribute("aria-invalid")
    journey.seen["message"] = page.locator("#notice").inner_text()

    page.get_by_label("NIK (16 angka)").fill(someone["nik"])
    page.get_by_role("button", name="Daftar", exact=True).click()
    expect(page.get_by_role("heading", name="Gelombang")).to_be_visible(timeout=WAIT_MS)
    journey.seen["nik_error_after"] = nik_error.inner_text()

    run_job(stack, "verification")
    page.get_by_role("button", name=f"Ikut {WAVE}").click()
    expect(page.locator("#notice")).to_contain_text(f"Anda mengikuti gelombang {WAVE}", timeout=WAIT_MS)

    set_clock(stack, "2021-06-05T10:00:00+07:00")
    call(stack, "POST", f"/v1/waves/{WAVE}/selection", admin).raise_for_status()
    run_job(stack, "selection")
    page.get_by_role("link", name="Status saya").click()
    expect(page.locator("#status-peserta")).to_have_text("Terpilih", timeout=WAIT_MS)

    page.get_by_role("link", name="Katalog pelatihan").click()
    page.get_by_label("Cari pelatihan").fill("peramban")
    page.get_by_role("button", name="Cari").click()
    page.get_by_role("button", name=f"Beli {COURSE['title']}").click()
    expect(page.locator("#notice")).to_contain_text("berhasil dibeli", timeout=WAIT_MS)
    journey.seen["balance_text"] = page.locator("#saldo").inner_text()

    participant = str(page.evaluate("sessionStorage.getItem('prakerja.token')"))
    purchase = call(stack, "GET", "/v1/participants/me", participant).json()["purchases"][0]
    set_clock(stack, "2021-06-20T10:00:00+07:00")
    platform = token(stack, "platform", "web-platform", platform_id="WEB_PLATFORM")
    completion = {"purchase_id": purchase["purchase_id"], "completed_at": "2021-06-19T10:00:00+07:00",
                  "certificate_no": "SERT-WEB-1"}  # fmt: skip
    call(stack, "POST", "/v1/platform/completions", platform, json=completion).raise_for_status()

    page.get_by_role("link", name="Status saya").click()
    page.get_by_label("Nilai untuk WEB-001").select_option("5")
    page.get_by_role("button", name="Kirim nilai").click()
    expect(page.locator("#notice")).to_contain_text("Terima kasih atas penilaian", timeout=WAIT_MS)

    page.get_by_role("link", name="Rekening").click()
    page.get_by_label("Bank atau dompet digital").select_option("OVO")
    page.get_by_label("Nomor rekening atau nomor HP").fill("081234567890")
    page.get_by_label("Nama pemilik rekening").fill(someone["full_name"])
    page.get_by_role("button", name="Simpan rekening").click()
    expect(page.locator("#notice")).to_contain_text("Rekening tersimpan", timeout=WAIT_MS)

    run_job(stack, "incentive_events")
    set_clock(stack, "2021-06-27T10:00:00+07:00")
    run_job(stack, "disbursement")
    record = _until_paid(stack, participant)
    journey.seen["paid"] = sum(p["amount"] for p in record["payments"] if p["status"] == "PAID")
    page.get_by_role("link", name="Status saya").click()
    expect(page.locator("#status-peserta")).to_have_text("Menerima insentif", timeout=WAIT_MS)
    expect(page.get_by_role("cell", name="Dibayar")).to_be_visible(timeout=WAIT_MS)
    page.screenshot(path=str(ARTIFACTS / "status.png"), full_page=True)

    set_clock(stack, "2021-07-20T10:00:00+07:00")  # the first survey: 30 days after the completion
    run_job(stack, "surveys")
    page.get_by_role("link", name="Survei").click()
    page.get_by_role("radio", name="Bekerja", exact=True).check()
    page.get_by_role("radio", name="Rp1–3 juta").check()
    page.get_by_role("radio", name="Ya").check()
    page.get_by_role("button", name="Kirim jawaban").click()
    expect(page.locator("#notice")).to_contain_text("jawaban Anda sudah kami terima", timeout=WAIT_MS)
    surveys = call(stack, "GET", "/v1/participants/me", participant).json()["surveys"]
    journey.seen["survey"] = [survey["status"] for survey in surveys if survey["round"] == 1]

    run_job(stack, "stats")  # the tallies folded into the figures and series, as every 5 minutes
    page.goto(f"{stack.web}/dashboard")
    page.get_by_label("Peran").select_option("office")
    page.get_by_label("Provinsi", exact=True).select_option("31")
    page.get_by_role("button", name="Masuk").click()
    page.get_by_label("Jenis berkas").select_option("cohort")
    cohort_file = ARTIFACTS / "kohort.csv"
    cohort_file.write_text(f"nik;cohort\n{someone['nik']};PURNA_PMI\n", encoding="utf-8")
    page.get_by_label("Berkas CSV").set_input_files(str(cohort_file))
    page.get_by_role("button", name="Unggah").click()
    expect(page.locator("#impor-status[data-status=DONE]")).to_be_attached(timeout=WAIT_MS * 2)
    journey.seen["imported"] = page.locator("#impor-hasil table").inner_text()
    page.get_by_role("button", name="Keluar").click()

    page.get_by_label("Peran").select_option("pemda")
    page.get_by_label("Provinsi", exact=True).select_option("31")
    page.get_by_role("button", name="Masuk").click()
    expect(page.locator("body[data-figures=shown]")).to_be_attached(timeout=WAIT_MS)
    expect(page.locator("#waktu svg")).to_be_visible(timeout=WAIT_MS)
    journey.seen["dashboard_title"] = page.locator("#dasbor-judul").inner_text()
    journey.seen["dashboard"] = {
        name: page.locator(f"#angka-{name}").inner_text()
        for name in ("terdaftar", "terpilih", "selesai", "insentif")
    }
    journey.seen["mine"] = page.locator("#peringkat tr.mine th").first.inner_text()
    journey.seen["funnel_paid"] = page.locator("#corong tbody tr").last.inner_text().split("\t")
    journey.seen["cohorts"] = page.locator("#kohort tbody tr").first.inner_text().split("\t")
    journey.seen["outcomes"] = page.locator("#survei tbody tr").first.inner_text().split("\t")
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
    set_clock(stack, None)


@pytest.fixture(scope="module")
def journey() -> Iterator[Journey]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (make test installs it)")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with local_stack() as stack, playwright.sync_playwright() as driver:
        _prepare(stack)
        browser = launch(driver)
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="id-ID")
        walked = Journey(stack)
        api = urlsplit(stack.api).netloc

        def record(request: Any) -> None:
            parts = urlsplit(request.url)
            if parts.netloc == api and request.method != "OPTIONS":
                walked.requests.append((request.method, parts.path))

        page.on("request", record)
        try:
            _walk(page, walked)
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "failed.png"), full_page=True)
            raise
        finally:
            (ARTIFACTS / "web-api-requests.json").write_text(json.dumps(walked.requests, indent=1))
            browser.close()
        yield walked


def test_a_participant_registers_is_selected_trains_is_paid_and_the_dashboard_shows_it(
    journey: Journey,
) -> None:
    seen = journey.seen
    assert seen["nik_error"]
    assert seen["nik_invalid"] == "true"
    assert seen["message"].strip()
    assert seen["nik_error_after"] == ""
    assert seen["balance_text"] == "Saldo pelatihan Anda: Rp600.000"
    assert seen["dashboard_title"] == "Provinsi DKI Jakarta"
    assert seen["dashboard"]["terdaftar"] == "1"
    assert seen["dashboard"]["terpilih"] == "1"
    assert seen["dashboard"]["selesai"] == "1"
    assert seen["dashboard"]["insentif"] == f"Rp{seen['paid']:,}".replace(",", ".")
    assert seen["mine"] == "1"
    assert seen["funnel_paid"] == ["Pembayaran berhasil", "1", "100%"]
    assert seen["survey"] == ["ANSWERED"]
    assert "Diimpor\t1" in seen["imported"]
    assert seen["cohorts"] == ["Purna pekerja migran", "1", "100%"]
    assert seen["outcomes"] == ["Survei ke-1", "1", "100%", "0%", "0%", "100%"]
    assert (ARTIFACTS / "status.png").stat().st_size > 0
    assert (ARTIFACTS / "dashboard.png").stat().st_size > 0
    assert ("POST", "/dev/tokens") in journey.requests
    assert ("POST", "/v1/purchases") in journey.requests


def test_the_site_is_allowed_by_cors_and_another_origin_is_not(journey: Journey) -> None:
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,idempotency-key",
    }
    ours = requests.options(
        f"{journey.stack.api}/v1/purchases", headers={"Origin": journey.stack.web, **preflight}, timeout=10
    )
    theirs = requests.get(
        f"{journey.stack.api}/v1/waves", headers={"Origin": "http://evil.example"}, timeout=10
    )
    assert ours.headers["Access-Control-Allow-Origin"] == journey.stack.web
    assert "Idempotency-Key" in ours.headers["Access-Control-Allow-Headers"]
    assert theirs.headers.get("Access-Control-Allow-Origin") in (None, journey.stack.web)


def test_every_call_the_pages_make_is_in_the_openapi_document(journey: Journey) -> None:
    answer = requests.get(f"{journey.stack.api}/v1/openapi.json", timeout=10)
    answer.raise_for_status()
    document = answer.json()

    # The local issuer's route stands in for Cognito: no deployed stage has it, nor the document.
    undocumented = sorted(
        {
            (method, path)
            for method, path in journey.requests
            if not path.startswith("/dev/") and operation_for(document, method, path) is None
        }
    )
    assert ("POST", "/v1/purchases") in journey.requests
    assert undocumented == []


def test_the_pages_are_served_with_a_content_security_policy(journey: Journey) -> None:
    for page in ("/", "/dashboard"):
        served = requests.get(f"{journey.stack.web}{page}", timeout=10)
        assert served.status_code == 200
        assert re.search(
            r"connect-src 'self' " + re.escape(journey.stack.api), served.headers["Content-Security-Policy"]
        )
