"""What the surveys stage shows: its part of the participant record, and a survey with the
questions of the version it was sent with."""

from __future__ import annotations

from chalicelib.registration import service as registration
from chalicelib.registration.model import Participant
from chalicelib.surveys import definitions
from chalicelib.surveys.model import Survey, SurveyStatus
from chalicelib.surveys.stores import surveys


def _status(survey: Survey) -> SurveyStatus:
    """A sent survey whose deadline is over is shown EXPIRED before the daily job marks it."""
    if survey.status is SurveyStatus.SENT and not survey.open_on(registration.programme_today()):
        return SurveyStatus.EXPIRED
    return survey.status


def survey_view(survey: Survey) -> dict[str, object]:
    return {
        "survey_id": survey.survey_id,
        "round": survey.round,
        "status": _status(survey).value,
        "due_date": survey.due_date.isoformat(),
        "deadline": survey.deadline.isoformat() if survey.deadline else None,
    }


def surveys_section(participant: Participant) -> dict[str, object]:
    """The surveys stage's part of the participant record: one query of their partition."""
    return {"surveys": [survey_view(survey) for survey in surveys.surveys_of(participant.participant_id)]}


def questionnaire(survey: Survey) -> dict[str, object]:
    """The survey with its questions: those of the version it was sent with (or today's, while it
    waits to be sent), and the answers once given."""
    version = survey.version or definitions.current_version()
    return {
        **survey_view(survey),
        "version": version,
        "questions": [
            question.model_dump(exclude_defaults=False)
            for question in definitions.definition(version).questions
        ],
        "answers": survey.answers or None,
    }
