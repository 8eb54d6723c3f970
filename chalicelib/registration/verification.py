"""Checking registrants' identities with the civil registry, paced to what the registry allows.

The registration request never waits for the registry (its lookups are slow and capped, and a
bottleneck of past waves). A registration leaves the participant PENDING in a sparse index;
the dispatch job, every minute, takes the oldest pending ones of all the index's shards up to the
per-second and daily caps and reserves that many lookups on the day's counter before sending any:
the counter refuses to pass the cap, so neither a run killed before it could count nor two
overlapping runs go over it (a run killed after reserving wastes a little of the day's budget,
which is the safe direction).
It then claims each check in the index, conditionally, so that of two overlapping runs only one
asks about a person, and queues one lookup for each it claimed, spread over the minute with SQS
delays. A claim moves the check behind the undispatched ones rather than out of the index: a run
killed between claiming and sending leaves checks that come back a day later, never lost.
The consumer first takes the one lookup a dispatch allows, with a conditional write on the
profile, so that a message delivered twice, or retried after the registry answered, asks the
registry once; it records the answer once, which takes the check out of the index. A registry
error gives the lookup back and is retried with growing delays, ending in the dead-letter queue,
from which it is redriven; a consumer that dies holding the lookup leaves it to the check's next
dispatch, a day later. Either way the participant stays PENDING, never lost.
"""

from __future__ import annotations

import functools
import heapq
import itertools
import operator
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from chalicelib.core import clock, queues
from chalicelib.core.observability import count, logger
from chalicelib.core.settings import settings
from chalicelib.registration import registry
from chalicelib.registration.model import Event, Verification
from chalicelib.registration.stores import verification as store
from chalicelib.registration.stores.participants import VERIFICATION_SHARDS

RUN_SECONDS = 60
MAX_SQS_DELAY = 900
# Longer than a lookup can take through every retry of its message (the queue's delays and
# backoff come to well under an hour): a check dispatched this long ago and still pending was
# never sent, or its message sits in the dead-letter queue, and is dispatched again.
REDISPATCH_AFTER = timedelta(days=1)


def dispatch() -> dict[str, Any]:
    """Queue this minute's lookups; `more` if pending ones were left only because of the per-run cap."""
    config = settings()
    now = clock.now()
    today = now.date()
    daily_left = config.registry_daily_cap - store.lookups_dispatched(today)
    pending, full = _pending(min(config.registry_rate_per_second * RUN_SECONDS, daily_left), now)
    if not pending:
        return {"dispatched": 0, "more": False}
    reserved = store.reserve_lookups(today, len(pending), config.registry_daily_cap)
    claimed = store.claim_verifications(pending[:reserved], now, now + REDISPATCH_AFTER)
    if len(claimed) < reserved:
        store.release_lookups(today, reserved - len(claimed))
    if claimed:
        queues.send_all(
            "verification",
            ({"participant_id": participant_id} for participant_id in claimed),
            delay=functools.partial(_pace, rate=config.registry_rate_per_second),
        )
    count("VerificationsDispatched", len(claimed))
    return {"dispatched": len(claimed), "more": full and daily_left - len(claimed) > 0}


def _pending(budget: int, now: datetime) -> tuple[list[tuple[str, str]], bool]:
    """Up to `budget` checks to dispatch, the first of all shards in the index's order (undispatched
    ones oldest first, then those due again); and whether the budget ran out first.

    Filling the budget shard by shard would starve the last shards for as long as the first ones
    have a backlog, and selection passes over whoever is still pending. Instead every shard is read
    in pages of an even share of the budget and the pages are merged by their place in the index:
    a run reads at most its budget and one page per shard more, however large the backlog.
    """
    if budget <= 0:
        return [], True
    page = -(-budget // VERIFICATION_SHARDS)
    shards = [_in_index_order(shard, page, now) for shard in range(VERIFICATION_SHARDS)]
    pending = list(itertools.islice(heapq.merge(*shards, key=operator.itemgetter(1)), budget))
    return pending, len(pending) == budget


def _in_index_order(shard: int, page: int, now: datetime) -> Iterator[tuple[str, str]]:
    """One shard's checks to dispatch, read a page at a time, only as far as the merge asks."""
    after = None
    while True:
        found = store.pending_verifications(shard, page, now, after)
        yield from found
        if len(found) < page:
            return
        after = found[-1]


def _pace(index: int, rate: int) -> int:
    """The n-th lookup of a run waits n / rate seconds: the registry sees at most `rate` a second."""
    return min(index // rate, MAX_SQS_DELAY)


def verify(participant_id: str) -> str:
    """Ask the registry about one participant, at most once per dispatch of their check, and record
    the answer; raises if the registry could not answer, giving the lookup back for the retry.

    Any other failure keeps the lookup taken, since the registry may have answered: the message's
    retries are skipped and the check comes back when it falls due again (`REDISPATCH_AFTER`).
    """
    taken_at = clock.now()
    participant = store.take_lookup(participant_id, taken_at)
    if participant is None:
        return "SKIPPED"
    try:
        answer = registry.look_up(
            participant.nik, participant.kk_number, participant.full_name, participant.birth_date
        )
    except registry.RegistryUnavailable:
        store.give_back_lookup(participant_id, taken_at)
        raise
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
