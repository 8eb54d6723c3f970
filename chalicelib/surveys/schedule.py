"""When surveys fall due: after a participant's first completed course, each round at its offset
(programme configuration), learnt from training's survey stream; a revocation ends them.

The rounds and the event's consumption are one unit of work: the surveys exist exactly when the
event is taken, so a run killed anywhere schedules nothing twice and loses nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

from chalicelib.core import outbox
from chalicelib.core.observability import count, logger
from chalicelib.core.settings import programme
from chalicelib.core.storage import Refused, UnitOfWork
from chalicelib.surveys.model import Survey, SurveyStatus
from chalicelib.surveys.stores import surveys
from chalicelib.training.model import FIRST_COMPLETION, REVOKED, SURVEY_EVENTS

PAGE = 100


def take_training_events(has_time: Callable[[], bool]) -> dict[str, int | bool]:
    """Read training's survey stream shard by shard, acting on each event once."""
    scheduled = ended = taken = 0
    for event in outbox.each_pending(SURVEY_EVENTS, has_time, PAGE):
        if event.kind == FIRST_COMPLETION:
            scheduled += _schedule(event)
        elif event.kind == REVOKED:
            ended += _end(event)
        else:
            _consume(event)
        taken += 1
    if not has_time():
        return {"events": taken, "scheduled": scheduled, "ended": ended, "more": True}
    count("SurveyEventsTaken", taken)
    return {"events": taken, "scheduled": scheduled, "ended": ended}


def _schedule(event: outbox.DomainEvent) -> int:
    completed_on = event.created_at.astimezone(programme().timezone).date()
    unit = UnitOfWork()
    for number, offset in enumerate(programme().survey_offsets_days[: programme().survey_count], start=1):
        surveys.add(unit, Survey(event.key, number, completed_on + timedelta(days=offset)))
    outbox.consumed(unit, event)
    try:
        unit.commit()
    except Refused as refused:
        if surveys.SCHEDULED not in refused.labels:
            raise
        _consume(event)  # scheduled before, by a run that died before it took the event out
        return 0
    logger.info("surveys scheduled", extra={"participant_id": event.key})
    return 1


def _end(event: outbox.DomainEvent) -> int:
    """A revoked participant's surveys not yet answered expire: no invitation, no reward."""
    ended = 0
    for found in surveys.surveys_of(event.key):
        if found.status in (SurveyStatus.DUE, SurveyStatus.SENT):
            unit = UnitOfWork()
            surveys.move(unit, found, replace(found, status=SurveyStatus.EXPIRED, reason="REVOKED"))
            try:
                unit.commit()
            except Refused:
                continue  # moved meanwhile: a revoked participant's answer is refused anyway
            ended += 1
    _consume(event)
    return ended


def _consume(event: outbox.DomainEvent) -> None:
    unit = UnitOfWork()
    outbox.consumed(unit, event)
    unit.commit()
