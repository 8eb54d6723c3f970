"""Training's scheduled job: give unused balances back to the programme."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint, CloudWatchEvent, Rate

from chalicelib.core.jobs import time_keeper
from chalicelib.training import revocation as sweeps

bp = Blueprint(__name__)


# Due days end at midnight in Jakarta; an hourly run finds nothing new most of the time (a read of
# each checkpoint) and lets a backlog bigger than one invocation drain the same day. Expiry returns
# balance "the same way" as revocation (DESIGN.md), so one job does both, the contract's `revocation`.
@bp.schedule(Rate(1, unit=Rate.HOURS), name="revocation")
def revocation(event: CloudWatchEvent) -> dict[str, Any]:
    has_time = time_keeper(event.context)
    deadlines = sweeps.sweep_deadlines(has_time)
    if deadlines.get("more"):
        return {"deadlines": deadlines, "more": True}
    expiry = sweeps.expire_balances(has_time)
    return {"deadlines": deadlines, "expiry": expiry, "more": bool(expiry.get("more"))}
