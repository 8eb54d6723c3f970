"""`prakerja waves`: the programme's waves, created by an admin and listed for anyone."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from prakerja_cli import tables
from prakerja_cli.options import DEFAULT_API_URL, ApiUrl, Token, connect, handled, out
from prakerja_cli.text import number

app = typer.Typer(help="Gelombang pendaftaran: buat dan lihat.", no_args_is_help=True)


def province_quotas(values: list[str]) -> dict[str, int]:
    """`31=1000` pairs as the API's `province_quotas`."""
    quotas: dict[str, int] = {}
    for value in values:
        code, _, quota = value.partition("=")
        if not code.strip().isdigit() or not quota.strip().isdigit():
            raise typer.BadParameter(
                f"{value!r}: tulis KODE=KUOTA, mis. 31=1000.", param_hint="--province-quota"
            )
        quotas[code.strip()] = int(quota)
    return quotas


@app.command()
@handled
def create(
    wave_id: Annotated[str, typer.Argument(help="Kode gelombang, mis. W17 (huruf besar, angka, -).")],
    opens_at: Annotated[str, typer.Option(help="Dibuka, ISO 8601 dengan zona: 2021-06-01T00:00:00+07:00.")],
    closes_at: Annotated[str, typer.Option(help="Ditutup, ISO 8601 dengan zona.")],
    quota: Annotated[int, typer.Option(help="Kuota nasional (orang).")],
    province_quota: Annotated[
        list[str] | None, typer.Option(help="Kuota provinsi KODE=KUOTA; boleh berulang.", show_default=False)
    ] = None,
    api_url: ApiUrl = DEFAULT_API_URL,
    token: Token = None,
) -> None:
    """Buat gelombang (POST /v1/waves, admin).

    Bila admin kedua harus menyetujui dulu, cetak id persetujuannya untuk `approvals approve`."""
    request = {
        "wave_id": wave_id,
        "opens_at": opens_at,
        "closes_at": closes_at,
        "quota": quota,
        "province_quotas": province_quotas(province_quota or []),
    }
    answer = connect(api_url, token).post("/v1/waves", request, once=True)
    if "approval_id" in answer:
        out().print(
            f"Gelombang {wave_id} menunggu persetujuan admin kedua: "
            f"prakerja approvals approve {answer['approval_id']}"
        )
        return
    out().print(f"Gelombang {answer['wave_id']} dibuat.")
    out().print(waves_table([answer]))


@app.command("list")
@handled
def list_waves(api_url: ApiUrl = DEFAULT_API_URL, token: Token = None) -> None:
    """Semua gelombang (GET /v1/waves): waktu buka/tutup, kuota, apakah lamaran dibuka."""
    out().print(waves_table(connect(api_url, token).get("/v1/waves")["waves"]))


def waves_table(waves: list[dict[str, Any]]) -> Table:
    headers = ("Gelombang", "Dibuka", "Ditutup", "Kuota", "Kuota provinsi", "Lamaran")
    table = tables.table(
        *headers, figures=["Kuota"], whole=["Gelombang", "Dibuka", "Ditutup"], title="Gelombang"
    )
    for wave in waves:
        quotas = ", ".join(
            f"{code}={number(q)}" for code, q in sorted(wave.get("province_quotas", {}).items())
        )
        table.add_row(
            wave["wave_id"],
            str(wave["opens_at"]),
            str(wave["closes_at"]),
            number(wave["quota"]),
            quotas or "-",
            "dibuka" if wave.get("applications_open") else "ditutup",
        )
    return table
