"""Payments (what a participant is owed), attempts at paying them, and each payment's history.

Every change of a payment's state is one unit of work: the payment under a condition on the state
and version it was read in, the attempt under a condition on its own, a history entry (the audit
record of every money movement), and the figures. A payment waits in one index at a time: the due
index (`DUE#<shard>`, sorted by due date) while it is to be sent, the in-flight index
(`INFLIGHT#<shard>`, sorted by when it last moved) while an attempt is under way, none once it is
settled or waits for someone to act.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.expressions.update import Action

from chalicelib.core.settings import programme
from chalicelib.core.storage import UnitOfWork, seal, unseal
from chalicelib.incentives.model import (
    Attempt,
    AttemptState,
    Kind,
    Payment,
    PaymentStatus,
    participant_of_payment,
)
from chalicelib.incentives.stores.accounts import SEALED, payee_key
from chalicelib.incentives.stores.tables import PaymentItem

SHARDS = 16
# Labels of a refused unit of work.
PAYMENT, ATTEMPT, EXISTS = "payment", "attempt", "exists"
_IN_DUE_INDEX = frozenset({PaymentStatus.DUE, PaymentStatus.FAILED})
_IN_FLIGHT = frozenset({PaymentStatus.SENDING, PaymentStatus.SENT})


class _PaymentRecord(PaymentItem, discriminator="PAYMENT"):
    payment_id = UnicodeAttribute()
    participant_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    number = NumberAttribute()
    amount = NumberAttribute()
    due_date = UnicodeAttribute()
    province_code = UnicodeAttribute()
    status = UnicodeAttribute()
    attempts = NumberAttribute(default=0)
    failures = NumberAttribute(default=0)
    partner_id = UnicodeAttribute(null=True)
    reason = UnicodeAttribute(null=True)
    paid_at = UTCDateTimeAttribute(null=True)
    version = NumberAttribute(default=0)


class _AttemptRecord(PaymentItem, discriminator="ATTEMPT"):
    attempt_id = UnicodeAttribute()
    payment_id = UnicodeAttribute()
    partner_id = UnicodeAttribute()
    amount = NumberAttribute()
    state = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    transfer_id = UnicodeAttribute(null=True)
    reason = UnicodeAttribute(null=True)
    # The account the attempt was first sent to, so that every resend is byte for byte the same.
    account_sealed = UnicodeAttribute(null=True)
    account_name = UnicodeAttribute(null=True)
    version = NumberAttribute(default=0)


class _HistoryRecord(PaymentItem, discriminator="HISTORY"):
    payment_id = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    actor = UnicodeAttribute()
    status_from = UnicodeAttribute(null=True)
    status_to = UnicodeAttribute()
    details = JSONAttribute(default=dict)


def _payment_sort_key(payment_id: str) -> str:
    _, kind, number = payment_id.rsplit("-", 2)
    return f"PAYMENT#{kind}#{int(number):02d}"


def _attempt_sort_key(attempt_id: str) -> str:
    """Nested under its payment's key, so that one query reads a payment with its attempts."""
    payment, _, number = attempt_id.rpartition("-A")
    return f"{_payment_sort_key(payment)}#A{int(number):03d}"


def shard_of(participant_id: str) -> int:
    return int(participant_id[:4], 16) % SHARDS


def _index(payment: Payment, look_at: datetime | None) -> tuple[str, str] | None:
    shard = shard_of(payment.participant_id)
    if payment.status in _IN_DUE_INDEX:
        return f"DUE#{shard:02d}", f"{payment.due_date.isoformat()}#{payment.payment_id}"
    if payment.status in _IN_FLIGHT:
        if look_at is None:
            raise ValueError("a payment in flight needs the time it is to be looked at again")
        return f"INFLIGHT#{shard:02d}", f"{look_at.astimezone(UTC).isoformat()}#{payment.payment_id}"
    if payment.status is PaymentStatus.PAID and payment.partner_id and payment.paid_at:
        # Until reconciliation finds it in the partner's settlement file of its day.
        return paid_partition(payment.partner_id, paid_day(payment.paid_at), shard), payment.payment_id
    return None


def paid_day(moment: datetime) -> date:
    """The day a payment was paid, as partners date their settlement files (WIB)."""
    return moment.astimezone(programme().timezone).date()


def paid_partition(partner_id: str, day: date, shard: int) -> str:
    return f"PAID#{partner_id}#{day.isoformat()}#{shard:02d}"


def _payment(record: _PaymentRecord) -> Payment:
    return Payment(
        payment_id=record.payment_id,
        participant_id=record.participant_id,
        kind=Kind(record.kind),
        number=int(record.number),
        amount=int(record.amount),
        due_date=date.fromisoformat(record.due_date),
        province_code=record.province_code,
        status=PaymentStatus(record.status),
        attempts=int(record.attempts),
        failures=int(record.failures),
        partner_id=record.partner_id,
        reason=record.reason,
        paid_at=record.paid_at,
        version=int(record.version),
    )


def _attempt(record: _AttemptRecord) -> Attempt:
    return Attempt(
        attempt_id=record.attempt_id,
        payment_id=record.payment_id,
        partner_id=record.partner_id,
        amount=int(record.amount),
        state=AttemptState(record.state),
        created_at=record.created_at,
        transfer_id=record.transfer_id,
        reason=record.reason,
        account_number=unseal(SEALED, record.account_sealed) if record.account_sealed else None,
        account_name=record.account_name,
        version=int(record.version),
    )


def add_owed(unit: UnitOfWork, payment: Payment) -> None:
    """A new payment, written once: the same entitlement is never owed twice (label `EXISTS`)."""
    record = _PaymentRecord(
        payee_key(payment.participant_id),
        _payment_sort_key(payment.payment_id),
        payment_id=payment.payment_id,
        participant_id=payment.participant_id,
        kind=payment.kind.value,
        number=payment.number,
        amount=payment.amount,
        due_date=payment.due_date.isoformat(),
        province_code=payment.province_code,
        status=payment.status.value,
        partner_id=payment.partner_id,
    )
    record.gsi1pk, record.gsi1sk = _index(payment, None) or (None, None)
    unit.put(record, condition=_PaymentRecord.pk.does_not_exist(), label=EXISTS)


def move(unit: UnitOfWork, read: Payment, to: Payment, look_at: datetime | None = None) -> None:
    """The payment from the state it was read in to `to`'s (label `PAYMENT` if it moved meanwhile);
    one in flight waits in the in-flight index until `look_at`."""
    actions: list[Action] = [
        _PaymentRecord.status.set(to.status.value),
        _PaymentRecord.attempts.set(to.attempts),
        _PaymentRecord.failures.set(to.failures),
        _PaymentRecord.due_date.set(to.due_date.isoformat()),
        _PaymentRecord.version.set(read.version + 1),
    ]
    actions.append(
        _PaymentRecord.partner_id.set(to.partner_id) if to.partner_id else _PaymentRecord.partner_id.remove()
    )
    actions.append(_PaymentRecord.reason.set(to.reason) if to.reason else _PaymentRecord.reason.remove())
    actions.append(_PaymentRecord.paid_at.set(to.paid_at) if to.paid_at else _PaymentRecord.paid_at.remove())
    index = _index(to, look_at)
    if index is None:
        actions += [_PaymentRecord.gsi1pk.remove(), _PaymentRecord.gsi1sk.remove()]
    else:
        actions += [_PaymentRecord.gsi1pk.set(index[0]), _PaymentRecord.gsi1sk.set(index[1])]
    unit.update(
        _PaymentRecord(payee_key(read.participant_id), _payment_sort_key(read.payment_id)),
        actions=actions,
        condition=(_PaymentRecord.version == read.version) & (_PaymentRecord.status == read.status.value),
        label=PAYMENT,
    )


def add_attempt(unit: UnitOfWork, attempt: Attempt) -> None:
    participant_id = participant_of_payment(attempt.payment_id)
    unit.put(
        _AttemptRecord(
            payee_key(participant_id),
            _attempt_sort_key(attempt.attempt_id),
            attempt_id=attempt.attempt_id,
            payment_id=attempt.payment_id,
            partner_id=attempt.partner_id,
            amount=attempt.amount,
            state=attempt.state.value,
            created_at=attempt.created_at,
        ),
        condition=_AttemptRecord.pk.does_not_exist(),
        label=ATTEMPT,
    )


def move_attempt(
    unit: UnitOfWork,
    read: Attempt,
    to: AttemptState,
    *,
    transfer_id: str | None = None,
    reason: str | None = None,
    account: tuple[str, str] | None = None,
) -> None:
    """The attempt from the state it was read in to `to` (label `ATTEMPT` if it moved meanwhile),
    with the account (number, name) it is sent to when it is first submitted."""
    actions: list[Action] = [_AttemptRecord.state.set(to.value), _AttemptRecord.version.set(read.version + 1)]
    if transfer_id is not None:
        actions.append(_AttemptRecord.transfer_id.set(transfer_id))
    if reason is not None:
        actions.append(_AttemptRecord.reason.set(reason))
    if account is not None:
        actions.append(_AttemptRecord.account_sealed.set(seal(SEALED, account[0])))
        actions.append(_AttemptRecord.account_name.set(account[1]))
    unit.update(
        _AttemptRecord(
            payee_key(participant_of_payment(read.payment_id)), _attempt_sort_key(read.attempt_id)
        ),
        actions=actions,
        condition=(_AttemptRecord.version == read.version) & (_AttemptRecord.state == read.state.value),
        label=ATTEMPT,
    )


def add_history(
    unit: UnitOfWork,
    payment: Payment,
    status_to: PaymentStatus,
    at: datetime,
    actor: str,
    details: dict[str, object],
) -> None:
    """The audit record of a money movement, written with it."""
    unit.put(
        _HistoryRecord(
            payee_key(payment.participant_id),
            f"HISTORY#{at.isoformat()}#{uuid.uuid4().hex[:8]}",
            payment_id=payment.payment_id,
            at=at,
            actor=actor,
            status_from=payment.status.value,
            status_to=status_to.value,
            details={name: value for name, value in details.items() if value is not None},
        )
    )


def payment(payment_id: str) -> tuple[Payment | None, dict[str, Attempt]]:
    """The payment with its attempts by id, in one consistent query of its key range: every
    caller acts on them under a condition on what it read."""
    found: Payment | None = None
    attempts: dict[str, Attempt] = {}
    key = _payment_sort_key(payment_id)
    for record in PaymentItem.query(
        payee_key(participant_of_payment(payment_id)), PaymentItem.sk.startswith(key), consistent_read=True
    ):
        if isinstance(record, _PaymentRecord) and record.sk == key:
            found = _payment(record)
        elif isinstance(record, _AttemptRecord) and record.payment_id == payment_id:
            attempts[record.attempt_id] = _attempt(record)
    return found, attempts


def payments_of(participant_id: str) -> list[Payment]:
    """Every payment owed to the participant (at most 4 incentives and 3 survey rewards), read with
    their attempts in one query of their partition's payment range."""
    return [
        _payment(record)
        for record in PaymentItem.query(payee_key(participant_id), PaymentItem.sk.startswith("PAYMENT#"))
        if isinstance(record, _PaymentRecord)
    ]


def history(participant_id: str) -> list[dict[str, object]]:
    return [
        {
            "payment_id": record.payment_id,
            "at": record.at.isoformat(),
            "actor": record.actor,
            "status_from": record.status_from,
            "status_to": record.status_to,
            "details": dict(record.details),
        }
        for record in _HistoryRecord.query(
            payee_key(participant_id), _HistoryRecord.sk.startswith("HISTORY#")
        )
    ]


def due(shard: int, until: date, start_key: str | None, limit: int) -> tuple[list[Payment], str | None]:
    """A page of the shard's payments due on or before `until`; those due later are never read."""
    results = _PaymentRecord.gsi1.query(
        f"DUE#{shard:02d}",
        _PaymentRecord.gsi1sk < f"{until.isoformat()}~",
        limit=limit,
        last_evaluated_key=json.loads(start_key) if start_key else None,
    )
    found = [_payment(record) for record in results]
    last = results.last_evaluated_key
    return found, json.dumps(last) if last else None


def paid_unreconciled(partner_id: str, day: date, shard: int) -> list[Payment]:
    """The shard's payments paid through `partner_id` on `day` and not yet reconciled."""
    return [_payment(record) for record in _PaymentRecord.gsi1.query(paid_partition(partner_id, day, shard))]


def in_flight(shard: int, until: datetime, limit: int) -> list[Payment]:
    """The shard's payments in flight whose time to be looked at again is `until` or earlier."""
    results = _PaymentRecord.gsi1.query(
        f"INFLIGHT#{shard:02d}", _PaymentRecord.gsi1sk <= f"{until.astimezone(UTC).isoformat()}~", limit=limit
    )
    return [_payment(record) for record in results]
