"""The catalogue: each platform's courses, their running ratings, and the version snapshots compare."""

from __future__ import annotations

from collections.abc import Iterator

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.expressions.update import Action

from chalicelib.core.storage import Refused, UnitOfWork
from chalicelib.training.model import Course
from chalicelib.training.stores.tables import CatalogueItem

CATALOGUE = "CATALOGUE"
# The label of a purchase's check on its course: on sale, at the price the participant was shown.
AS_SHOWN = "course"


class CourseRecord(CatalogueItem):
    course_id = UnicodeAttribute()
    platform_id = UnicodeAttribute()
    title = UnicodeAttribute()
    institution = UnicodeAttribute()
    category = UnicodeAttribute()
    price = NumberAttribute()
    hours = NumberAttribute()
    active = BooleanAttribute()
    updated_at = UTCDateTimeAttribute()
    rating_sum = NumberAttribute(null=True)
    rating_count = NumberAttribute(null=True)


class _VersionRecord(CatalogueItem):
    version = NumberAttribute(null=True)


def course_key(course_id: str) -> str:
    return f"COURSE#{course_id}"


def _course(record: CourseRecord) -> Course:
    return Course(
        course_id=record.course_id,
        platform_id=record.platform_id,
        title=record.title,
        institution=record.institution,
        category=record.category,
        price=int(record.price),
        hours=int(record.hours),
        active=bool(record.active),
        updated_at=record.updated_at,
        rating_sum=int(record.rating_sum or 0),
        rating_count=int(record.rating_count or 0),
    )


def bump_version(unit: UnitOfWork) -> None:
    """Every change a reader of the catalogue could see moves its version, so snapshots refresh."""
    unit.update(_VersionRecord(CATALOGUE, "VERSION"), actions=[_VersionRecord.version.add(1)])


class CourseOfAnotherPlatform(Exception):
    pass


def save_course(course: Course) -> bool:
    """Publish or update the platform's course; True if it is new. Ratings are kept as they are."""
    existed = course_by_id(course.course_id) is not None
    actions: list[Action] = [
        CourseRecord.course_id.set(course.course_id),
        CourseRecord.platform_id.set(course.platform_id),
        CourseRecord.title.set(course.title),
        CourseRecord.institution.set(course.institution),
        CourseRecord.category.set(course.category),
        CourseRecord.price.set(course.price),
        CourseRecord.hours.set(course.hours),
        CourseRecord.active.set(course.active),
        CourseRecord.updated_at.set(course.updated_at),
        CourseRecord.gsi1pk.set(f"PLATFORM#{course.platform_id}"),
        CourseRecord.gsi1sk.set(course.course_id),
        CourseRecord.gsi2pk.set(CATALOGUE),
        CourseRecord.gsi2sk.set(course.course_id),
    ]
    unit = UnitOfWork()
    unit.update(
        CourseRecord(course_key(course.course_id), "COURSE"),
        actions=actions,
        condition=CourseRecord.pk.does_not_exist() | (CourseRecord.platform_id == course.platform_id),
    )
    bump_version(unit)
    try:
        unit.commit()
    except Refused as refused:
        raise CourseOfAnotherPlatform(course.course_id) from refused
    return not existed


def as_shown(unit: UnitOfWork, course_id: str, price: int) -> None:
    """A condition of `unit`: the course is on sale at `price` (label `AS_SHOWN` if not)."""
    unit.check(
        CourseRecord,
        course_key(course_id),
        "COURSE",
        condition=(CourseRecord.price == price) & (CourseRecord.active == True),  # noqa: E712
        label=AS_SHOWN,
    )


def add_rating(unit: UnitOfWork, course_id: str, stars: int) -> None:
    """The course's running sum and count of ratings (no rereading of ratings), and its version."""
    unit.update(
        CourseRecord(course_key(course_id), "COURSE"),
        actions=[CourseRecord.rating_sum.add(stars), CourseRecord.rating_count.add(1)],
        condition=CourseRecord.pk.exists(),
    )
    bump_version(unit)


def course_by_id(course_id: str) -> Course | None:
    try:
        return _course(CourseRecord.get(course_key(course_id), "COURSE"))
    except CourseRecord.DoesNotExist:
        return None


def catalogue_version() -> int:
    try:
        return int(_VersionRecord.get(CATALOGUE, "VERSION").version or 0)
    except _VersionRecord.DoesNotExist:
        return 0


def all_courses() -> Iterator[Course]:
    """Every course, in id order, through the catalogue index (one partition: a few thousand)."""
    for record in CourseRecord.gsi2.query(CATALOGUE):
        yield _course(record)
