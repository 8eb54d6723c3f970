"""The surveys stage's request bodies and answers."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr

from chalicelib.core.schemas import ResponseModel
from chalicelib.surveys.model import SurveyStatus


class ResponseRequest(BaseModel):
    """Answers by question id. Their types are checked against the survey's own questionnaire
    version (`definitions.checked`), not here: a later version may ask other questions."""

    model_config = ConfigDict(extra="forbid")

    answers: dict[StrictStr, StrictBool | StrictStr | None] = Field(max_length=50)


class SurveyView(ResponseModel):
    survey_id: str
    round: int
    status: SurveyStatus
    due_date: date
    deadline: date | None = Field(description="The last day to answer, once sent.")


class QuestionView(ResponseModel):
    id: str
    type: Literal["choice", "boolean", "text"]
    required: bool
    text: str
    choices: list[str]
    max_length: int


class Questionnaire(SurveyView):
    """The survey with the questions of the version it was sent with, and the answers once given."""

    version: int
    questions: list[QuestionView]
    answers: dict[str, Any] | None


class SurveysSection(ResponseModel):
    """The surveys stage's part of the participant record."""

    surveys: list[SurveyView]
