"""HMAC-SHA256 signatures over `<timestamp>.<raw body>`, both ways (docs/PARTNERS.md, "Signing").

The same functions sign the programme's requests, check a partner's callbacks, and, in the local
stack, play the partner's side, so the two sides cannot drift; the tests check them against an
HMAC computed independently.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from datetime import datetime

from chalicelib.core.observability import logger
from chalicelib.incentives.partners.accounts import is_partner
from chalicelib.incentives.partners.errors import PartnerNotConfigured
from chalicelib.incentives.partners.secrets import partner_secret

TIMESTAMP_HEADER = "X-Timestamp"
SIGNATURE_HEADER = "X-Signature"
# A signed request older or newer than this is a replay (or a clock gone wrong): refused.
TOLERANCE_SECONDS = 300
_PREFIX = "sha256="
_TIMESTAMP = re.compile(r"^[0-9]{1,12}$")


def signature(secret: bytes, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret, timestamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()
    return _PREFIX + digest


def signed_headers(secret: bytes, body: bytes, now: float) -> dict[str, str]:
    """The two headers that sign `body`, sent at `now` (Unix seconds, the wall clock)."""
    timestamp = str(int(now))
    return {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: signature(secret, timestamp, body)}


def holds(
    secret: bytes,
    headers: Mapping[str, str],
    raw_body: bytes,
    now: float,
    tolerance_seconds: int = TOLERANCE_SECONDS,
) -> bool:
    """Whether `raw_body` was signed with `secret` within `tolerance_seconds` of `now`. Checked on
    the bytes as received, before anything parses them, and compared in constant time."""
    lowered = {name.lower(): value for name, value in headers.items()}
    timestamp = lowered.get(TIMESTAMP_HEADER.lower(), "")
    given = lowered.get(SIGNATURE_HEADER.lower(), "")
    if not _TIMESTAMP.match(timestamp) or not given.isascii():
        return False
    if abs(now - int(timestamp)) > tolerance_seconds:
        return False
    return hmac.compare_digest(signature(secret, timestamp, raw_body).encode(), given.encode())


def verify_callback(
    partner_id: str, headers: Mapping[str, str], raw_body: bytes, now: datetime | float
) -> bool:
    """Whether a status callback really comes from `partner_id` (its secret) and is recent.

    `now` is the wall clock (`time.time()` or an aware datetime), not the programme's clock, which
    the local stack can move for demos: a signature's timestamp is about transport, not about the
    programme's days. An unknown or unconfigured partner is refused, never trusted.
    """
    if not is_partner(partner_id):
        return False
    try:
        secret = partner_secret(partner_id)
    except PartnerNotConfigured:
        logger.warning("partner callback refused: no secret configured", extra={"partner_id": partner_id})
        return False
    moment = now.timestamp() if isinstance(now, datetime) else float(now)
    return holds(secret, headers, raw_body, moment)
