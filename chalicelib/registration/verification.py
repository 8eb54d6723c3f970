"""Checking registrants' identities with the civil registry, paced to what the registry allows.

The registration request never waits for the registry (its lookups are slow and capped, and a
bottleneck of past waves). A registration leaves the participant PENDING in a sparse index;
the dispatch job, every minute, takes the oldest pending ones up to the per-second and daily
caps, queues one lookup each, spread over the minute with SQS delays, and then takes them out
of the index (a crash in between only queues them twice; the consumer skips a decided one).
The consumer asks the registry and records the answer once. A registry error is retried with
growing delays and ends in the dead-letter queue, from which it is redriven: the participant
stays PENDING, never lost.
"""

from __future__ import annotations

import functools
from typing import Any

from chalicelib import clock, queues
from chalicelib.observability import logger
from chalicelib.registration import registry, store
from chalicelib.registration.model import Event, Verification
from chalicelib.registration.store import VERIFICATION_SHARDS
from chalicelib.settings import settings

RUN_SECONDS = 60
MAX_SQS_DELAY = 900


def dispatch() -> dict[str, Any]:
    """Queue this minute's lookups; `more` if pending ones were left only because of the per-run cap."""
    config = settings()
    now = clock.now()
    today = now.date()
    daily_left = config.registry_daily_cap - store.lookups_dispatched(today)
    budget = min(config.registry_rate_per_second * RUN_SECONDS, daily_left)
    dispatched, full = 0, False
    for shard in range(VERIFICATION_SHARDS):
        room = budget - dispatched
        if room <= 0:
            full = True
            break
        pending = store.pending_verifications(shard, room)
        if not pending:
            continue
        queues.send_all(
            "verification",
            ({"participant_id": participant_id} for participant_id in pending),
            delay=functools.partial(_pace, start=dispatched, rate=config.registry_rate_per_second),
        )
        store.mark_dispatched(pending, now)
        dispatched += len(pending)
    if dispatched:
        store.add_lookups_dispatched(today, dispatched)
    return {"dispatched": dispatched, "more": full and daily_left - dispatched > 0}


def _pace(index: int, start: int, rate: int) -> int:
    """The n-th lookup of a run waits n / rate seconds: the registry sees at most `rate` a second."""
    return min((start + index) // rate, MAX_SQS_DELAY)


def verify(participant_id: str) -> str:
    """Ask the registry about one participant and record the answer; raises if it could not answer."""
    participant = store.participant(participant_id)
    if participant is None or participant.verification is not Verification.PENDING:
        return "SKIPPED"
    answer = registry.look_up(
        participant.nik, participant.kk_number, participant.full_name, participant.birth_date
    )
    outcome = Verification.NIK_VERIFIED if answer.verified else Verification.NIK_REJECTED
    event = Event(
        at=clock.now(),
        actor="dukcapil",
        action=outcome.value,
        status_from=None,
        status_to=None,
        reason=answer.reason,
    )
    store.record_verification(participant, outcome, answer.reason, event)
    logger.info("identity checked", extra={"participant_id": participant_id, "outcome": outcome.value})
    return outcome.value
