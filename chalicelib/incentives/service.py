"""The incentives domain's one door for other domains: the figures it keeps, and survey rewards
(made due by the surveys stage through the same payment records as incentives)."""

from __future__ import annotations

from chalicelib.incentives.figures import FIGURES
from chalicelib.incentives.schedules import owe_survey_reward

__all__ = ["FIGURES", "owe_survey_reward"]
