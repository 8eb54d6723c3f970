"""Platforms publishing their courses."""

from __future__ import annotations

from chalicelib.core import clock
from chalicelib.core.errors import ValidationFailed
from chalicelib.core.observability import logger
from chalicelib.core.settings import programme
from chalicelib.training.errors import CourseNotFound, CourseOfAnotherPlatform
from chalicelib.training.model import Course
from chalicelib.training.schemas import CourseRequest
from chalicelib.training.stores import courses as store


def publish_course(platform_id: str, course_id: str, request: CourseRequest) -> tuple[Course, bool]:
    """Publish or update one of the platform's own courses; True if it is new."""
    if request.price > programme().training_balance:
        raise ValidationFailed(fields={"price": "melebihi saldo pelatihan"})
    course = Course(
        course_id=course_id,
        platform_id=platform_id,
        title=request.title,
        institution=request.institution,
        category=request.category.upper(),
        price=request.price,
        hours=request.hours,
        active=request.active,
        updated_at=clock.now(),
    )
    try:
        created = store.save_course(course)
    except store.CourseOfAnotherPlatform as error:
        raise CourseOfAnotherPlatform() from error
    logger.info("course published", extra={"course_id": course_id, "platform_id": platform_id})
    return find_course(course_id), created


def find_course(course_id: str) -> Course:
    found = store.course_by_id(course_id)
    if found is None:
        raise CourseNotFound()
    return found
