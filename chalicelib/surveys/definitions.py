"""The questionnaires, versioned in programme configuration (`survey_definitions` in
`chalicelib/programme.json`), and the check of an answer against the version it was sent with."""

from __future__ import annotations

from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from chalicelib.core.settings import programme
from chalicelib.core.validation import plain
from chalicelib.surveys.errors import InvalidAnswers


class Question(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    type: Literal["choice", "boolean", "text"]
    required: bool
    text: str
    choices: tuple[str, ...] = ()
    max_length: int = Field(default=1000, gt=0, le=10_000)

    @model_validator(mode="after")
    def _choices_for_choice_only(self) -> Question:
        if (self.type == "choice") != bool(self.choices):
            raise ValueError(f"question {self.id}: choices go with type choice, and only with it")
        return self


class Definition(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    questions: tuple[Question, ...] = Field(min_length=1)


class Definitions(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    current_version: int = Field(gt=0)
    versions: dict[int, Definition]

    @model_validator(mode="after")
    def _current_exists(self) -> Definitions:
        if self.current_version not in self.versions:
            raise ValueError(f"no survey definition of version {self.current_version}")
        return self


@cache
def definitions() -> Definitions:
    return Definitions.model_validate(programme().survey_definitions)


def current_version() -> int:
    return definitions().current_version


def definition(version: int) -> Definition:
    return definitions().versions[version]


def checked(version: int, answers: dict[str, object]) -> dict[str, object]:
    """The answers as kept, or `InvalidAnswers` naming every question answered wrongly: unknown
    questions, required ones missing, a value of the wrong type or outside the choices, text too
    long or with invisible characters in it (it is shown to programme staff)."""
    questions = {question.id: question for question in definition(version).questions}
    problems = {f"answers.{name}": "pertanyaan tidak dikenal" for name in answers if name not in questions}
    kept: dict[str, object] = {}
    for question in questions.values():
        given = answers.get(question.id)
        if given is None or given == "":
            if question.required:
                problems[f"answers.{question.id}"] = "wajib dijawab"
            continue
        problem = _problem(question, given)
        if problem:
            problems[f"answers.{question.id}"] = problem
        else:
            kept[question.id] = given
    if problems:
        raise InvalidAnswers(fields=problems)
    return kept


def _problem(question: Question, given: object) -> str | None:
    if question.type == "boolean":
        return None if isinstance(given, bool) else "jawab true atau false"
    if not isinstance(given, str):
        return "jawab dengan teks"
    if question.type == "choice" and given not in question.choices:
        return "salah satu dari " + ", ".join(question.choices)
    if question.type == "text":
        if len(given) > question.max_length:
            return f"paling banyak {question.max_length} karakter"
        try:
            plain(given)
        except ValueError as invisible:
            return str(invisible)
    return None
