"""The one source of "now" for every rule and job.

Deadlines, wave windows and due dates all read the time here, so that the local stack can move
time for demos and checks (`POST /dev/clock`) without any rule knowing about it. Only the local
stack's own process ever sets an override; deployed stages have no route that can.
"""

from __future__ import annotations

from datetime import UTC, datetime

_override: datetime | None = None


def now() -> datetime:
    """The current time, timezone-aware (UTC unless the local stack moved it)."""
    return _override if _override is not None else datetime.now(UTC)


def set_now(moment: datetime | None) -> None:
    """Freeze the clock at `moment`, or return to the real clock with None (local stack, tests)."""
    global _override  # noqa: PLW0603 (one process-wide clock is the point)
    if moment is not None and moment.tzinfo is None:
        raise ValueError("the clock needs a timezone-aware time")
    _override = moment
