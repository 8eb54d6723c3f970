"""The adapter to the civil registry (Dukcapil): is this NIK, with this KK, name and birth date, real?

One HTTP call per person, over the same interface in AWS and on the local stack (where
`devstack` plays the registry). The registry limits lookups per second and per day; pacing is
the caller's job (`verification.py`), this module only asks and reports what it was told.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import date
from functools import cache

from chalicelib.core.settings import settings

TIMEOUT_SECONDS = 10


class RegistryUnavailable(Exception):
    """The registry did not answer usefully; the lookup should be tried again later."""


@dataclass(frozen=True)
class Answer:
    verified: bool
    reason: str | None = None


@cache
def _api_key() -> str | None:
    """The registry's key for this programme: from SSM in AWS (SecureString), none for the local fake."""
    config = settings()
    if config.registry_key is not None:
        return config.registry_key.get_secret_value()
    if config.registry_key_parameter:
        from aws_lambda_powertools.utilities import parameters

        return str(parameters.get_parameter(config.registry_key_parameter, decrypt=True, max_age=3600))
    return None


def look_up(nik: str, kk_number: str, full_name: str, birth_date: date) -> Answer:
    url = settings().registry_url
    if not url.startswith(("http://", "https://")):
        raise RegistryUnavailable("no registry configured (REGISTRY_URL)")
    headers = {"Content-Type": "application/json"}
    key = _api_key()
    if key:
        headers["X-Api-Key"] = key
    request = urllib.request.Request(  # noqa: S310 (the scheme is checked above)
        f"{url.rstrip('/')}/verify",
        data=json.dumps(
            {"nik": nik, "kk_number": kk_number, "full_name": full_name, "birth_date": birth_date.isoformat()}
        ).encode(),
        headers=headers,
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            answer = json.loads(response.read())
    except (urllib.error.URLError, TimeoutError, json.JSONDecodeError) as error:
        raise RegistryUnavailable(type(error).__name__) from error
    if not isinstance(answer, dict) or not isinstance(answer.get("verified"), bool):
        raise RegistryUnavailable("unexpected answer")
    return Answer(answer["verified"], answer.get("reason"))
