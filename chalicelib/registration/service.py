"""Registration use cases; no HTTP, no DynamoDB details."""

from __future__ import annotations

from chalicelib import clock
from chalicelib.errors import Conflict
from chalicelib.observability import logger
from chalicelib.registration import store
from chalicelib.registration.schemas import WaveRequest
from chalicelib.registration.store import Wave


class WaveExists(Conflict):
    code = "WAVE_EXISTS"
    message = "Gelombang dengan kode ini sudah ada."


def create_wave(request: WaveRequest, admin: str) -> Wave:
    wave = Wave(
        wave_id=request.wave_id,
        opens_at=request.opens_at,
        closes_at=request.closes_at,
        quota=request.quota,
        province_quotas=dict(request.province_quotas),
    )
    if not store.add_wave(wave, created_by=admin):
        raise WaveExists()
    logger.info("wave created", extra={"wave_id": wave.wave_id, "quota": wave.quota})
    return wave


def list_waves() -> list[Wave]:
    return sorted(store.waves(), key=lambda wave: (wave.opens_at, wave.wave_id))


def applications_open(wave: Wave) -> bool:
    return wave.accepts_applications(clock.now())
