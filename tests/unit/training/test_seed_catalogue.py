"""The local stack's generated catalogue looks like the programme's and passes the platforms' own checks."""

from __future__ import annotations

from chalicelib.training.schemas import CourseRequest
from devstack.catalogue import PLATFORMS, courses


def test_the_generated_catalogue_has_seven_platforms_dozens_of_institutions_and_hundreds_of_courses() -> None:
    generated = list(courses())
    assert {course.platform_id for course in generated} == set(PLATFORMS)
    assert len(PLATFORMS) == 7
    assert 24 <= len({course.institution for course in generated}) <= 100
    assert 200 <= len(generated) <= 1000
    assert len({course.course_id for course in generated}) == len(generated)
    for course in generated:
        fields = {name: getattr(course, name) for name in CourseRequest.model_fields}
        CourseRequest.model_validate(fields)


def test_the_same_seed_gives_the_same_catalogue() -> None:
    assert list(courses(seed=7)) == list(courses(seed=7))
    assert list(courses(seed=7)) != list(courses(seed=8))
