"""`prakerja approvals`: what waits for a second admin (wave creation, selection results, re-payments).

Written against the contract (`GET /v1/approvals?status=PENDING`, `POST /v1/approvals/{id}`), whose
server side may not be deployed yet: a server without the routes is told apart from a refusal."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table

from prakerja_cli import tables
from prakerja_cli.api import Api, CliError, RouteMissing, path_of
from prakerja_cli.options import DEFAULT_API_URL, ApiUrl, Token, connect, handled, out
from prakerja_cli.text import masked, masked_values

app = typer.Typer(help="Persetujuan admin kedua: lihat, setujui, tolak.", no_args_is_help=True)

_NOT_THERE = (
    "API di alamat ini belum punya rute persetujuan (/v1/approvals): servernya lebih lama dari "
    "kontrak. Tidak ada yang diubah."
)
# Shown as columns; whatever else an approval carries is shown, masked, as its detail.
_COLUMNS = {"approval_id": "Id", "kind": "Jenis", "requested_by": "Diminta oleh", "requested_at": "Waktu"}


@app.command("list")
@handled
def list_approvals(
    status: Annotated[str, typer.Option(help="PENDING, APPROVED atau REJECTED.")] = "PENDING",
    api_url: ApiUrl = DEFAULT_API_URL,
    token: Token = None,
) -> None:
    """Permintaan yang menunggu admin kedua (GET /v1/approvals?status=PENDING)."""
    try:
        answer = connect(api_url, token).get("/v1/approvals", {"status": status})
    except RouteMissing:
        raise CliError(_NOT_THERE) from None
    out().print(approvals_table(answer.get("approvals", []), status))


@app.command()
@handled
def approve(
    approval_id: Annotated[str, typer.Argument(help="Id persetujuan.")],
    api_url: ApiUrl = DEFAULT_API_URL,
    token: Token = None,
) -> None:
    """Setujui permintaan (POST /v1/approvals/ID), sebagai admin selain yang meminta."""
    _decide(connect(api_url, token), approval_id, "APPROVE")


@app.command()
@handled
def reject(
    approval_id: Annotated[str, typer.Argument(help="Id persetujuan.")],
    api_url: ApiUrl = DEFAULT_API_URL,
    token: Token = None,
) -> None:
    """Tolak permintaan (POST /v1/approvals/ID), sebagai admin selain yang meminta."""
    _decide(connect(api_url, token), approval_id, "REJECT")


def _decide(api: Api, approval_id: str, decision: str) -> None:
    try:
        answer = api.post("/v1/approvals" + path_of(approval_id), {"decision": decision}, once=True)
    except RouteMissing:
        raise CliError(_NOT_THERE) from None
    done = "disetujui" if decision == "APPROVE" else "ditolak"
    status = answer.get("status") if isinstance(answer, dict) else None
    out().print(f"Permintaan {approval_id} {done}" + (f" (status {masked(str(status))})." if status else "."))


def approvals_table(approvals: list[dict[str, Any]], status: str) -> Table:
    table = tables.table(*_COLUMNS.values(), "Rincian", whole=["Id", "Waktu"], title=f"Persetujuan {status}")
    for approval in approvals:
        cells = [masked(str(approval.get(name, "-"))) for name in _COLUMNS]
        cells[0] = str(approval.get("approval_id", "-"))
        rest = {name: value for name, value in approval.items() if name not in _COLUMNS}
        table.add_row(*cells, json.dumps(masked_values(rest), ensure_ascii=False) if rest else "-")
    return table
