"""The incentives domain's figures: amounts paid per province (the contract's Reports), and per
day and partner what was due, sent, paid, failed and reconciled (the disbursement view)."""

from __future__ import annotations

from datetime import date

from chalicelib.core import counters, tallies
from chalicelib.core.storage import UnitOfWork
from chalicelib.incentives.model import Kind

FIGURES = ("incentive_paid_amount", "survey_paid_amount")
# Payment outcomes per province (moves into each state, so a payment failed twice counts twice),
# and the day series of what was paid: tallied (`core.tallies`), folded by the `stats` job.
OUTCOMES = ("payments_paid", "payments_paid_amount", "payments_failed", "payments_needs_action")
# Per day and partner: a count and an amount for each step a payment takes.
STEPS = ("due", "sent", "paid", "failed", "needs_action", "reconciled")
DAILY = tuple(f"{step}_{measure}" for step in STEPS for measure in ("count", "amount"))


def daily_scope(day: date, partner_id: str) -> str:
    return f"DISBURSEMENT#{day.isoformat()}#{partner_id}"


def paid(unit: UnitOfWork, province_code: str, kind: Kind, amount: int, spread_by: str) -> None:
    """A payment the partner paid, counted in the same transaction that records it."""
    name = "incentive_paid_amount" if kind is Kind.INCENTIVE else "survey_paid_amount"
    counters.add_in(unit, counters.province_scope(province_code), spread_by, {name: amount})


def outcome(unit: UnitOfWork, province_code: str, day: date, name: str, amount: int, spread_by: str) -> None:
    """A payment of the province moving to `name` (`paid`, `failed`, `needs_action`) on `day`."""
    figures = {f"payments_{name}": 1}
    if name == "paid":
        figures["payments_paid_amount"] = amount
    scope = counters.province_scope(province_code)
    tallies.tally_in(unit, scope, f"DAY#{day.isoformat()}", spread_by, figures)


def step(unit: UnitOfWork, day: date, partner_id: str, name: str, amount: int, spread_by: str) -> None:
    """One payment taking step `name` (of `STEPS`) on `day` through `partner_id`."""
    if name not in STEPS:
        raise ValueError(f"not a disbursement step: {name}")
    counters.add_in(
        unit, daily_scope(day, partner_id), spread_by, {f"{name}_count": 1, f"{name}_amount": amount}
    )


def daily(day: date, partner_id: str) -> dict[str, int]:
    totals, _ = counters.totals(daily_scope(day, partner_id), DAILY)
    return totals
