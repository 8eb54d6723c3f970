"""The surveys stage's one door for what sits above it (the reports): its outcome figures."""

from __future__ import annotations

from chalicelib.surveys.figures import OUTCOMES, outcomes

__all__ = ["OUTCOMES", "outcomes"]
