"""The surveys stage's objects: the employment surveys a participant is sent after training."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum


class SurveyStatus(StrEnum):
    DUE = "DUE"
    SENT = "SENT"
    ANSWERED = "ANSWERED"
    EXPIRED = "EXPIRED"


@dataclass(frozen=True)
class Survey:
    """One round of a participant's employment survey. It keeps the questionnaire version it was
    sent with, so that a later version never changes what an answer is checked against."""

    participant_id: str
    round: int
    due_date: date
    status: SurveyStatus = SurveyStatus.DUE
    version: int | None = None
    sent_at: datetime | None = None
    deadline: date | None = None
    answered_at: datetime | None = None
    answers: dict[str, object] = field(default_factory=dict)
    reason: str | None = None

    @property
    def survey_id(self) -> str:
        return survey_id(self.participant_id, self.round)

    def open_on(self, today: date) -> bool:
        """Sent, unanswered, and its answer deadline (a whole day) not yet over."""
        return self.status is SurveyStatus.SENT and self.deadline is not None and today <= self.deadline


def survey_id(participant_id: str, survey_round: int) -> str:
    """From the data, like a payment's id: the same round of the same person is one survey."""
    return f"{participant_id}-S{survey_round}"


def parse_survey_id(given: str) -> tuple[str, int] | None:
    participant_id, separator, survey_round = given.rpartition("-S")
    if not separator or not participant_id or not survey_round.isdigit() or len(survey_round) > 2:
        return None
    return participant_id, int(survey_round)
