"""The reports' scheduled jobs: folding the tallies into figures and series, and the drift check."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint, CloudWatchEvent, Cron, Rate

from chalicelib.core.jobs import time_keeper
from chalicelib.reports import drift, rollup

bp = Blueprint(__name__)


# The series' freshness: the dashboard's hourly chart is at most five minutes behind, and a spike
# writes each series item once a run, not once a registration.
@bp.schedule(Rate(5, unit=Rate.MINUTES), name="stats")
def stats(event: CloudWatchEvent) -> dict[str, Any]:
    return rollup.fold_provinces(time_keeper(event.context))


# At night in Indonesia (02:00–06:00 WIB), when few figures move under the recount; hourly within
# it, so that a pass longer than one invocation goes on. A new pass starts a day after the last
# one did (`drift.EVERY`).
@bp.schedule(Cron(0, "19-23", "*", "*", "?", "*"), name="stats_drift")
def stats_drift(event: CloudWatchEvent) -> dict[str, Any]:
    return drift.check(time_keeper(event.context))
