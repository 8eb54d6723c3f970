"""Public figures per province, read from the counters every domain keeps (`core.counters`).

Reports only read: each domain names its figures in its service, and nothing here writes."""

from __future__ import annotations

from chalice.app import Blueprint, Response
from pydantic import BaseModel

from chalicelib.core import counters
from chalicelib.core.errors import NotFound
from chalicelib.core.http import respond, route
from chalicelib.core.operations import Operation
from chalicelib.core.provinces import is_province, province_names
from chalicelib.registration import service as registration
from chalicelib.reports.schemas import FIGURES, ProvinceFigures, ProvinceList, WaveFigures
from chalicelib.surveys import service as surveys

bp = Blueprint(__name__)


def _figures(code: str) -> BaseModel:
    totals, groups = counters.totals(counters.province_scope(code), FIGURES)
    unspent = totals["returned_balance"] + totals["expired_balance"]
    return ProvinceFigures.model_validate(
        {
            "province_code": code,
            "name": province_names()[code],
            **totals,
            "cohorts": registration.cohorts(groups),
            "unspent_balance": unspent,
            "survey_outcomes": surveys.outcomes(groups),
        }
    )


@route(
    bp,
    "/v1/stats/provinces",
    methods=["GET"],
    cors=True,
    operation=Operation(summary="Every province's figures", responses={200: ProvinceList}),
)
def all_provinces() -> Response:
    return respond(
        ProvinceList.model_validate({"provinces": [_figures(code) for code in sorted(province_names())]})
    )


@route(
    bp,
    "/v1/stats/provinces/{code}",
    methods=["GET"],
    cors=True,
    operation=Operation(summary="One province's figures", responses={200: ProvinceFigures}),
)
def one_province(code: str) -> Response:
    if not is_province(code):
        raise NotFound("Provinsi tidak dikenal.", code="PROVINCE_NOT_FOUND")
    return respond(_figures(code))


@route(
    bp,
    "/v1/stats/provinces/{code}/waves/{wave_id}",
    methods=["GET"],
    cors=True,
    operation=Operation(summary="One wave's figures within a province", responses={200: WaveFigures}),
)
def one_wave_of_a_province(code: str, wave_id: str) -> Response:
    """One wave's figures within a province (what its revocations returned, the outcomes of its
    participants' surveys): one query of the wave's counters."""
    if not is_province(code):
        raise NotFound("Provinsi tidak dikenal.", code="PROVINCE_NOT_FOUND")
    registration.wave(wave_id)
    totals, groups = counters.totals(counters.wave_scope(wave_id, code), FIGURES)
    return respond(
        WaveFigures.model_validate(
            {"province_code": code, "wave_id": wave_id, **totals, "survey_outcomes": surveys.outcomes(groups)}
        )
    )
