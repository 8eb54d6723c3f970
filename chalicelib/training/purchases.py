"""Buying a course against the training balance: one unit of work of two domains.

The purchase is training's (the purchase, its course's ownership guard, the course's price as
shown, the figures); the debit and the audit event are registration's, added through
`registration.service`; the whole commits as one DynamoDB transaction, or nothing happens.
"""

from __future__ import annotations

import secrets
import uuid

from chalicelib.core import clock
from chalicelib.core.observability import count, logger
from chalicelib.core.retry import retried
from chalicelib.core.storage import Refused, UnitOfWork, derived_id
from chalicelib.registration import service as registration
from chalicelib.registration.model import SPENDING, Event, Participant, Status
from chalicelib.training import figures
from chalicelib.training.courses import find_course
from chalicelib.training.errors import (
    AlreadyPurchased,
    BalanceExpired,
    CourseInactive,
    InsufficientBalance,
    NotSelected,
    PriceChanged,
    PurchaseDeadlinePassed,
    Revoked,
)
from chalicelib.training.model import Course, Purchase
from chalicelib.training.stores import courses
from chalicelib.training.stores import purchases as store


class _Moved(Exception):
    """The participant or the course changed between reading and writing: read again."""


def _refuse_course(course: Course, shown_price: int) -> None:
    if not course.active:
        raise CourseInactive()
    if course.price != shown_price:
        raise PriceChanged()


def _refuse_purchase(participant: Participant, course: Course) -> None:
    if participant.status is Status.REVOKED:
        raise Revoked()
    if participant.status not in SPENDING:
        raise NotSelected()
    # Until the hourly sweep revokes them, people past their deadline are still SELECTED.
    deadline = participant.purchase_deadline
    if participant.status is Status.SELECTED and deadline is not None and clock.now() > deadline:
        raise PurchaseDeadlinePassed()
    if participant.balance_expires_at is not None and clock.now() > participant.balance_expires_at:
        raise BalanceExpired()
    if (participant.balance or 0) < course.price:
        raise InsufficientBalance()


def _purchase_id(participant_id: str, course_id: str, request_key: str | None) -> str:
    """A new purchase's id: derived from the request's Idempotency-Key where there is one, so that
    the request sent again finds the purchase it made."""
    if request_key is None:
        return uuid.uuid4().hex
    return derived_id("PURCHASE", f"{participant_id}:{course_id}:{request_key}")


def buy(
    account: str, course_id: str, shown_price: int, request_key: str | None = None
) -> tuple[Purchase, int]:
    """Buy the course at the price the participant was shown; returns the purchase and the balance
    left. The price is checked again inside the purchase's transaction: a platform that changes
    it meanwhile never makes anyone pay what they did not see.

    A request sent again with its `request_key` after its purchase was written returns that
    purchase: its first answer may have been lost after the write (a failed read, a timeout),
    and the client was told to try again.
    """

    def attempt() -> tuple[Purchase, int]:
        participant = registration.own_record(account)
        purchase_id = _purchase_id(participant.participant_id, course_id, request_key)
        made = store.purchase(purchase_id, consistent=True) if request_key is not None else None
        if made is not None:
            return made, participant.balance or 0
        course = find_course(course_id)
        _refuse_course(course, shown_price)
        _refuse_purchase(participant, course)
        purchase = _bought(participant, course, purchase_id, account)
        logger.info("course purchased", extra={"purchase_id": purchase.purchase_id, "price": course.price})
        count("CoursesPurchased")
        count("TrainingSpent", course.price)
        return purchase, registration.own_record(account).balance or 0

    return retried(attempt, _Moved)


def _bought(participant: Participant, course: Course, purchase_id: str, account: str) -> Purchase:
    now = clock.now()
    purchase = Purchase(
        purchase_id=purchase_id,
        participant_id=participant.participant_id,
        course_id=course.course_id,
        platform_id=course.platform_id,
        price=course.price,
        redemption_code=f"PRK-{secrets.token_hex(4).upper()}",
        purchased_at=now,
    )
    to = Status.TRAINING if participant.status is Status.SELECTED else participant.status
    event = Event(
        at=now,
        actor=account,
        action="COURSE_PURCHASED",
        status_from=participant.status.value,
        status_to=to.value,
        details={"purchase_id": purchase.purchase_id, "course_id": course.course_id, "price": course.price},
    )
    try:
        record_purchase(participant, purchase, event)
    except PurchaseRefused:
        if store.purchase_of(participant.participant_id, course.course_id) is not None:
            raise AlreadyPurchased() from None
        raise _Moved() from None
    return purchase


class PurchaseRefused(Exception):
    """The balance, the participant's stage, the course's price or an earlier purchase of the
    course stood in the way: nothing was written."""


def record_purchase(participant: Participant, purchase: Purchase, event: Event) -> None:
    """The purchase as one transaction of both domains: the debit (registration's conditions: never
    below zero, within the deadline or the usage period), the purchase and its ownership guard, the
    course still on sale at the purchase's price, the audit event and the province's figures."""
    unit = UnitOfWork()
    registration.debit_balance(unit, participant, purchase.price, purchase.purchased_at)
    store.add(unit, purchase)
    courses.as_shown(unit, purchase.course_id, purchase.price)
    registration.record_event(unit, participant.participant_id, event)
    figures.count(
        unit,
        participant.province_code,
        purchase.purchase_id,
        training_purchased=1,
        training_spent=purchase.price,
    )
    try:
        unit.commit()
    except Refused as refused:
        raise PurchaseRefused(purchase.purchase_id) from refused


def purchases_of(participant_id: str) -> list[Purchase]:
    return store.purchases_of(participant_id)
