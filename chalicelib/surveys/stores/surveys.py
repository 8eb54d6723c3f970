"""Surveys: each participant's rounds in their own partition, waiting in one index at a time.

A survey is written once per participant and round (its key is the data), so scheduling twice
writes nothing. While DUE it waits in `DISPATCH#<shard>` sorted by due date, so the daily job
reads only what is due; while SENT, in `OPEN#<shard>` sorted by its answer deadline, so the job
reads only what has expired; once ANSWERED or EXPIRED in none. Every move is conditional on the
status it was read in: two runs, or a run and an answer, never both move one survey.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.expressions.update import Action

from chalicelib.core.storage import UnitOfWork
from chalicelib.surveys.model import Survey, SurveyStatus
from chalicelib.surveys.stores.tables import SurveyItem

SHARDS = 16
# Labels of a refused unit of work.
SCHEDULED, MOVED = "scheduled", "survey-moved"


class _SurveyRecord(SurveyItem):
    participant_id = UnicodeAttribute()
    round = NumberAttribute()
    due_date = UnicodeAttribute()
    status = UnicodeAttribute()
    version = NumberAttribute(null=True)
    sent_at = UTCDateTimeAttribute(null=True)
    deadline = UnicodeAttribute(null=True)
    answered_at = UTCDateTimeAttribute(null=True)
    answers = JSONAttribute(null=True)
    reason = UnicodeAttribute(null=True)


def _key(participant_id: str) -> str:
    return f"RESPONDENT#{participant_id}"


def _sort_key(survey_round: int) -> str:
    return f"SURVEY#{survey_round:02d}"


def _shard(participant_id: str) -> int:
    return int(hashlib.blake2b(participant_id.encode(), digest_size=2).hexdigest(), 16) % SHARDS


def _index(survey: Survey) -> tuple[str, str] | None:
    shard = _shard(survey.participant_id)
    if survey.status is SurveyStatus.DUE:
        return f"DISPATCH#{shard:02d}", f"{survey.due_date.isoformat()}#{survey.survey_id}"
    if survey.status is SurveyStatus.SENT and survey.deadline is not None:
        return f"OPEN#{shard:02d}", f"{survey.deadline.isoformat()}#{survey.survey_id}"
    return None


def _survey(record: _SurveyRecord) -> Survey:
    return Survey(
        participant_id=record.participant_id,
        round=int(record.round),
        due_date=date.fromisoformat(record.due_date),
        status=SurveyStatus(record.status),
        version=int(record.version) if record.version is not None else None,
        sent_at=record.sent_at,
        deadline=date.fromisoformat(record.deadline) if record.deadline else None,
        answered_at=record.answered_at,
        answers=dict(record.answers or {}),
        reason=record.reason,
    )


def add(unit: UnitOfWork, survey: Survey) -> None:
    """A newly scheduled survey, written only if that round was never scheduled (label `SCHEDULED`)."""
    record = _SurveyRecord(
        _key(survey.participant_id),
        _sort_key(survey.round),
        participant_id=survey.participant_id,
        round=survey.round,
        due_date=survey.due_date.isoformat(),
        status=survey.status.value,
    )
    record.gsi1pk, record.gsi1sk = _index(survey) or (None, None)
    unit.put(record, condition=_SurveyRecord.pk.does_not_exist(), label=SCHEDULED)


def move(unit: UnitOfWork, read: Survey, to: Survey) -> None:
    """The survey from the status it was read in to `to`'s (label `MOVED` if it moved meanwhile)."""
    record = _SurveyRecord(_key(read.participant_id), _sort_key(read.round))
    actions: list[Action] = [_SurveyRecord.status.set(to.status.value)]
    if to.version is not None:
        actions.append(_SurveyRecord.version.set(to.version))
    if to.sent_at is not None:
        actions.append(_SurveyRecord.sent_at.set(to.sent_at))
    if to.deadline is not None:
        actions.append(_SurveyRecord.deadline.set(to.deadline.isoformat()))
    if to.answered_at is not None:
        actions.append(_SurveyRecord.answered_at.set(to.answered_at))
    if to.answers:
        actions.append(_SurveyRecord.answers.set(to.answers))
    if to.reason is not None:
        actions.append(_SurveyRecord.reason.set(to.reason))
    index = _index(to)
    if index is None:
        actions += [_SurveyRecord.gsi1pk.remove(), _SurveyRecord.gsi1sk.remove()]
    else:
        actions += [_SurveyRecord.gsi1pk.set(index[0]), _SurveyRecord.gsi1sk.set(index[1])]
    unit.update(record, actions=actions, condition=_SurveyRecord.status == read.status.value, label=MOVED)


def survey(participant_id: str, survey_round: int, consistent: bool = False) -> Survey | None:
    try:
        record = _SurveyRecord.get(_key(participant_id), _sort_key(survey_round), consistent_read=consistent)
    except _SurveyRecord.DoesNotExist:
        return None
    return _survey(record)


def surveys_of(participant_id: str) -> list[Survey]:
    """Every round of the participant's survey, in order: one query of their partition."""
    return [_survey(record) for record in _SurveyRecord.query(_key(participant_id))]


def due(shard: int, today: date, start_key: str | None, limit: int) -> tuple[list[Survey], str | None]:
    """A page of the shard's surveys due by `today`, oldest first: nothing not yet due is read."""
    return _waiting(f"DISPATCH#{shard:02d}", today, start_key, limit)


def expired(shard: int, today: date, start_key: str | None, limit: int) -> tuple[list[Survey], str | None]:
    """A page of the shard's sent surveys whose answer deadline was over before `today`."""
    return _waiting(f"OPEN#{shard:02d}", today - timedelta(days=1), start_key, limit)


def _waiting(
    partition: str, until: date, start_key: str | None, limit: int
) -> tuple[list[Survey], str | None]:
    results = _SurveyRecord.gsi1.query(
        partition,
        _SurveyRecord.gsi1sk < f"{until.isoformat()}~",
        limit=limit,
        last_evaluated_key=json.loads(start_key) if start_key else None,
    )
    found = [_survey(record) for record in results]
    last = results.last_evaluated_key
    return found, json.dumps(last) if last else None
