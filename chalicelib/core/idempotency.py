"""Replay protection for the contract's `Idempotency-Key` header, on Powertools' idempotency utility.

A retry with the same key and body gets the first outcome back without running anything again;
the same key with another body is a conflict; a duplicate that arrives while the first is still
running is told so rather than run twice. Records live in the idempotency table for a day (TTL).
Keys are scoped to the operation and the caller, so one caller's key never replays another's.

Powertools (and with it boto3) is imported on first use: most requests never need it, and cold
starts during registration spikes matter more than the first purchase's few milliseconds.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Any, Protocol

from chalicelib.core.errors import Conflict, ValidationFailed
from chalicelib.core.settings import settings

RECORD_LIFETIME_SECONDS = 24 * 3600
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")

Outcome = dict[str, Any]


class LambdaContext(Protocol):
    def get_remaining_time_in_millis(self) -> int: ...


class KeyReused(Conflict):
    code = "IDEMPOTENCY_KEY_REUSED"
    message = "Idempotency-Key ini sudah dipakai untuk permintaan lain."


class StillRunning(Conflict):
    code = "REQUEST_IN_PROGRESS"
    message = "Permintaan yang sama sedang diproses; coba lagi sebentar lagi."


@cache
def _guarded() -> tuple[Callable[..., Outcome], Any]:
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )
    from botocore.config import Config

    config = IdempotencyConfig(
        event_key_jmespath="key",
        payload_validation_jmespath="body",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=RECORD_LIFETIME_SECONDS,
    )
    persistence = DynamoDBPersistenceLayer(
        table_name=settings().table_name("idempotency"),
        boto_config=Config(region_name=settings().region),
    )

    @idempotent_function(  # type: ignore[untyped-decorator]
        data_keyword_argument="request",
        persistence_store=persistence,
        config=config,
        key_prefix="idempotency-key",
    )
    def run(request: dict[str, Any], action: Callable[[], Outcome]) -> Outcome:
        return action()

    return run, config


def run_once(
    scope: str,
    key: str | None,
    body: Any,
    action: Callable[[], Outcome],
    context: LambdaContext | None = None,
) -> Outcome:
    """`action()`'s outcome, run at most once per (scope, key); without a key, just run it."""
    if key is None:
        return action()
    if not _KEY.match(key):
        raise ValidationFailed(fields={"Idempotency-Key": "1 to 255 visible ASCII characters"})
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    run, config = _guarded()
    if context is not None:
        config.register_lambda_context(context)
    try:
        return run(request={"key": f"{scope}:{key}", "body": body}, action=action)
    except IdempotencyValidationError as error:
        raise KeyReused() from error
    except IdempotencyAlreadyInProgressError as error:
        raise StillRunning() from error
