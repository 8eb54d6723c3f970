"""The DynamoDB tables, as PynamoDB models, and the keyed hash that keeps personal data out of keys.

Every table has the same generic shape (`pk`, `sk`, and indexes `gsi1`/`gsi2` over
`gsiNpk`/`gsiNsk`), declared once in `infra/resources.json`; the item types that live in each
table, and which key serves which access pattern, are listed in `docs/DATA.md`. Domain packages
subclass these models in their own `store.py` and are the only modules that read or write them.

No key ever holds NIK, KK, phone, e-mail or an account number in clear: `pii_key` turns them
into an HMAC-SHA256 under a secret key, so a leaked key or log line reveals nothing, while the
same person still maps to the same guard item for uniqueness checks.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import time
from functools import cache
from typing import Any, ClassVar

from pynamodb.attributes import UnicodeAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.core.settings import settings


@cache
def _hash_key() -> bytes:
    config = settings()
    if config.hash_key is not None:
        return config.hash_key.get_secret_value().encode()
    if config.hash_key_parameter:
        from aws_lambda_powertools.utilities import parameters

        value = parameters.get_parameter(config.hash_key_parameter, decrypt=True, max_age=3600)
        return str(value).encode()
    raise RuntimeError("no hash key configured: set HASH_KEY (local) or HASH_KEY_PARAMETER (AWS)")


def pii_key(kind: str, value: str) -> str:
    """A stable, non-reversible key for a personal value, e.g. `NIK#3f1c…` for a NIK."""
    digest = hmac.new(_hash_key(), f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()
    return f"{kind}#{digest}"


def derived_id(kind: str, value: str) -> str:
    """An id of 32 hex digits derived from `value`: the same value always gives the same id, which
    is how a retried request finds what it made, and the id does not reveal the value."""
    return pii_key(kind, value).partition("#")[2][:32]


# A transaction that meets another one writing the same item (a participant's profile, a course's
# rating, a counter shard) is cancelled with `TransactionConflict` and wrote nothing: sent again a
# moment later, its conditions are checked anew. botocore does not retry it.
CONFLICT_ATTEMPTS = 5
CONFLICT_BACKOFF_SECONDS = 0.02


def _conflicted(error: TransactWriteError) -> bool:
    codes = {reason.code for reason in error.cancellation_reasons if reason is not None}
    return "TransactionConflict" in codes and "ConditionalCheckFailed" not in codes


class _Connection(Connection):
    def transact_write_items(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        attempt = 1
        while True:
            try:
                return super().transact_write_items(*args, **kwargs)
            except TransactWriteError as error:
                if attempt == CONFLICT_ATTEMPTS or not _conflicted(error):
                    raise
            time.sleep(random.uniform(0, CONFLICT_BACKOFF_SECONDS * 2**attempt))  # noqa: S311
            attempt += 1


@cache
def connection() -> Connection:
    """One connection per container for transactions: each new one builds a botocore client."""
    config = settings()
    return _Connection(region=config.region, host=config.aws_endpoint_url)


def transaction() -> TransactWrite:
    """A DynamoDB transaction over any of the tables: all its writes happen, or none."""
    return TransactWrite(connection=connection())


def condition_failed(error: TransactWriteError) -> bool:
    """Whether a transaction was cancelled because one of its conditions did not hold."""
    return any(
        reason is not None and reason.code == "ConditionalCheckFailed"
        for reason in error.cancellation_reasons
    )


def _meta(table: str) -> Any:
    config = settings()

    class Meta:
        table_name = config.table_name(table)
        region = config.region
        host = config.aws_endpoint_url
        max_retry_attempts = 3
        base_backoff_ms = 25

    return Meta


class _Gsi1(GlobalSecondaryIndex[Any]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "gsi1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class _Gsi2(GlobalSecondaryIndex[Any]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "gsi2"
        projection = AllProjection()

    gsi2pk = UnicodeAttribute(hash_key=True)
    gsi2sk = UnicodeAttribute(range_key=True)


class _Keyed(Model):
    """pk/sk items: the shape of every table except guards and idempotency."""

    table: ClassVar[str]

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class ParticipantItem(_Keyed):
    """A participant's profile (`P#<id>`/`PROFILE`) and its append-only audit events."""

    table = "participants"
    Meta = _meta(table)
    gsi1 = _Gsi1()
    gsi2 = _Gsi2()
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)


class GuardItem(Model):
    """One uniqueness claim (`NIK#<hmac>`, `EMAIL#…`, `PHONE#…`, `ACCOUNT#…`, `KK#…`)."""

    table: ClassVar[str] = "guards"
    Meta = _meta(table)
    pk = UnicodeAttribute(hash_key=True)
    participant_id = UnicodeAttribute(null=True)


class WaveItem(_Keyed):
    """Waves (`WAVES`/`<wave_id>`) and applications to them, indexed by wave and province."""

    table = "waves"
    Meta = _meta(table)
    gsi1 = _Gsi1()
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)


class CatalogueItem(_Keyed):
    """Courses and purchases; indexed by platform and by category."""

    table = "catalogue"
    Meta = _meta(table)
    gsi1 = _Gsi1()
    gsi2 = _Gsi2()
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)


class PaymentItem(_Keyed):
    """Incentive and survey payments; indexed by due date for disbursement."""

    table = "payments"
    Meta = _meta(table)
    gsi1 = _Gsi1()
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)


class SurveyItem(_Keyed):
    """Surveys sent to participants and their responses; indexed by due date for dispatch."""

    table = "surveys"
    Meta = _meta(table)
    gsi1 = _Gsi1()
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)


class JobItem(_Keyed):
    """Imports and batch-job checkpoints; finished ones expire."""

    table = "jobs"
    Meta = _meta(table)


class OutboxItem(_Keyed):
    """Notifications and events waiting to be sent; indexed by pending shard."""

    table = "outbox"
    Meta = _meta(table)
    gsi1 = _Gsi1()
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)


class StatsItem(_Keyed):
    """Sharded counters per province, added to off the hot path."""

    table = "stats"
    Meta = _meta(table)


MODELS: tuple[type[Model], ...] = (
    ParticipantItem,
    GuardItem,
    WaveItem,
    CatalogueItem,
    PaymentItem,
    SurveyItem,
    JobItem,
    OutboxItem,
    StatsItem,
)
