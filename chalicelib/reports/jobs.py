"""The reports' scheduled jobs: folding the tallies into figures and series, and the drift check."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint, CloudWatchEvent, Rate

from chalicelib.core.jobs import time_keeper
from chalicelib.reports import drift, rollup

bp = Blueprint(__name__)


# The series' freshness: the dashboard's hourly chart is at most five minutes behind, and a spike
# writes each series item once a run, not once a registration.
@bp.schedule(Rate(5, unit=Rate.MINUTES), name="stats")
def stats(event: CloudWatchEvent) -> dict[str, Any]:
    return rollup.fold_provinces(time_keeper(event.context))


# Hourly, so that a pass longer than one invocation goes on within the hour; a new pass starts a
# day after the last one did (`drift.EVERY`).
@bp.schedule(Rate(1, unit=Rate.HOURS), name="stats_drift")
def stats_drift(event: CloudWatchEvent) -> dict[str, Any]:
    return drift.check(time_keeper(event.context))
