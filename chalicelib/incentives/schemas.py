"""Request shapes of the incentives routes; validators are built on first use (see registration)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

from chalicelib.core.validation import Plain


class AccountRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    # Checked against the partners by the use case, which answers UNKNOWN_PARTNER.
    partner_id: Annotated[str, StringConstraints(min_length=1, max_length=20)]
    # Its shape is the partner's (`partners.valid_account_number`), answered INVALID_ACCOUNT_NUMBER.
    account_number: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]
    account_name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), Plain
    ]


class DecisionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    decision: Literal["APPROVE", "REJECT"]
