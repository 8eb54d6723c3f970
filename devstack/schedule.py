"""Plays EventBridge for the app's scheduled functions, which moto accepts but never fires.

Schedules follow real time (UTC), as EventBridge's do; the jobs themselves read the app's clock,
which `/dev/clock` may have moved. As on AWS, a rate first fires one period after the stack
starts, and a cron fires at the minutes it matches. Cron supports `*`, `?`, numbers, names,
lists, ranges and steps; a cron with `L`, `W` or `#` is not fired locally (run it with
`/dev/jobs`), and the stack says so at start.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from devstack.declarations import ScheduledFunction

log = logging.getLogger("devstack.schedule")

RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")
CRON = re.compile(r"^cron\((.+)\)$")
UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
WEEKDAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
CRON_SEARCH_LIMIT = timedelta(days=366 * 5)


class UnsupportedSchedule(ValueError):
    pass


@dataclass(frozen=True)
class Rate:
    period: timedelta

    def next_after(self, moment: datetime) -> datetime:
        return moment + self.period


@dataclass(frozen=True)
class Cron:
    """AWS cron fields: minutes hours day-of-month month day-of-week (1 = SUN) year."""

    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int] | None
    months: frozenset[int]
    weekdays: frozenset[int] | None
    years: frozenset[int] | None

    def next_after(self, moment: datetime) -> datetime | None:
        candidate = moment.replace(second=0, microsecond=0) + timedelta(minutes=1)
        limit = moment + CRON_SEARCH_LIMIT
        while candidate < limit:
            if not self._day_matches(candidate):
                candidate = candidate.replace(hour=0, minute=0) + timedelta(days=1)
            elif candidate.hour in self.hours and candidate.minute in self.minutes:
                return candidate
            else:
                candidate += timedelta(minutes=1)
        return None

    def _day_matches(self, moment: datetime) -> bool:
        aws_weekday = (moment.weekday() + 1) % 7 + 1
        return (
            moment.month in self.months
            and (self.years is None or moment.year in self.years)
            and (self.days is None or moment.day in self.days)
            and (self.weekdays is None or aws_weekday in self.weekdays)
        )


Schedule = Rate | Cron


def parse(expression: str) -> Schedule:
    rate = RATE.match(expression.strip())
    if rate and int(rate.group(1)) > 0:
        unit = rate.group(2).removesuffix("s")
        return Rate(timedelta(seconds=int(rate.group(1)) * UNIT_SECONDS[unit]))
    cron = CRON.match(expression.strip())
    if not cron:
        raise UnsupportedSchedule(f"not a schedule expression: {expression}")
    try:
        return _cron(cron.group(1).split())
    except ValueError as error:
        raise UnsupportedSchedule(f"{expression}: {error}") from None


def _cron(fields: list[str]) -> Cron:
    if len(fields) != 6:
        raise UnsupportedSchedule("cron needs 6 fields")
    minutes, hours, days, months, weekdays, years = fields
    return Cron(
        minutes=_field(minutes, 0, 59),
        hours=_field(hours, 0, 23),
        days=_optional_field(days, 1, 31),
        months=_field(months, 1, 12, MONTHS),
        weekdays=_optional_field(weekdays, 1, 7, WEEKDAYS),
        years=_optional_field(years, 1970, 2199),
    )


def _optional_field(text: str, low: int, high: int, names: tuple[str, ...] = ()) -> frozenset[int] | None:
    return None if text in {"?", "*"} else _field(text, low, high, names)


def _field(text: str, low: int, high: int, names: tuple[str, ...] = ()) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        values.update(_part(part, low, high, names))
    return frozenset(values)


def _part(text: str, low: int, high: int, names: tuple[str, ...]) -> range:
    span, _, step = text.partition("/")
    if span in {"*", "?"}:
        first, last = low, high
    else:
        start, _, end = span.partition("-")
        first = _value(start, low, high, names)
        last = _value(end, low, high, names) if end else (high if step else first)
    return range(first, last + 1, int(step) if step else 1)


def _value(text: str, low: int, high: int, names: tuple[str, ...]) -> int:
    upper = text.upper()
    if upper in names:
        return names.index(upper) + low
    if not upper.isdigit() or not low <= int(upper) <= high:
        raise UnsupportedSchedule(f"cron value {text!r} is not supported locally (L, W and # are not)")
    return int(upper)


class Scheduler:
    """One thread per scheduled function, firing it through `fire` (the job runner) when due."""

    def __init__(
        self,
        functions: Iterable[ScheduledFunction],
        fire: Callable[[ScheduledFunction], object],
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._functions = tuple(functions)
        self._fire = fire
        self._now = now
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for function in self._functions:
            try:
                schedule = parse(function.expression)
            except UnsupportedSchedule as error:
                log.warning("%s is not fired locally: %s", function.name, error)
                continue
            thread = threading.Thread(
                target=self._run, args=(function, schedule), name=f"schedule-{function.name}"
            )
            thread.daemon = True
            thread.start()
            self._threads.append(thread)
            log.info("scheduling %s on %s", function.name, function.expression)

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)

    def _run(self, function: ScheduledFunction, schedule: Schedule) -> None:
        due = schedule.next_after(self._now())
        while due is not None and not self._stop.wait(max(0.0, (due - self._now()).total_seconds())):
            try:
                self._fire(function)
            except Exception:
                log.exception("scheduled %s failed", function.name)
            due = schedule.next_after(max(due, self._now()))
