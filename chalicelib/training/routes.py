"""Training routes: the catalogue, purchases, completions, ratings and revocation."""

from __future__ import annotations

import re
from collections.abc import Mapping

from chalice.app import Blueprint, Response

from chalicelib.core.auth import Caller, require
from chalicelib.core.errors import Forbidden, ValidationFailed
from chalicelib.core.http import created, idempotent, parse, respond, route
from chalicelib.core.operations import Operation
from chalicelib.registration import service as registration
from chalicelib.registration.model import Participant
from chalicelib.training import catalogue, service
from chalicelib.training.model import Course, Purchase
from chalicelib.training.schemas import (
    COURSE_ID,
    Bought,
    CompletionRequest,
    CourseList,
    CourseQuery,
    CourseRequest,
    CourseView,
    PurchaseRequest,
    PurchasesSection,
    PurchaseView,
    Rated,
    RatingRequest,
    RatingSummary,
    RevocationRequest,
)

bp = Blueprint(__name__)

DEFAULT_PAGE, MAX_PAGE = 20, 100


def course_view(course: Course) -> CourseView:
    return CourseView(
        course_id=course.course_id,
        platform_id=course.platform_id,
        title=course.title,
        institution=course.institution,
        category=course.category,
        price=course.price,
        hours=course.hours,
        active=course.active,
        rating=RatingSummary(average=course.rating_average, count=course.rating_count),
    )


def _purchase_fields(purchase: Purchase) -> dict[str, object]:
    return {
        "purchase_id": purchase.purchase_id,
        "course_id": purchase.course_id,
        "platform_id": purchase.platform_id,
        "price": purchase.price,
        "status": purchase.status,
        "redemption_code": purchase.redemption_code,
        "purchased_at": purchase.purchased_at,
        "completed_at": purchase.completed_at,
        "certificate_no": purchase.certificate_no,
        "stars": purchase.stars,
    }


def purchase_view(purchase: Purchase) -> PurchaseView:
    return PurchaseView.model_validate(_purchase_fields(purchase))


def _purchases(participant: Participant) -> PurchasesSection:
    if participant.selected_wave is None:
        return PurchasesSection(purchases=[])
    return PurchasesSection(
        purchases=[purchase_view(purchase) for purchase in service.purchases_of(participant.participant_id)]
    )


# Training's part of the participant record (`app.py` adds it to registration's).
purchases_section = registration.RecordSection(PurchasesSection, _purchases)


def _platform_id(caller: Caller) -> str:
    if not caller.platform_id:
        raise Forbidden("Token platform tanpa platform_id.", code="PLATFORM_ID_MISSING")
    return caller.platform_id


def _course_id(course_id: str) -> str:
    if not re.fullmatch(COURSE_ID, course_id):
        raise ValidationFailed(fields={"course_id": "format tidak sah"})
    return course_id


@route(
    bp,
    "/v1/platform/courses/{course_id}",
    methods=["PUT"],
    operation=Operation(
        summary="Publish or update a course of the calling platform (201 when new)",
        roles=("platform",),
        body=CourseRequest,
        responses={200: CourseView, 201: CourseView},
    ),
)
def publish_course(course_id: str) -> Response:
    platform = require(bp.current_request.headers, "platform")
    request = parse(CourseRequest, bp.current_request.raw_body)
    course, is_new = service.publish_course(_platform_id(platform), _course_id(course_id), request)
    return respond(course_view(course), status=201 if is_new else 200)


@route(
    bp,
    "/v1/courses",
    methods=["GET"],
    cors=True,
    operation=Operation(
        summary="The catalogue, a page at a time",
        query=CourseQuery,
        responses={200: CourseList},
        errors=(422,),
    ),
)
def list_courses() -> Response:
    params: Mapping[str, str] = bp.current_request.query_params or {}
    try:
        limit = int(params.get("limit", DEFAULT_PAGE))
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationFailed(fields={"limit": f"antara 1 dan {MAX_PAGE}"})
    page, cursor = catalogue.search(
        params.get("platform"), params.get("category"), params.get("q"), params.get("cursor"), limit
    )
    return respond(CourseList(courses=[course_view(course) for course in page], next=cursor))


@route(
    bp,
    "/v1/courses/{course_id}",
    methods=["GET"],
    cors=True,
    operation=Operation(summary="One course", responses={200: CourseView}, errors=(422,)),
)
def show_course(course_id: str) -> Response:
    return respond(course_view(service.find_course(_course_id(course_id))))


@route(
    bp,
    "/v1/purchases",
    methods=["POST"],
    cors=True,
    operation=Operation(
        summary="Buy a course at the price shown, from the training balance",
        roles=("participant",),
        body=PurchaseRequest,
        responses={201: Bought},
        errors=(404, 409),
        idempotent=True,
    ),
)
def buy() -> Response:
    caller = require(bp.current_request.headers, "participant")
    request = parse(PurchaseRequest, bp.current_request.raw_body)

    def purchase() -> Response:
        key = bp.current_request.headers.get("idempotency-key")
        bought, balance = service.buy(caller.sub, request.course_id, request.price, request_key=key)
        return created(Bought.model_validate({**_purchase_fields(bought), "balance": balance}))

    return idempotent(bp, caller, purchase)


@route(
    bp,
    "/v1/platform/completions",
    methods=["POST"],
    operation=Operation(
        summary="Record a completion of a purchase of the calling platform",
        roles=("platform",),
        body=CompletionRequest,
        responses={200: PurchaseView},
        errors=(404, 409),
    ),
)
def complete() -> Response:
    platform = require(bp.current_request.headers, "platform")
    request = parse(CompletionRequest, bp.current_request.raw_body)
    return respond(purchase_view(service.complete(_platform_id(platform), request)))


@route(
    bp,
    "/v1/courses/{course_id}/ratings",
    methods=["POST"],
    cors=True,
    operation=Operation(
        summary="Rate a completed course",
        roles=("participant",),
        body=RatingRequest,
        responses={201: Rated},
        errors=(404, 409),
    ),
)
def rate(course_id: str) -> Response:
    caller = require(bp.current_request.headers, "participant")
    request = parse(RatingRequest, bp.current_request.raw_body)
    rated = service.rate(caller.sub, _course_id(course_id), request)
    course = service.find_course(course_id)
    return created(
        Rated(
            purchase_id=rated.purchase_id,
            course_id=course_id,
            stars=rated.stars,
            rating=RatingSummary(average=course.rating_average, count=course.rating_count),
        )
    )


@route(
    bp,
    "/v1/participants/{participant_id}/revocation",
    methods=["POST"],
    operation=Operation(
        summary="Revoke a participant, with a reason",
        roles=("admin",),
        body=RevocationRequest,
        responses={200: registration.record_model},
        errors=(409,),
        idempotent=True,
    ),
)
def revoke(participant_id: str) -> Response:
    admin = require(bp.current_request.headers, "admin")
    request = parse(RevocationRequest, bp.current_request.raw_body)

    def revocation() -> Response:
        key = bp.current_request.headers.get("idempotency-key")
        revoked = service.revoke(participant_id, admin.sub, request.reason, request.note, key)
        return respond(registration.participant_record(revoked))

    return idempotent(bp, admin, revocation)
