"""What every domain's storage stands on: the tables' shape, one unit of work over them, and the
keyed hash that keeps personal data out of keys.

Every table has the same generic shape (`pk`, `sk`, and indexes `gsi1`/`gsi2` over
`gsiNpk`/`gsiNsk`), declared once in `infra/resources.json`. Each domain declares the models of
its own items on these bases, in its own stores, and is the only one that reads or writes them;
`docs/DATA.md` lists every item, its owner and the access pattern its key serves.

No key ever holds NIK, KK, phone, e-mail or an account number in clear: `pii_key` turns them
into an HMAC-SHA256 under a secret key, so a leaked key or log line reveals nothing, while the
same person still maps to the same guard item for uniqueness checks.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import time
from collections.abc import Iterator
from functools import cache
from typing import Any

from pynamodb.attributes import UnicodeAttribute
from pynamodb.connection import Connection
from pynamodb.constants import ALL_OLD
from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

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


@cache
def _sealing_key(purpose: str) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(_hash_key())


def seal(purpose: str, value: str) -> str:
    """`value` encrypted (AES-GCM, a key derived from the keyed-hash secret for `purpose`), for an
    attribute that only one path may read in clear (a payment account number: the payment path)."""
    import base64
    import os

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = os.urandom(12)
    sealed = AESGCM(_sealing_key(purpose)).encrypt(nonce, value.encode(), purpose.encode())
    return base64.b64encode(nonce + sealed).decode()


def unseal(purpose: str, token: str) -> str:
    import base64

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    raw = base64.b64decode(token)
    return AESGCM(_sealing_key(purpose)).decrypt(raw[:12], raw[12:], purpose.encode()).decode()


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


def condition_failed(error: TransactWriteError) -> bool:
    """Whether a transaction was cancelled because one of its conditions did not hold."""
    return any(
        reason is not None and reason.code == "ConditionalCheckFailed"
        for reason in error.cancellation_reasons
    )


class Refused(Exception):
    """A unit of work was refused as a whole: `labels` names the conditions that did not hold,
    `old` the item each of those found, where its operation asked for it."""

    def __init__(self, labels: set[str], old: dict[str, dict[str, Any]]) -> None:
        super().__init__(", ".join(sorted(labels)))
        self.labels, self.old = labels, old


_KINDS = ("check", "delete", "put", "update")


class UnitOfWork:
    """One use case's writes, of any domains, committed as one DynamoDB transaction.

    Each domain adds its own items through its own store's functions and never builds another's;
    the use case commits once, so that all of it happens or none (cosmicpython's unit of work, on
    `TransactWriteItems`). Each operation may carry a label: a refused commit raises `Refused`
    with the labels of the conditions that failed, so the use case can say why without knowing
    another domain's items. A transaction holds at most 100 operations.
    """

    def __init__(self) -> None:
        self._operations: dict[str, list[tuple[str, dict[str, Any]]]] = {kind: [] for kind in _KINDS}

    def __len__(self) -> int:
        return sum(len(operations) for operations in self._operations.values())

    def put(
        self,
        item: Model,
        condition: Condition | None = None,
        *,
        label: str = "",
        old_on_refusal: bool = False,
    ) -> None:
        kwargs = item.get_save_kwargs_from_instance(
            condition=condition, return_values_on_condition_failure=ALL_OLD if old_on_refusal else None
        )
        self._operations["put"].append((label, kwargs))

    def update(
        self, item: Model, actions: list[Action], condition: Condition | None = None, *, label: str = ""
    ) -> None:
        kwargs = item.get_update_kwargs_from_instance(actions=actions, condition=condition)
        self._operations["update"].append((label, kwargs))

    def delete(self, item: Model, condition: Condition | None = None, *, label: str = "") -> None:
        self._operations["delete"].append((label, item.get_delete_kwargs_from_instance(condition=condition)))

    def check(
        self,
        model: type[Model],
        hash_key: str,
        range_key: str | None = None,
        *,
        condition: Condition,
        label: str,
    ) -> None:
        kwargs = model.get_operation_kwargs_from_class(hash_key, range_key=range_key, condition=condition)
        self._operations["check"].append((label, kwargs))

    def add_raw(self, kind: str, operation: dict[str, Any], label: str = "") -> None:
        """An operation already in DynamoDB's own request shape (a counter's `ADD` of named figures,
        a registration's items serialised without building models)."""
        self._operations[kind].append((label, operation))

    def _ordered(self) -> Iterator[str]:
        """The labels in the order PynamoDB sends the operations: checks, deletes, puts, updates."""
        for kind in _KINDS:
            yield from (label for label, _ in self._operations[kind])

    def commit(self) -> None:
        if not len(self):
            return
        try:
            connection().transact_write_items(
                condition_check_items=[operation for _, operation in self._operations["check"]],
                delete_items=[operation for _, operation in self._operations["delete"]],
                put_items=[operation for _, operation in self._operations["put"]],
                update_items=[operation for _, operation in self._operations["update"]],
            )
        except TransactWriteError as error:
            if not condition_failed(error):
                raise
            labels: set[str] = set()
            old: dict[str, dict[str, Any]] = {}
            for label, reason in zip(self._ordered(), error.cancellation_reasons, strict=False):
                if reason is not None and reason.code == "ConditionalCheckFailed":
                    labels.add(label)
                    if reason.raw_item:
                        old[label] = reason.raw_item
            raise Refused(labels, old) from error


def table_meta(table: str) -> Any:
    """The PynamoDB `Meta` of one of the template's tables, named for this stage."""
    config = settings()

    class Meta:
        table_name = config.table_name(table)
        region = config.region
        host = config.aws_endpoint_url
        max_retry_attempts = 3
        base_backoff_ms = 25

    return Meta


class Gsi1(GlobalSecondaryIndex[Any]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "gsi1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class Gsi2(GlobalSecondaryIndex[Any]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "gsi2"
        projection = AllProjection()

    gsi2pk = UnicodeAttribute(hash_key=True)
    gsi2sk = UnicodeAttribute(range_key=True)


class Keyed(Model):
    """pk/sk items: the shape of every table except guards and idempotency."""

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


def declared_models() -> list[type[Model]]:
    """Every model of a table that any imported domain has declared (for the test that keeps them
    equal to the template's tables)."""
    found: list[type[Model]] = []
    pending: list[type[Model]] = list(Model.__subclasses__())
    while pending:
        model = pending.pop()
        pending.extend(model.__subclasses__())
        if hasattr(getattr(model, "Meta", None), "table_name"):
            found.append(model)
    return found
