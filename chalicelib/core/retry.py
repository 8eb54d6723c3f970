"""Optimistic retries: read, decide, write under a condition on what was read; read again if it moved."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from chalicelib.core.errors import ConcurrentUpdate

T = TypeVar("T")
ATTEMPTS = 3


def retried(attempt: Callable[[], T], moved: type[Exception] | tuple[type[Exception], ...]) -> T:
    """`attempt()`, run again (it reads afresh) while it raises `moved`, at most `ATTEMPTS` times:
    a participant changing three times under one request is someone else's busy moment, and the
    caller is told to try again (409 `CONCURRENT_UPDATE`) rather than kept waiting."""
    for _ in range(ATTEMPTS):
        try:
            return attempt()
        except moved:
            continue
    raise ConcurrentUpdate()
