"""A participant's answer to their survey: checked against the version it was sent with, kept
once, counted in the outcome figures, and its reward owed, all in one unit of work, so that no
answer is kept without its reward and no reward is owed twice."""

from __future__ import annotations

from dataclasses import replace

from chalicelib.core import clock
from chalicelib.core.observability import count, logger
from chalicelib.core.storage import Refused, UnitOfWork
from chalicelib.incentives import service as incentives
from chalicelib.registration import service as registration
from chalicelib.registration.model import Account, Participant, Status
from chalicelib.surveys import definitions, figures
from chalicelib.surveys.errors import AlreadyAnswered, SurveyExpired, SurveyNotFound, SurveyNotSent
from chalicelib.surveys.model import Survey, SurveyStatus, parse_survey_id
from chalicelib.surveys.schemas import ResponseRequest
from chalicelib.surveys.stores import surveys


def own_survey(account: Account, survey_id: str) -> tuple[Participant, Survey]:
    """The caller's survey; another person's is not found, exactly as one that does not exist."""
    participant = registration.own_record(account)
    parsed = parse_survey_id(survey_id)
    if parsed is None or parsed[0] != participant.participant_id:
        raise SurveyNotFound()
    found = surveys.survey(*parsed, consistent=True)
    if found is None:
        raise SurveyNotFound()
    return participant, found


def answer(account: Account, survey_id: str, request: ResponseRequest) -> Survey:
    participant, found = own_survey(account, survey_id)
    if participant.status is Status.REVOKED:
        raise registration.Revoked()
    _refuse(found)
    assert found.version is not None
    kept = definitions.checked(found.version, dict(request.answers))
    answered = replace(found, status=SurveyStatus.ANSWERED, answered_at=clock.now(), answers=kept)
    try:
        _commit(participant, found, answered, reward=True)
    except Refused as refused:
        if registration.PARTICIPANT_MOVED in refused.labels:
            raise registration.Revoked() from refused
        if refused.labels == {incentives.REWARD_OWED}:
            # Owed already by an earlier path; the answer is still kept, and paid once.
            _commit(participant, found, answered, reward=False)
        else:
            now_found = surveys.survey(found.participant_id, found.round, consistent=True)
            if now_found is not None:
                _refuse(now_found)
            raise
    logger.info("survey answered", extra={"survey_id": survey_id, "round": found.round})
    count("SurveysAnswered")
    return answered


def _commit(participant: Participant, found: Survey, answered: Survey, *, reward: bool) -> None:
    unit = UnitOfWork()
    surveys.move(unit, found, answered)
    if reward:
        incentives.add_survey_reward(unit, participant, found.round)
    registration.still_active(unit, participant.participant_id)
    figures.count_answer(unit, participant, found.round, answered.answers)
    unit.commit()


def _refuse(found: Survey) -> None:
    if found.status is SurveyStatus.ANSWERED:
        raise AlreadyAnswered()
    if found.status is SurveyStatus.DUE:
        raise SurveyNotSent()
    if not found.open_on(registration.programme_today()):
        raise SurveyExpired()
