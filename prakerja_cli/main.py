"""The `prakerja` command: its sub-commands, and the ones small enough to live at the top."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.table import Table

from prakerja_cli import approvals, imports, tables, waves
from prakerja_cli.api import CliError, RouteMissing, path_of
from prakerja_cli.options import DEFAULT_API_URL, ApiUrl, Token, connect, handled, out
from prakerja_cli.text import figure, masked_values, number

app = typer.Typer(
    name="prakerja",
    help=(
        "Alat operator Kartu Prakerja: gelombang, impor CSV, job, angka provinsi, persetujuan. "
        "Berbicara dengan API lewat HTTP saja, ke stack lokal (bawaan http://127.0.0.1:8000) atau ke "
        "stage yang di-deploy (--api-url / PRAKERJA_API_URL, --token / PRAKERJA_TOKEN)."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(waves.app, name="waves")
app.add_typer(imports.app, name="imports")
app.add_typer(approvals.app, name="approvals")
jobs = typer.Typer(help="Job terjadwal (verifikasi, seleksi, pembayaran, …).", no_args_is_help=True)
app.add_typer(jobs, name="jobs")


class Role(StrEnum):
    participant = "participant"
    office = "office"
    pemda = "pemda"
    platform = "platform"
    partner = "partner"
    admin = "admin"


@app.command()
@handled
def token(
    role: Annotated[Role, typer.Option(help="Peran pemegang token.")],
    sub: Annotated[str, typer.Option(help="Subjek token (akun).")] = "operator",
    province: Annotated[str | None, typer.Option(help="Kode provinsi (office, pemda), mis. 31.")] = None,
    platform_id: Annotated[str | None, typer.Option(help="Platform pelatihan (peran platform).")] = None,
    partner_id: Annotated[str | None, typer.Option(help="Mitra pembayaran (peran partner).")] = None,
    api_url: ApiUrl = DEFAULT_API_URL,
) -> None:
    """Buat token lokal dan cetak tokennya saja (POST /dev/tokens).

    Contoh: export PRAKERJA_TOKEN=$(prakerja token --role admin). Hanya stack lokal yang punya rute
    ini; di stage yang di-deploy, token adalah ID token Cognito (masuk lewat halaman masuknya)."""
    claims = {"role": role.value, "sub": sub, "province": province}
    claims |= {"platform_id": platform_id, "partner_id": partner_id}
    try:
        answer = connect(api_url, None).post(
            "/dev/tokens", {k: v for k, v in claims.items() if v is not None}
        )
    except RouteMissing:
        raise CliError(
            "Server ini tidak punya /dev/tokens: hanya stack lokal yang menerbitkan token. "
            "Di stage yang di-deploy, masuk lewat Cognito dan berikan ID token-nya dengan --token."
        ) from None
    typer.echo(answer["token"])


# The contract's figures of a province, in the order a reader follows the programme's funnel.
_PROVINCE_COLUMNS = {
    "registered": "Terdaftar",
    "applied": "Melamar",
    "selected": "Terpilih",
    "revoked": "Dicabut",
    "training_purchased": "Beli pelatihan",
    "training_completed": "Selesai pelatihan",
    "incentive_paid_amount": "Insentif dibayar",
    "survey_paid_amount": "Survei dibayar",
    "unspent_balance": "Saldo tak terpakai",
}


@app.command()
@handled
def stats(
    province: Annotated[
        str | None, typer.Argument(help="Kode provinsi (mis. 31); tanpa kode: semua provinsi.")
    ] = None,
    api_url: ApiUrl = DEFAULT_API_URL,
    token: Token = None,
) -> None:
    """Angka per provinsi sebagai tabel (GET /v1/stats/provinces).

    Tanpa kode: semua provinsi (terminal lebar, ±150 kolom). Dengan kode: semua angka provinsi itu,
    kohor, dan hasil survei. Uang ditulis Rp1.234.567."""
    api = connect(api_url, token)
    if province is None:
        out().print(_provinces_table(api.get("/v1/stats/provinces")["provinces"]))
        return
    figures = api.get("/v1/stats/provinces" + path_of(province))
    out().print(_province_table(figures))
    for section, title in (("cohorts", "Kohor"), ("survey_outcomes", "Hasil survei")):
        counts = figures.get(section)
        if isinstance(counts, dict) and counts and all(isinstance(v, int) for v in counts.values()):
            out().print(_counts_table(title, counts))


def _provinces_table(provinces: list[dict[str, Any]]) -> Table:
    # A header on two lines: a figure's column is as wide as the figure, not as its label.
    columns = ["\n".join(label.rsplit(" ", 1)) for label in _PROVINCE_COLUMNS.values()]
    table = tables.table(
        "Kode", "Provinsi", *columns, figures=columns, whole=["Kode"], title="Angka per provinsi"
    )
    for row in provinces:
        cells = [figure(name, int(row.get(name, 0))) for name in _PROVINCE_COLUMNS]
        table.add_row(row["province_code"], str(row.get("name", "")), *cells)
    return table


def _province_table(figures: dict[str, Any]) -> Table:
    """Every figure the API gives, the contract's first: a figure added later shows without a release."""
    title = f"{figures.get('province_code', '')} {figures.get('name', '')}".strip()
    table = tables.table("Angka", "Nilai", figures=["Nilai"], title=title)
    named = [name for name in _PROVINCE_COLUMNS if name in figures]
    others = sorted(name for name, value in figures.items() if name not in _PROVINCE_COLUMNS)
    for name in named + others:
        value = figures[name]
        if isinstance(value, int) and not isinstance(value, bool):
            table.add_row(_PROVINCE_COLUMNS.get(name, name), figure(name, value))
    return table


def _counts_table(title: str, counts: dict[str, int]) -> Table:
    table = tables.table(title, "Jumlah", figures=["Jumlah"])
    for name, count in sorted(counts.items()):
        table.add_row(name, number(count))
    return table


_DEPLOYED_JOBS = (
    "Di stage yang di-deploy tidak ada /dev/jobs: job berjalan sesuai jadwalnya sendiri "
    "(EventBridge) dan tidak dapat dijalankan dari sini."
)


@jobs.command("run")
@handled
def run_job(
    job: Annotated[
        str,
        typer.Argument(
            help="verification, selection, revocation, disbursement, surveys, notifications, reconciliation."
        ),
    ],
    timeout: Annotated[float, typer.Option(help="Detik menunggu job selesai.")] = 600.0,
    api_url: ApiUrl = DEFAULT_API_URL,
    token: Token = None,
) -> None:
    """Jalankan job sekarang dan cetak ringkasannya (POST /dev/jobs/JOB, stack lokal saja).

    Menjalankan semua pekerjaan job itu yang tertunda pada jam saat ini. Di stage yang di-deploy
    tidak ada rute ini: job berjalan sesuai jadwalnya sendiri (EventBridge) dan tidak dijalankan
    dari sini."""
    try:
        summary = connect(api_url, token, timeout).post("/dev/jobs" + path_of(job))
    except RouteMissing:
        raise CliError(_DEPLOYED_JOBS) from None
    out().print_json(json.dumps(masked_values(summary)))


def run() -> None:
    app()
