"""The incentives domain's one door for other domains: the figures it keeps, a payee's payments
(what the drift check recounts them from), and survey rewards
(made due by the surveys stage through the same payment records as incentives)."""

from __future__ import annotations

from chalicelib.incentives.figures import FIGURES, OUTCOMES
from chalicelib.incentives.schedules import add_survey_reward, owe_survey_reward
from chalicelib.incentives.stores.payments import EXISTS as REWARD_OWED
from chalicelib.incentives.stores.payments import payments_of

__all__ = ["FIGURES", "OUTCOMES", "REWARD_OWED", "add_survey_reward", "owe_survey_reward", "payments_of"]
