"""Public figures per province: counters kept by the writes that change them (`chalicelib.stats`)."""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib.core import counters as stats
from chalicelib.core.errors import NotFound
from chalicelib.core.http import respond, route
from chalicelib.registration.provinces import is_province, province_names

bp = Blueprint(__name__)


def _figures(code: str) -> dict[str, object]:
    totals = stats.totals(stats.province_scope(code))
    unspent = int(totals["returned_balance"]) + int(totals["expired_balance"])
    return {"province_code": code, "name": province_names()[code], **totals, "unspent_balance": unspent}


@route(bp, "/v1/stats/provinces", methods=["GET"], cors=True)
def all_provinces() -> Response:
    return respond({"provinces": [_figures(code) for code in sorted(province_names())]})


@route(bp, "/v1/stats/provinces/{code}", methods=["GET"], cors=True)
def one_province(code: str) -> Response:
    if not is_province(code):
        raise NotFound("Provinsi tidak dikenal.", code="PROVINCE_NOT_FOUND")
    return respond(_figures(code))
