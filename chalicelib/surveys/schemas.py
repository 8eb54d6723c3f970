"""The surveys stage's request bodies."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr


class ResponseRequest(BaseModel):
    """Answers by question id. Their types are checked against the survey's own questionnaire
    version (`definitions.checked`), not here: a later version may ask other questions."""

    model_config = ConfigDict(extra="forbid")

    answers: dict[StrictStr, StrictBool | StrictStr | None] = Field(max_length=50)
