"""Platforms reporting completed courses, and participants rating them.

A participant's first completion starts the incentive stage: training moves their stage through
`registration.service` and announces it in the outbox, in the completion's own unit of work; the
incentive schedule is built by the stage that owns it, not here.
"""

from __future__ import annotations

from datetime import timedelta

from chalicelib.core import clock, outbox
from chalicelib.core.observability import count, logger
from chalicelib.core.retry import retried
from chalicelib.core.storage import Refused, UnitOfWork
from chalicelib.registration import service as registration
from chalicelib.registration.model import Event, Status
from chalicelib.training import figures
from chalicelib.training.errors import (
    AlreadyCompleted,
    AlreadyRated,
    CompletedBeforePurchase,
    CompletedInFuture,
    NotCompleted,
    PurchaseNotFound,
    PurchaseOfAnotherPlatform,
    Revoked,
)
from chalicelib.training.model import (
    EVENTS,
    FIRST_COMPLETION,
    FIRST_RATING,
    SURVEY_EVENTS,
    Purchase,
    PurchaseStatus,
)
from chalicelib.training.schemas import CompletionRequest, RatingRequest
from chalicelib.training.stores import courses
from chalicelib.training.stores import purchases as store

# Platforms' clocks drift; a completion a few minutes "ahead" of ours is still believable.
CLOCK_SKEW = timedelta(minutes=5)


class _Moved(Exception):
    """The purchase or the participant moved on since they were read."""


def _same_completion(found: Purchase, request: CompletionRequest) -> bool:
    return found.certificate_no == request.certificate_no and found.completed_at == request.completed_at


def _refuse_completion(found: Purchase, request: CompletionRequest) -> None:
    if request.completed_at < found.purchased_at:
        raise CompletedBeforePurchase()
    if request.completed_at > clock.now() + CLOCK_SKEW:
        raise CompletedInFuture()


def complete(platform_id: str, request: CompletionRequest) -> Purchase:
    """Record the platform's completion of a purchase; reporting the same completion again is a no-op."""

    def attempt() -> Purchase:
        found = store.purchase(request.purchase_id)
        if found is None:
            raise PurchaseNotFound()
        if found.platform_id != platform_id:
            raise PurchaseOfAnotherPlatform()
        if found.status is PurchaseStatus.COMPLETED:
            if _same_completion(found, request):
                return found
            raise AlreadyCompleted()
        _refuse_completion(found, request)
        participant = registration.participant(found.participant_id)
        if participant.status is Status.REVOKED:
            raise Revoked()
        first = participant.status is Status.TRAINING
        event = Event(
            at=clock.now(),
            actor=f"platform:{platform_id}",
            action="COURSE_COMPLETED",
            status_from=participant.status.value,
            status_to=(Status.INCENTIVE if first else participant.status).value,
            details={"purchase_id": found.purchase_id, "course_id": found.course_id},
        )
        unit = UnitOfWork()
        store.complete(unit, found, request.completed_at, request.certificate_no)
        if first:
            registration.start_incentive_stage(unit, participant)
            outbox.add(
                unit,
                participant.participant_id,
                "INCENTIVE_STAGE",
                "TRAINING#FIRST_COMPLETION",
                {"purchase_id": found.purchase_id, "course_id": found.course_id},
                event.at,
            )
            # The surveys stage schedules the employment surveys from it.
            outbox.publish(
                unit,
                SURVEY_EVENTS,
                participant.participant_id,
                FIRST_COMPLETION,
                {"purchase_id": found.purchase_id},
                event.at,
            )
        else:
            registration.still_active(unit, participant.participant_id)
        registration.record_event(unit, participant.participant_id, event)
        figures.count(unit, participant.province_code, found.purchase_id, training_completed=1)
        try:
            unit.commit()
        except Refused as refused:
            raise _Moved() from refused
        logger.info("course completed", extra={"purchase_id": found.purchase_id, "first": first})
        count("CoursesCompleted")
        return store.purchase(found.purchase_id) or found

    return retried(attempt, _Moved)


def rate(account: str, course_id: str, request: RatingRequest) -> Purchase:
    """The participant's one rating of a course they completed."""
    participant = registration.own_record(account)
    if participant.status is Status.REVOKED:
        raise Revoked()
    found = store.purchase_of(participant.participant_id, course_id)
    if found is None or found.status is not PurchaseStatus.COMPLETED:
        raise NotCompleted()
    if found.stars is not None:
        raise AlreadyRated()
    now = clock.now()
    first = not any(earlier.stars is not None for earlier in store.purchases_of(participant.participant_id))
    unit = UnitOfWork()
    store.rate(unit, found, request.stars, request.review or None, now)
    courses.add_rating(unit, found.course_id, request.stars)
    registration.still_active(unit, participant.participant_id)
    if first:
        details = {"purchase_id": found.purchase_id, "course_id": found.course_id}
        outbox.add(unit, participant.participant_id, "TRAINING_RATED", "TRAINING#FIRST_RATING", details, now)
        # The incentives stage learns of it from this stream (docs/INCENTIVES.md: why a stream).
        outbox.publish(unit, EVENTS, participant.participant_id, FIRST_RATING, details, now)
    try:
        unit.commit()
    except Refused as refused:
        if registration.PARTICIPANT_MOVED in refused.labels:
            raise Revoked() from None
        raise AlreadyRated() from None
    return store.purchase(found.purchase_id) or found


def rated_completion(participant_id: str) -> bool:
    """Whether the participant has completed a course and rated it: the programme pays incentives
    only after that (DESIGN.md, "Post-training incentive")."""
    return any(
        purchase.status is PurchaseStatus.COMPLETED and purchase.stars is not None
        for purchase in store.purchases_of(participant_id)
    )
