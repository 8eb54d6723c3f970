"""Surveys routes: a participant reads and answers their own survey."""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib.core.auth import require
from chalicelib.core.http import parse, respond, route
from chalicelib.core.operations import Operation
from chalicelib.surveys import responses, views
from chalicelib.surveys.schemas import Questionnaire, ResponseRequest

bp = Blueprint(__name__)


@route(
    bp,
    "/v1/surveys/{survey_id}",
    methods=["GET"],
    cors=True,
    operation=Operation(
        summary="A survey sent to the caller, with its questions",
        roles=("participant",),
        responses={200: Questionnaire},
    ),
)
def read_survey(survey_id: str) -> Response:
    caller = require(bp.current_request.headers, "participant")
    _, found = responses.own_survey(caller.sub, survey_id)
    return respond(views.questionnaire(found))


@route(
    bp,
    "/v1/surveys/{survey_id}/responses",
    methods=["POST"],
    cors=True,
    operation=Operation(
        summary="Answer a survey; answered in time, it owes the survey incentive",
        roles=("participant",),
        body=ResponseRequest,
        responses={201: Questionnaire},
        errors=(409,),
    ),
)
def answer_survey(survey_id: str) -> Response:
    caller = require(bp.current_request.headers, "participant")
    request = parse(ResponseRequest, bp.current_request.raw_body)
    answered = responses.answer(caller.sub, survey_id, request)
    return respond(views.questionnaire(answered), status=201)
