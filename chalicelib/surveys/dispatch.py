"""The daily surveys job: learn of first completions, expire what was not answered in time, and
send what is due, each through its own index, so that nothing not due is read.

Sending a survey is one unit of work: the survey moves to SENT (only from DUE) with the
questionnaire version of the day and its answer deadline, and the invitation goes to the outbox
(one record per participant and round), so a survey is never sent twice, however often the job
runs or wherever it was killed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

from chalicelib.core import clock, outbox
from chalicelib.core.observability import count
from chalicelib.core.settings import programme
from chalicelib.core.storage import Refused, UnitOfWork
from chalicelib.registration import service as registration
from chalicelib.surveys import definitions, schedule
from chalicelib.surveys.model import Survey, SurveyStatus
from chalicelib.surveys.stores import surveys

PAGE = 100
INVITATION = "SURVEY_INVITATION"


def run(has_time: Callable[[], bool]) -> dict[str, object]:
    summary: dict[str, object] = {"events": schedule.take_training_events(has_time)}
    today = registration.programme_today()
    moved: dict[str, int] = {"expired": 0, "sent": 0}
    read = 0
    for shard in range(surveys.SHARDS):
        for name, page_of, act in (("expired", surveys.expired, _expire), ("sent", surveys.due, _send)):
            start: str | None = None
            while True:
                if not has_time():
                    return summary | moved | {"read": read, "more": True}
                page, start = page_of(shard, today, start, PAGE)
                read += len(page)
                moved[name] += sum(act(found) for found in page)
                if start is None:
                    break
    count("SurveysSent", moved["sent"])
    count("SurveysExpired", moved["expired"])
    return summary | moved | {"read": read}


def _send(found: Survey) -> bool:
    now = clock.now()
    today = registration.programme_today()
    to = replace(
        found,
        status=SurveyStatus.SENT,
        version=definitions.current_version(),
        sent_at=now,
        deadline=today + timedelta(days=programme().survey_answer_days),
    )
    unit = UnitOfWork()
    surveys.move(unit, found, to)
    assert to.deadline is not None
    details = {"survey_id": to.survey_id, "round": str(to.round), "deadline": to.deadline.isoformat()}
    outbox.add(unit, to.participant_id, INVITATION, f"SURVEY#{to.round}", details, now)
    return _committed(unit)


def _expire(found: Survey) -> bool:
    unit = UnitOfWork()
    surveys.move(unit, found, replace(found, status=SurveyStatus.EXPIRED, reason="NOT_ANSWERED"))
    return _committed(unit)


def _committed(unit: UnitOfWork) -> bool:
    try:
        unit.commit()
    except Refused:
        return False  # moved meanwhile (answered, or taken by another run)
    return True
