"""The surveys stage's refusals, each with the contract's code and an Indonesian message."""

from __future__ import annotations

from chalicelib.core.errors import Conflict, NotFound, ValidationFailed


class SurveyNotFound(NotFound):
    """Also for another person's survey: whether it exists is not theirs to learn."""

    code = "SURVEY_NOT_FOUND"
    message = "Survei tidak ditemukan."


class AlreadyAnswered(Conflict):
    code = "ALREADY_ANSWERED"
    message = "Survei ini sudah Anda jawab."


class SurveyExpired(ValidationFailed):
    code = "SURVEY_EXPIRED"
    message = "Batas waktu menjawab survei ini sudah lewat."


class SurveyNotSent(ValidationFailed):
    code = "SURVEY_NOT_SENT"
    message = "Survei ini belum dikirim kepada Anda."


class InvalidAnswers(ValidationFailed):
    code = "INVALID_ANSWERS"
    message = "Jawaban survei tidak lengkap atau tidak sesuai."
