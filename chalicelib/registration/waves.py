"""Waves: creating them, and running a wave's selection as a job, pool by pool."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from chalicelib.core import clock, queues
from chalicelib.core.observability import logger
from chalicelib.registration import selection
from chalicelib.registration.errors import WaveExists, WaveNotFound, WaveStillOpen
from chalicelib.registration.model import SelectionState, Wave
from chalicelib.registration.schemas import WaveRequest
from chalicelib.registration.stores import waves as store
from chalicelib.registration.stores.selection import DynamoSelectionStore


def create_wave(request: WaveRequest, admin: str) -> Wave:
    wave = Wave(
        wave_id=request.wave_id,
        opens_at=request.opens_at,
        closes_at=request.closes_at,
        quota=request.quota,
        province_quotas=dict(request.province_quotas),
        seed=secrets.token_hex(16),
    )
    if not store.add_wave(wave, created_by=admin):
        raise WaveExists()
    logger.info("wave created", extra={"wave_id": wave.wave_id, "quota": wave.quota})
    return wave


def list_waves() -> list[Wave]:
    return sorted(store.waves(), key=lambda wave: (wave.opens_at, wave.wave_id))


def wave(wave_id: str) -> Wave:
    found = store.wave(wave_id)
    if found is None:
        raise WaveNotFound()
    return found


def applications_open(wave: Wave) -> bool:
    return wave.accepts_applications(clock.now())


def request_selection(wave_id: str, admin: str) -> Wave:
    """Ask for the wave's selection; the selection job picks it up. Asking again changes nothing."""
    found = wave(wave_id)
    if clock.now() < found.closes_at:
        raise WaveStillOpen()
    if store.set_selection(wave_id, SelectionState.REQUESTED, {SelectionState.NOT_STARTED}, by=admin):
        logger.info("selection requested", extra={"wave_id": wave_id})
    return store.wave(wave_id) or found


def start_requested_selections() -> dict[str, Any]:
    """Fan every requested wave out to one selection message per pool (province or nation).

    Messages go out before the wave is marked running, so a crash in between only sends them
    again, and a pool's selection runs safely twice (see `selection.select_pool`).
    """
    started = []
    for requested in store.waves():
        if requested.selection is not SelectionState.REQUESTED:
            continue
        queues.send_all(
            "selection", ({"wave_id": requested.wave_id, "pool": pool} for pool in requested.pools())
        )
        store.set_selection(requested.wave_id, SelectionState.RUNNING, {SelectionState.REQUESTED})
        started.append(requested.wave_id)
    return {"waves_started": started}


LAMBDA_LIFETIME = timedelta(minutes=15)


def continue_selection(wave_id: str, pool: str, has_time: Callable[[], bool]) -> dict[str, Any]:
    """Select in one pool until done or out of time; hands the rest on, and closes the wave at the end."""
    found = store.wave(wave_id)
    if found is None or found.selection is SelectionState.DONE:
        return {"wave_id": wave_id, "pool": pool, "skipped": True}
    now = clock.now()
    # Every decision of this invocation is taken between these moments (a Lambda lives 15 minutes),
    # under the rules this container holds: the days its people fall due on are recorded first.
    moments = (now, now + LAMBDA_LIFETIME)
    store.add_due_days(
        wave_id,
        deadline_days={selection.purchase_deadline(moment).date() for moment in moments},
        expiry_days={selection.balance_expiry(moment).date() for moment in moments},
    )
    selections = DynamoSelectionStore()
    checkpoint = selection.select_pool(selections, found, pool, has_time)
    if not checkpoint.done:
        queues.send("selection", {"wave_id": wave_id, "pool": pool})
    elif selections.pools_done(wave_id, len(found.pools())):
        store.set_selection(wave_id, SelectionState.DONE, {SelectionState.RUNNING})
        logger.info("selection done", extra={"wave_id": wave_id})
    return {"wave_id": wave_id, "pool": pool, "selected": checkpoint.selected, "done": checkpoint.done}
