"""Registration's public figures, per province (and per wave for selections), kept by the writes
that change them (`core.counters`)."""

from __future__ import annotations

from datetime import UTC, datetime

from chalicelib.core import counters, tallies
from chalicelib.core.storage import UnitOfWork
from chalicelib.registration.model import Participant

FIGURES = ("registered", "applied", "selected")
COHORT = "COHORT"


def count(
    unit: UnitOfWork, province_code: str, spread_by: str, wave_id: str | None = None, **figures: int
) -> None:
    """Add `figures` (names of `FIGURES`) to the province's, and to the wave's within it if given."""
    unknown = set(figures) - set(FIGURES)
    if unknown:
        raise ValueError(f"not registration's figures: {sorted(unknown)}")
    counters.add_in(unit, counters.province_scope(province_code), spread_by, figures)
    if wave_id is not None:
        counters.add_in(unit, counters.wave_scope(wave_id, province_code), spread_by, figures)


def count_registered(unit: UnitOfWork, participant: Participant) -> None:
    """One more registration decided in the province, in the hour it was made."""
    _tally(unit, participant, participant.registered_at, "registered")


def count_applied(unit: UnitOfWork, participant: Participant, at: datetime) -> None:
    """One more application from the province, in the hour it was made."""
    _tally(unit, participant, at, "applied")


def _tally(unit: UnitOfWork, participant: Participant, at: datetime, figure: str) -> None:
    """Tallied (`core.tallies`), not counted on the province's 16 shards: a wave's opening, or a
    spike of registrations (each one's identity check), writes these once per person."""
    hour = at.astimezone(UTC).strftime("%Y-%m-%dT%H")
    scope = counters.province_scope(participant.province_code)
    tallies.tally_in(unit, scope, f"HOUR#{hour}", participant.participant_id, {figure: 1})


def count_cohort(unit: UnitOfWork, province_code: str, cohort: str, spread_by: str) -> None:
    """One more participant of `cohort` in the province."""
    counters.add_in(
        unit,
        counters.province_scope(province_code),
        spread_by,
        {"participants": 1},
        group=f"{COHORT}#{cohort}",
    )


def cohorts(groups: dict[str, dict[str, int]]) -> dict[str, int]:
    """Participants per cohort, from the groups of a province's counters (`counters.totals`)."""
    return {
        group.removeprefix(f"{COHORT}#"): figures.get("participants", 0)
        for group, figures in groups.items()
        if group.startswith(f"{COHORT}#")
    }
