"""Runs the app's scheduled functions the way the local stack promises (CONTRACT.md, `/dev/jobs`).

A job hands back a summary; `"more": true` means it stopped at its time budget with work left, so
it is called again until it has none. `/dev/jobs` then waits for everything the job set moving
through the queues, so its answer describes a finished state, not a started one.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from typing import Any

from devstack.activity import Activity
from devstack.declarations import Job, ScheduledFunction
from devstack.events import ContextFactory, scheduled_event
from devstack.issuer import LocalIssuer
from devstack.partners import FakePartners
from devstack.relay import Relay

log = logging.getLogger("devstack.jobs")

MAX_CALLS = 10_000
DRAIN_TIMEOUT_SECONDS = 600.0

Summary = dict[str, Any]


class JobRunner:
    """Invokes a scheduled function with EventBridge's event, its `time` read from the app's clock
    so that a job run after `/dev/clock` sees one consistent "now"."""

    def __init__(
        self, activity: Activity, contexts: ContextFactory, region: str, now: Callable[[], datetime]
    ) -> None:
        self._activity = activity
        self._contexts = contexts
        self._region = region
        self._now = now
        self._locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)
        self._locks_guard = threading.Lock()

    def run(self, function: ScheduledFunction) -> Summary:
        """One run to completion; the schedule and `/dev/jobs` never run the same job side by side."""
        with self._lock(function.name):
            summary: Summary = {}
            for _ in range(MAX_CALLS):
                summary = self._invoke(function)
                if not summary.get("more"):
                    return summary
            log.warning("%s still reports more work after %d calls; stopping", function.name, MAX_CALLS)
            return summary

    def _lock(self, name: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks[name]

    def _invoke(self, function: ScheduledFunction) -> Summary:
        event = scheduled_event(function.name, self._region, self._now())
        with self._activity.invocation():
            result = function.handler(event, self._contexts(function.name))
        if result is None:
            return {}
        return result if isinstance(result, dict) else {"result": result}


class Runtime:
    """What the dev routes act through: the local token issuer, the job runner, the relay, and the
    fake payment partners (None where a test runs the routes without them)."""

    def __init__(
        self, issuer: LocalIssuer, runner: JobRunner, relay: Relay, partners: FakePartners | None = None
    ) -> None:
        self.issuer = issuer
        self._runner = runner
        self._relay = relay
        self.partners = partners

    def run_job(self, job: Job, drain_timeout: float = DRAIN_TIMEOUT_SECONDS) -> Summary:
        relayed_before = self._relay.delivered
        summary = self._runner.run(job.scheduled) if job.scheduled else {}
        drained = self._relay.drain(drain_timeout)
        if not drained:
            log.warning("queues still busy after %s; answering anyway", job.name)
        return {**summary, "messages_relayed": self._relay.delivered - relayed_before, "drained": drained}
