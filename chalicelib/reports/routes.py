"""Public figures per province and nationally, read from the counters every domain keeps
(`core.counters`), and the dashboard's series (`reports.series`).

Reports only read: each domain names its figures in its service, and nothing here writes. The
national figures are the provinces' added up, in the answer that lists every province: no
national counter for every registration to write, and no read beyond the provinces' own."""

from __future__ import annotations

from collections.abc import Mapping

from chalice.app import Blueprint, Response

from chalicelib.core import counters
from chalicelib.core.errors import NotFound, ValidationFailed
from chalicelib.core.http import respond, route
from chalicelib.core.operations import Operation
from chalicelib.core.provinces import is_province, province_names
from chalicelib.registration import service as registration
from chalicelib.reports import rollup, series
from chalicelib.reports.schemas import (
    FIGURES,
    ProvinceFigures,
    ProvinceList,
    Series,
    SeriesQuery,
    WaveFigures,
)
from chalicelib.surveys import service as surveys

bp = Blueprint(__name__)
Groups = dict[str, dict[str, int]]


def _figures(code: str, name: str, totals: Mapping[str, int], groups: Groups) -> dict[str, object]:
    return {
        "province_code": code,
        "name": name,
        **totals,
        "cohorts": registration.cohorts(groups),
        "unspent_balance": totals["returned_balance"] + totals["expired_balance"],
        "survey_outcomes": surveys.outcomes(groups),
    }


def _province(code: str) -> dict[str, object]:
    totals, groups = counters.totals(counters.province_scope(code), FIGURES)
    return _figures(code, province_names()[code], totals, groups)


@route(
    bp,
    "/v1/stats/provinces",
    methods=["GET"],
    cors=True,
    operation=Operation(
        summary="Every province's figures, and the national ones", responses={200: ProvinceList}
    ),
)
def all_provinces() -> Response:
    """Every province, and the national figures as their sum (shares recomputed from the sums)."""
    national = dict.fromkeys(FIGURES, 0)
    national_groups: Groups = {}
    provinces = []
    for code in sorted(province_names()):
        totals, groups = counters.totals(counters.province_scope(code), FIGURES)
        provinces.append(_figures(code, province_names()[code], totals, groups))
        for name in FIGURES:
            national[name] += totals[name]
        for group, figures in groups.items():
            into = national_groups.setdefault(group, {})
            for name, value in figures.items():
                into[name] = into.get(name, 0) + value
    whole = _figures(rollup.NATIONAL, "Indonesia", national, national_groups)
    return respond(ProvinceList.model_validate({"provinces": provinces, "national": whole}))


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
    return respond(ProvinceFigures.model_validate(_province(code)))


def _series(scope: str) -> Response:
    params: Mapping[str, str] = bp.current_request.query_params or {}
    asked = series.date_range(params.get("from"), params.get("to"), registration.programme_today())
    if isinstance(asked, dict):
        raise ValidationFailed(fields=asked)
    return respond(Series.model_validate({"scope": scope, **series.series(scope, *asked)}))


@route(
    bp,
    "/v1/stats/provinces/{code}/series",
    methods=["GET"],
    cors=True,
    operation=Operation(
        summary="Registrations per hour and payment outcomes per day in a province",
        responses={200: Series},
        query=SeriesQuery,
        errors=(422,),
    ),
)
def province_series(code: str) -> Response:
    """Registrations per hour and payment outcomes per day in the province (`reports.series`)."""
    if not is_province(code):
        raise NotFound("Provinsi tidak dikenal.", code="PROVINCE_NOT_FOUND")
    return _series(counters.province_scope(code))


@route(
    bp,
    "/v1/stats/series",
    methods=["GET"],
    cors=True,
    operation=Operation(
        summary="Registrations per hour and payment outcomes per day, nationally",
        responses={200: Series},
        query=SeriesQuery,
        errors=(422,),
    ),
)
def national_series() -> Response:
    """The same series for the whole country, folded beside the provinces' by the `stats` job."""
    return _series(rollup.NATIONAL)


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
