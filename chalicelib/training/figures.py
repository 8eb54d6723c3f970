"""Training's public figures, per province and, for what revocation returns, per wave within it."""

from __future__ import annotations

from chalicelib.core import counters
from chalicelib.core.storage import UnitOfWork

FIGURES = (
    "revoked",
    "freed_places",
    "training_purchased",
    "training_spent",
    "training_completed",
    "returned_balance",
    "expired_balance",
)


def count(
    unit: UnitOfWork, province_code: str, spread_by: str, wave_id: str | None = None, **figures: int
) -> None:
    """Add `figures` (names of `FIGURES`; amounts in Rupiah) to the province's, and to the wave's
    within it if given, as part of `unit`."""
    unknown = set(figures) - set(FIGURES)
    if unknown:
        raise ValueError(f"not training's figures: {sorted(unknown)}")
    counters.add_in(unit, counters.province_scope(province_code), spread_by, figures)
    if wave_id is not None:
        counters.add_in(unit, counters.wave_scope(wave_id, province_code), spread_by, figures)
