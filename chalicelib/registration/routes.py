"""Registration routes: HTTP in, a domain call, HTTP out."""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib.auth import require
from chalicelib.http import created, idempotent, parse, respond, route
from chalicelib.registration import service
from chalicelib.registration.schemas import WaveRequest, WaveView
from chalicelib.registration.store import Wave

bp = Blueprint(__name__)


def _view(wave: Wave) -> dict[str, object]:
    return WaveView(
        wave_id=wave.wave_id,
        opens_at=wave.opens_at,
        closes_at=wave.closes_at,
        quota=wave.quota,
        province_quotas=wave.province_quotas,
        applications_open=service.applications_open(wave),
    ).model_dump(mode="json")


@route(bp, "/v1/waves", methods=["GET"], cors=True)
def list_waves() -> Response:
    return respond({"waves": [_view(wave) for wave in service.list_waves()]})


@route(bp, "/v1/waves", methods=["POST"])
def create_wave() -> Response:
    admin = require(bp.current_request.headers, "admin")
    request = parse(WaveRequest, bp.current_request.raw_body)
    return idempotent(
        bp, f"waves:{admin.sub}", lambda: created(_view(service.create_wave(request, admin=admin.sub)))
    )
