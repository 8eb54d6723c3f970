"""Training's one door: its use cases, and what later stages may ask of a participant's training.

Later stages (incentives asks whether a course was completed and rated) import this module and
`training.model`, nothing else of training.
"""

from __future__ import annotations

from chalicelib.training import figures
from chalicelib.training.completions import complete, rate, rated_completion
from chalicelib.training.courses import find_course, publish_course
from chalicelib.training.purchases import buy, purchases_of
from chalicelib.training.revocation import NO_PURCHASE, expire_balances, revoke, sweep_deadlines

__all__ = [
    "NO_PURCHASE",
    "buy",
    "complete",
    "expire_balances",
    "find_course",
    "publish_course",
    "purchases_of",
    "rate",
    "rated_completion",
    "revoke",
    "sweep_deadlines",
]

FIGURES = figures.FIGURES
