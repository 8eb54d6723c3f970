"""Outcome figures: per province, wave, cohort and survey round, how many answered, employed,
self-employed, unemployed, and said the training helped; added in the answer's own transaction,
so they are exact without a recount.

They are counters' groups (`core.counters`): `SURVEY#<round>` in the province's and the wave's
scopes, `SURVEY#<round>#COHORT#<cohort>` in the province's.
"""

from __future__ import annotations

from chalicelib.core import counters
from chalicelib.core.storage import UnitOfWork
from chalicelib.registration.model import Participant

OUTCOMES = ("answered", "employed", "self_employed", "unemployed", "training_helped")
_STATUS_FIGURE = {"EMPLOYED": "employed", "SELF_EMPLOYED": "self_employed", "UNEMPLOYED": "unemployed"}
_GROUP = "SURVEY#"


def count_answer(
    unit: UnitOfWork, participant: Participant, survey_round: int, answers: dict[str, object]
) -> None:
    figures = {"answered": 1, "training_helped": int(answers.get("training_helped") is True)}
    status = _STATUS_FIGURE.get(str(answers.get("employment_status")))
    if status:
        figures[status] = 1
    spread_by = participant.participant_id
    group = f"{_GROUP}{survey_round}"
    province = counters.province_scope(participant.province_code)
    counters.add_in(unit, province, spread_by, figures, group=group)
    if participant.selected_wave:
        wave = counters.wave_scope(participant.selected_wave, participant.province_code)
        counters.add_in(unit, wave, spread_by, figures, group=group)
    for cohort in participant.cohorts:
        counters.add_in(unit, province, spread_by, figures, group=f"{group}#COHORT#{cohort}")


def outcomes(groups: dict[str, dict[str, int]]) -> dict[str, object]:
    """The outcome figures of a scope's counter groups (`counters.totals`): per round, and per
    cohort and round, each count with its share of those who answered."""
    rounds: dict[str, object] = {}
    cohorts: dict[str, dict[str, object]] = {}
    for group, figures in groups.items():
        if not group.startswith(_GROUP):
            continue
        survey_round, _, cohort = group.removeprefix(_GROUP).partition("#COHORT#")
        shown = _with_shares(figures)
        if cohort:
            cohorts.setdefault(cohort, {})[survey_round] = shown
        else:
            rounds[survey_round] = shown
    return {"rounds": rounds, "cohorts": cohorts}


def _with_shares(figures: dict[str, int]) -> dict[str, object]:
    counted = {name: figures.get(name, 0) for name in OUTCOMES}
    answered = counted["answered"]
    shares = {
        f"{name}_share": round(counted[name] / answered, 4) if answered else 0.0
        for name in OUTCOMES
        if name != "answered"
    }
    return {**counted, **shares}
