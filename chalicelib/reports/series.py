"""The dashboard's time series: registrations and applications per hour, payment outcomes per
day, per province and nationally, as the `stats` job folded them (`reports.rollup`).

One item per hour or day of the range asked for, read in two queries of one partition each: a
read costs at most `MAX_DAYS` × 25 small items, however large the programme.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from chalicelib.core import tallies

MAX_DAYS = 31
DEFAULT_DAYS = 7
HOUR_FIGURES = ("registered", "applied")
PAYMENT_FIGURES = ("payments_paid", "payments_paid_amount", "payments_failed", "payments_needs_action")


def series(scope: str, first: date, last: date) -> dict[str, object]:
    """Every hour and day from `first` to `last` (inclusive, UTC days), zeros where nothing was
    counted, so that a chart needs no gaps filled."""
    hours = tallies.series_between(scope, f"HOUR#{first.isoformat()}T00", f"HOUR#{last.isoformat()}T23")
    days = tallies.series_between(scope, f"DAY#{first.isoformat()}", f"DAY#{last.isoformat()}")
    start = datetime(first.year, first.month, first.day, tzinfo=UTC)
    count = ((last - first).days + 1) * 24
    moments = [start + timedelta(hours=offset) for offset in range(count)]
    per_hour = [
        {
            "hour": moment.strftime("%Y-%m-%dT%H:00:00Z"),
            **{name: hours.get(f"HOUR#{moment:%Y-%m-%dT%H}", {}).get(name, 0) for name in HOUR_FIGURES},
        }
        for moment in moments
    ]
    per_day = []
    for offset in range((last - first).days + 1):
        day = first + timedelta(days=offset)
        counted = days.get(f"DAY#{day.isoformat()}", {})
        per_day.append({"day": day.isoformat(), **{name: counted.get(name, 0) for name in PAYMENT_FIGURES}})
    return {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "registrations_per_hour": per_hour,
        "payments_per_day": per_day,
    }


def date_range(
    given_from: str | None, given_to: str | None, today: date
) -> tuple[date, date] | dict[str, str]:
    """The range asked for (the last `DEFAULT_DAYS` days by default), or what is wrong with it."""
    try:
        last = date.fromisoformat(given_to) if given_to else today
    except ValueError:
        return {"to": "format YYYY-MM-DD"}
    try:
        first = date.fromisoformat(given_from) if given_from else last - timedelta(days=DEFAULT_DAYS - 1)
    except ValueError:
        return {"from": "format YYYY-MM-DD"}
    if first > last:
        return {"from": "tidak boleh setelah 'to'"}
    if (last - first).days + 1 > MAX_DAYS:
        return {"from": f"rentang paling panjang {MAX_DAYS} hari"}
    return first, last
