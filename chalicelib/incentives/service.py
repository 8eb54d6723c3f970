"""The incentives domain's one door: for now, the figures it will keep (paid amounts, in Rupiah)."""

from __future__ import annotations

FIGURES = ("incentive_paid_amount", "survey_paid_amount")
