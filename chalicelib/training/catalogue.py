"""The public catalogue, served from a snapshot that each container rebuilds only when it changed.

The whole national catalogue is a few thousand courses, and browsing it is the most frequent
public request after registration: filtering and text search run over the snapshot in memory,
so a request costs no DynamoDB read at all, and at most one small read of the catalogue's
version every `CATALOGUE_REFRESH_SECONDS`. Any change a reader could see (a course published or
edited, a rating) moves the version, and the next check rebuilds the snapshot from the index.
"""

from __future__ import annotations

import base64
import hmac
import time
from dataclasses import dataclass

from chalicelib.core.errors import ValidationFailed
from chalicelib.core.settings import settings
from chalicelib.core.storage import derived_id
from chalicelib.training.model import Course
from chalicelib.training.stores import courses as store


@dataclass
class _Snapshot:
    version: int
    courses: list[Course]
    checked_at: float


_snapshot: _Snapshot | None = None


def courses() -> list[Course]:
    """Every course (active or not), in id order, no older than the refresh interval."""
    global _snapshot  # noqa: PLW0603 (one snapshot per container is the point)
    now = time.monotonic()
    if _snapshot is not None and now - _snapshot.checked_at < settings().catalogue_refresh_seconds:
        return _snapshot.courses
    # The version is read before the courses: a change in between only causes one more rebuild.
    version = store.catalogue_version()
    if _snapshot is None or version != _snapshot.version:
        _snapshot = _Snapshot(version, list(store.all_courses()), now)
    else:
        _snapshot.checked_at = now
    return _snapshot.courses


class InvalidCursor(ValidationFailed):
    code = "INVALID_CURSOR"
    message = "Penanda halaman tidak sah."


def forget() -> None:
    """Drop this container's snapshot (a test's fresh tables start the version count again)."""
    global _snapshot  # noqa: PLW0603
    _snapshot = None


# A cursor is client-held input: opaque, bounded and signed, so that one the server did not make
# is refused before any of it is decoded.
_MAX_CURSOR_CHARS = 200


def _signature(payload: str) -> str:
    return derived_id("CATALOGUE_CURSOR", payload)


def _cursor(course_id: str) -> str:
    payload = base64.urlsafe_b64encode(course_id.encode()).decode().rstrip("=")
    return f"{payload}.{_signature(payload)}"


def _after(cursor: str | None) -> str:
    if not cursor:
        return ""
    payload, _, signature = cursor.partition(".")
    # As bytes: compare_digest refuses text with non-ASCII characters, which a forged cursor may hold.
    expected = _signature(payload).encode()
    if len(cursor) > _MAX_CURSOR_CHARS or not hmac.compare_digest(signature.encode(), expected):
        raise InvalidCursor()
    return base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()


def _matches(course: Course, platform: str | None, category: str | None, words: list[str]) -> bool:
    if not course.active:
        return False
    if platform and course.platform_id.casefold() != platform.casefold():
        return False
    if category and course.category != category.upper():
        return False
    text = f"{course.title} {course.institution} {course.category}".casefold()
    return all(word in text for word in words)


def search(
    platform: str | None, category: str | None, query: str | None, cursor: str | None, limit: int
) -> tuple[list[Course], str | None]:
    """One page of active courses matching every filter and every word of `query`, with the
    cursor of the next page (None on the last)."""
    after = _after(cursor)
    words = (query or "").casefold().split()
    page: list[Course] = []
    for course in courses():
        if course.course_id <= after or not _matches(course, platform, category, words):
            continue
        if len(page) == limit:
            return page, _cursor(page[-1].course_id)
        page.append(course)
    return page, None
