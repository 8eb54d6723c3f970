"""`prakerja imports`: a CSV batch from upload to report, the way an office clerk's is."""

from __future__ import annotations

import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

from prakerja_cli import tables
from prakerja_cli.api import Api, CliError, path_of, upload
from prakerja_cli.options import DEFAULT_API_URL, ApiUrl, Token, connect, err, handled, out
from prakerja_cli.text import masked, number

app = typer.Typer(help="Impor CSV (pendaftaran, kohor, daftar pengecualian).", no_args_is_help=True)
FINISHED = ("DONE", "REJECTED")


class Kind(StrEnum):
    registrations = "registrations"
    cohort = "cohort"
    exclusion = "exclusion"


@app.command("upload")
@handled
def upload_file(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="Berkas CSV.")],
    kind: Annotated[Kind, typer.Option(help="Jenis berkas; exclusion untuk admin saja.")],
    province: Annotated[
        str | None, typer.Option(help="Kode provinsi (admin saja; office selalu provinsinya sendiri).")
    ] = None,
    wait: Annotated[float, typer.Option(help="Detik paling lama menunggu laporan.")] = 300.0,
    interval: Annotated[float, typer.Option(help="Detik antara dua tanya status.")] = 1.0,
    api_url: ApiUrl = DEFAULT_API_URL,
    token: Token = None,
) -> None:
    """Unggah berkas CSV dan tunggu laporannya (POST /v1/imports).

    Berkas dikirim ke tautan S3 yang diberikan API (dengan bilah kemajuan), lalu status impor
    ditanyakan sampai DONE atau REJECTED; dicetak jumlah baris per hasil, per kode galat, dan tautan
    laporan. Keluar 1 bila berkas ditolak seluruhnya."""
    api = connect(api_url, token)
    request = {"kind": kind.value, "filename": file.name} | ({"province": province} if province else {})
    batch = api.post("/v1/imports", request, once=True)
    size = file.stat().st_size
    with Progress(
        TextColumn(f"Mengunggah {file.name}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=err(),
    ) as progress:
        task = progress.add_task("upload", total=size)
        upload(api.pool, batch["upload_url"], file, lambda sent: progress.advance(task, sent))
    err().print(f"Impor {batch['import_id']} terunggah; menunggu pemrosesan…")
    status = _awaited(api, batch["import_id"], wait, interval)
    show_status(status)
    if status["status"] == "REJECTED":
        raise typer.Exit(1)


@app.command()
@handled
def show(
    import_id: Annotated[str, typer.Argument(help="Id impor dari `imports upload`.")],
    api_url: ApiUrl = DEFAULT_API_URL,
    token: Token = None,
) -> None:
    """Status satu impor (GET /v1/imports/ID): jumlah per hasil, kode galat, tautan laporan."""
    show_status(connect(api_url, token).get("/v1/imports" + path_of(import_id)))


def _awaited(api: Api, import_id: str, wait: float, interval: float) -> dict[str, Any]:
    deadline = time.monotonic() + wait
    with err().status("Menunggu laporan impor…"):
        while True:
            status: dict[str, Any] = api.get("/v1/imports" + path_of(import_id))
            if status["status"] in FINISHED:
                return status
            if time.monotonic() + interval > deadline:
                raise CliError(
                    f"Impor {import_id} masih {status['status']} setelah {wait:g} detik; "
                    f"lihat lagi nanti dengan `prakerja imports show {import_id}`."
                )
            time.sleep(interval)


def show_status(status: dict[str, Any]) -> None:
    # A clerk may name a file after a person: the name is the API's words like any other.
    filename = masked(str(status.get("filename", "")))
    said = f"Impor {status['import_id']} ({status.get('kind', '')}, {filename}): {status['status']}"
    out().print(said)
    if status.get("reason"):
        reason = f"Alasan: {status['reason']}: {masked(str(status.get('reason_message') or ''))}"
        out().print(reason)
    for title, counts in (("Hasil", status.get("counts")), ("Kode galat", status.get("error_counts"))):
        if counts:
            table = tables.table(title, "Baris", figures=["Baris"])
            for name, count in sorted(counts.items()):
                table.add_row(name, number(int(count)))
            out().print(table)
    if status.get("report_url"):
        out().print("Laporan (tautan sementara):")
        out().print(status["report_url"], soft_wrap=True)
