"""The surveys stage's scheduled job: an event in, a domain call, a summary out."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint, CloudWatchEvent, Cron

from chalicelib.core.jobs import time_keeper
from chalicelib.surveys import dispatch

bp = Blueprint(__name__)


# 08:00 WIB daily: surveys are due by the day, and invitations arrive in the morning.
@bp.schedule(Cron(0, 1, "*", "*", "?", "*"), name="surveys")
def surveys(event: CloudWatchEvent) -> dict[str, Any]:
    return dispatch.run(time_keeper(event.context))
