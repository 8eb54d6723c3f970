"""Each partner's signing secret: from the stage's configuration locally, from Secrets Manager in AWS.

In AWS one secret (`PARTNER_SECRETS_ID`) holds a JSON map of partner id → secret, read through
Powertools and cached for a few minutes, so a rotated secret is picked up without a deploy and a
busy container does not call Secrets Manager per payment. Locally `PARTNER_SECRETS` holds the same
map in clear (the local stack sets it; no local secret protects anything real).
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from chalicelib.core.settings import settings
from chalicelib.incentives.partners.errors import PartnerNotConfigured

SECRET_MAX_AGE_SECONDS = 300


def partner_secret(partner_id: str) -> bytes:
    value = _secrets(partner_id).get(partner_id)
    if not isinstance(value, str) or not value:
        raise PartnerNotConfigured(partner_id, "no signing secret for this partner")
    return value.encode()


def _secrets(partner_id: str) -> dict[str, Any]:
    config = settings()
    if config.partner_secrets is not None:
        return _parsed(config.partner_secrets.get_secret_value())
    if not config.partner_secrets_id:
        return {}
    from aws_lambda_powertools.utilities import parameters

    try:
        value = parameters.get_secret(
            config.partner_secrets_id, transform="json", max_age=SECRET_MAX_AGE_SECONDS
        )
    except (parameters.exceptions.GetParameterError, parameters.exceptions.TransformParameterError) as error:
        # Nothing was sent: the payment waits, as it would for a partner that is down.
        raise PartnerNotConfigured(partner_id, f"secrets unreadable: {type(error).__name__}") from error
    return value if isinstance(value, dict) else {}


@cache
def _parsed(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
