"""Purchases: each one, the one-per-course guard, a participant's list, completions and ratings."""

from __future__ import annotations

from datetime import datetime

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute

from chalicelib.core.storage import UnitOfWork
from chalicelib.training.model import Purchase, PurchaseStatus
from chalicelib.training.stores.tables import CatalogueItem

# The labels of the conditions of a purchase's own items, when a unit of work is refused.
NEW = "purchase"
OWNED = "ownership"
UNCHANGED = "purchase-state"


class _PurchaseRecord(CatalogueItem):
    purchase_id = UnicodeAttribute()
    participant_id = UnicodeAttribute()
    course_id = UnicodeAttribute()
    platform_id = UnicodeAttribute()
    price = NumberAttribute()
    redemption_code = UnicodeAttribute()
    purchased_at = UTCDateTimeAttribute()
    status = UnicodeAttribute()
    completed_at = UTCDateTimeAttribute(null=True)
    certificate_no = UnicodeAttribute(null=True)
    stars = NumberAttribute(null=True)
    review = UnicodeAttribute(null=True)
    rated_at = UTCDateTimeAttribute(null=True)


class _OwnershipRecord(CatalogueItem):
    """One per participant and course: a course is bought once."""

    purchase_id = UnicodeAttribute()


def _purchase_key(purchase_id: str) -> str:
    return f"PURCHASE#{purchase_id}"


def _ownership_key(participant_id: str, course_id: str) -> str:
    return f"OWNS#{participant_id}#{course_id}"


def _purchase(record: _PurchaseRecord) -> Purchase:
    return Purchase(
        purchase_id=record.purchase_id,
        participant_id=record.participant_id,
        course_id=record.course_id,
        platform_id=record.platform_id,
        price=int(record.price),
        redemption_code=record.redemption_code,
        purchased_at=record.purchased_at,
        status=PurchaseStatus(record.status),
        completed_at=record.completed_at,
        certificate_no=record.certificate_no,
        stars=None if record.stars is None else int(record.stars),
        review=record.review,
        rated_at=record.rated_at,
    )


def add(unit: UnitOfWork, purchase: Purchase) -> None:
    """The purchase and its course's ownership guard, each written only once."""
    record = _PurchaseRecord(
        _purchase_key(purchase.purchase_id),
        "PURCHASE",
        purchase_id=purchase.purchase_id,
        participant_id=purchase.participant_id,
        course_id=purchase.course_id,
        platform_id=purchase.platform_id,
        price=purchase.price,
        redemption_code=purchase.redemption_code,
        purchased_at=purchase.purchased_at,
        status=purchase.status.value,
    )
    record.gsi1pk = f"BUYER#{purchase.participant_id}"
    record.gsi1sk = f"{purchase.purchased_at.isoformat()}#{purchase.purchase_id}"
    ownership = _OwnershipRecord(
        _ownership_key(purchase.participant_id, purchase.course_id), "OWNS", purchase_id=purchase.purchase_id
    )
    unit.put(record, condition=_PurchaseRecord.pk.does_not_exist(), label=NEW)
    unit.put(ownership, condition=_OwnershipRecord.pk.does_not_exist(), label=OWNED)


def complete(unit: UnitOfWork, purchase: Purchase, completed_at: datetime, certificate_no: str) -> None:
    """The purchase completed, if it was not yet (label `UNCHANGED` if it was)."""
    unit.update(
        _PurchaseRecord(_purchase_key(purchase.purchase_id), "PURCHASE"),
        actions=[
            _PurchaseRecord.status.set(PurchaseStatus.COMPLETED.value),
            _PurchaseRecord.completed_at.set(completed_at),
            _PurchaseRecord.certificate_no.set(certificate_no),
        ],
        condition=_PurchaseRecord.status == PurchaseStatus.PURCHASED.value,
        label=UNCHANGED,
    )


def rate(unit: UnitOfWork, purchase: Purchase, stars: int, review: str | None, at: datetime) -> None:
    """The purchase's one rating, of a completed course (label `UNCHANGED` if rated already)."""
    unit.update(
        _PurchaseRecord(_purchase_key(purchase.purchase_id), "PURCHASE"),
        actions=[
            _PurchaseRecord.stars.set(stars),
            _PurchaseRecord.review.set(review) if review else _PurchaseRecord.review.remove(),
            _PurchaseRecord.rated_at.set(at),
        ],
        condition=(_PurchaseRecord.status == PurchaseStatus.COMPLETED.value)
        & _PurchaseRecord.stars.does_not_exist(),
        label=UNCHANGED,
    )


def purchase(purchase_id: str, consistent: bool = False) -> Purchase | None:
    try:
        return _purchase(
            _PurchaseRecord.get(_purchase_key(purchase_id), "PURCHASE", consistent_read=consistent)
        )
    except _PurchaseRecord.DoesNotExist:
        return None


def purchase_of(participant_id: str, course_id: str) -> Purchase | None:
    """The participant's purchase of the course, if they bought it."""
    try:
        owned = _OwnershipRecord.get(_ownership_key(participant_id, course_id), "OWNS")
    except _OwnershipRecord.DoesNotExist:
        return None
    return purchase(owned.purchase_id)


def purchases_of(participant_id: str) -> list[Purchase]:
    """The participant's purchases, oldest first."""
    return [_purchase(record) for record in _PurchaseRecord.gsi1.query(f"BUYER#{participant_id}")]
