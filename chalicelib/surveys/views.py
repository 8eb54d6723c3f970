"""What the surveys stage shows: its part of the participant record, and a survey with the
questions of the version it was sent with."""

from __future__ import annotations

from chalicelib.registration import service as registration
from chalicelib.registration.model import Participant
from chalicelib.surveys import definitions
from chalicelib.surveys.model import Survey, SurveyStatus
from chalicelib.surveys.schemas import Questionnaire, QuestionView, SurveysSection, SurveyView
from chalicelib.surveys.stores import surveys


def _status(survey: Survey) -> SurveyStatus:
    """A sent survey whose deadline is over is shown EXPIRED before the daily job marks it."""
    if survey.status is SurveyStatus.SENT and not survey.open_on(registration.programme_today()):
        return SurveyStatus.EXPIRED
    return survey.status


def _survey_fields(survey: Survey) -> dict[str, object]:
    return {
        "survey_id": survey.survey_id,
        "round": survey.round,
        "status": _status(survey),
        "due_date": survey.due_date,
        "deadline": survey.deadline,
    }


def _surveys(participant: Participant) -> SurveysSection:
    """One query of their partition."""
    return SurveysSection(
        surveys=[
            SurveyView.model_validate(_survey_fields(survey))
            for survey in surveys.surveys_of(participant.participant_id)
        ]
    )


# The surveys stage's part of the participant record (`app.py` adds it to registration's).
surveys_section = registration.RecordSection(SurveysSection, _surveys)


def questionnaire(survey: Survey) -> Questionnaire:
    """The survey with its questions: those of the version it was sent with (or today's, while it
    waits to be sent), and the answers once given."""
    version = survey.version or definitions.current_version()
    return Questionnaire.model_validate(
        {
            **_survey_fields(survey),
            "version": version,
            "questions": [
                QuestionView.model_validate(question.model_dump())
                for question in definitions.definition(version).questions
            ],
            "answers": survey.answers or None,
        }
    )
