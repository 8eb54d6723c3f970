"""The incentives domain's one door for other domains: the figures it keeps, and survey rewards
(made due by the surveys stage through the same payment records as incentives)."""

from __future__ import annotations

from chalicelib.incentives.figures import FIGURES
from chalicelib.incentives.schedules import add_survey_reward, owe_survey_reward
from chalicelib.incentives.stores.payments import EXISTS as REWARD_OWED

__all__ = ["FIGURES", "REWARD_OWED", "add_survey_reward", "owe_survey_reward"]
