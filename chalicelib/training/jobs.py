"""Training's scheduled jobs: the revocation sweep and the balance expiry."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint, CloudWatchEvent, Rate

from chalicelib.registration.jobs import time_keeper
from chalicelib.training import service

bp = Blueprint(__name__)


# Due days end at midnight in Jakarta; an hourly run finds nothing new most of the time (one read
# of its checkpoint) and lets a backlog bigger than one invocation drain the same day.
@bp.schedule(Rate(1, unit=Rate.HOURS), name="revocation")
def revocation(event: CloudWatchEvent) -> dict[str, Any]:
    return service.sweep_deadlines(time_keeper(event.context))


@bp.schedule(Rate(1, unit=Rate.HOURS), name="balance_expiry")
def balance_expiry(event: CloudWatchEvent) -> dict[str, Any]:
    return service.expire_balances(time_keeper(event.context))
