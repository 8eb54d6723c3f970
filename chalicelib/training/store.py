"""The training domain's only door to DynamoDB: courses, purchases, and the balance they move.

The balance lives on the participant's profile (registration's item); every change to it is one
transaction with the record that explains it (a purchase, a revocation, an expiry), its audit
event and the province's figures, so no money moves without its trace and none moves twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.update import Action
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.core import counters as stats
from chalicelib.core.storage import CatalogueItem, JobItem, ParticipantItem, condition_failed, transaction
from chalicelib.registration import store as registration
from chalicelib.registration.model import Event, Participant, Status
from chalicelib.training.model import Course, Purchase, PurchaseStatus, SweepCheckpoint

CATALOGUE = "CATALOGUE"


class _CourseRecord(CatalogueItem):
    course_id = UnicodeAttribute()
    platform_id = UnicodeAttribute()
    title = UnicodeAttribute()
    institution = UnicodeAttribute()
    category = UnicodeAttribute()
    price = NumberAttribute()
    hours = NumberAttribute()
    active = BooleanAttribute()
    updated_at = UTCDateTimeAttribute()
    rating_sum = NumberAttribute(null=True)
    rating_count = NumberAttribute(null=True)


class _VersionRecord(CatalogueItem):
    version = NumberAttribute(null=True)


def _course_key(course_id: str) -> str:
    return f"COURSE#{course_id}"


def _course(record: _CourseRecord) -> Course:
    return Course(
        course_id=record.course_id,
        platform_id=record.platform_id,
        title=record.title,
        institution=record.institution,
        category=record.category,
        price=int(record.price),
        hours=int(record.hours),
        active=bool(record.active),
        updated_at=record.updated_at,
        rating_sum=int(record.rating_sum or 0),
        rating_count=int(record.rating_count or 0),
    )


def _bump_version() -> tuple[_VersionRecord, list[Action]]:
    """Every change a reader of the catalogue could see moves its version, so snapshots refresh."""
    return _VersionRecord(CATALOGUE, "VERSION"), [_VersionRecord.version.add(1)]


class CourseOfAnotherPlatform(Exception):
    pass


def save_course(course: Course) -> bool:
    """Publish or update the platform's course; True if it is new. Ratings are kept as they are."""
    record = _CourseRecord(_course_key(course.course_id), "COURSE")
    version, bump = _bump_version()
    existed = course_by_id(course.course_id) is not None
    try:
        with transaction() as writes:
            writes.update(
                record,
                actions=[
                    _CourseRecord.course_id.set(course.course_id),
                    _CourseRecord.platform_id.set(course.platform_id),
                    _CourseRecord.title.set(course.title),
                    _CourseRecord.institution.set(course.institution),
                    _CourseRecord.category.set(course.category),
                    _CourseRecord.price.set(course.price),
                    _CourseRecord.hours.set(course.hours),
                    _CourseRecord.active.set(course.active),
                    _CourseRecord.updated_at.set(course.updated_at),
                    _CourseRecord.gsi1pk.set(f"PLATFORM#{course.platform_id}"),
                    _CourseRecord.gsi1sk.set(course.course_id),
                    _CourseRecord.gsi2pk.set(CATALOGUE),
                    _CourseRecord.gsi2sk.set(course.course_id),
                ],
                condition=_CourseRecord.pk.does_not_exist()
                | (_CourseRecord.platform_id == course.platform_id),
            )
            writes.update(version, actions=bump)
    except TransactWriteError as error:
        if condition_failed(error):
            raise CourseOfAnotherPlatform(course.course_id) from error
        raise
    return not existed


def course_by_id(course_id: str) -> Course | None:
    try:
        return _course(_CourseRecord.get(_course_key(course_id), "COURSE"))
    except _CourseRecord.DoesNotExist:
        return None


def catalogue_version() -> int:
    try:
        return int(_VersionRecord.get(CATALOGUE, "VERSION").version or 0)
    except _VersionRecord.DoesNotExist:
        return 0


def all_courses() -> Iterator[Course]:
    """Every course, in id order, through the catalogue index (one partition: a few thousand)."""
    for record in _CourseRecord.gsi2.query(CATALOGUE):
        yield _course(record)


# --- purchases ----------------------------------------------------------------------------------


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


class _BalanceRecord(ParticipantItem):
    """The part of registration's profile that the balance's movements touch."""

    status = UnicodeAttribute()
    balance = NumberAttribute(null=True)
    purchase_deadline = UTCDateTimeAttribute(null=True)
    balance_expires_at = UTCDateTimeAttribute(null=True)
    revocation_reason = UnicodeAttribute(null=True)
    version = NumberAttribute()


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


def _profile(participant_id: str) -> _BalanceRecord:
    return _BalanceRecord(registration.participant_key(participant_id), registration.PROFILE)


# Who may spend: a first purchase moves SELECTED on to TRAINING; later ones leave the stage alone.
SPENDING = (Status.SELECTED, Status.TRAINING, Status.INCENTIVE, Status.FINISHED)


class PurchaseRefused(Exception):
    """The balance, the participant's stage or an earlier purchase of the course stood in the way."""


def add_purchase(participant: Participant, purchase: Purchase, event: Event) -> None:
    """Debit the balance and record the purchase, all or nothing.

    The debit's condition (`balance >= price`, a spending stage) is checked by DynamoDB inside the
    transaction, so concurrent purchases can never take the balance below zero, whatever they read;
    so is the course's, on sale at the purchase's price, whatever its platform changes meanwhile.
    """
    first = participant.status is Status.SELECTED
    actions: list[Action] = [_BalanceRecord.balance.add(-purchase.price), _BalanceRecord.version.add(1)]
    if first:
        assert participant.balance_expires_at is not None
        actions += [
            _BalanceRecord.status.set(Status.TRAINING.value),
            _BalanceRecord.gsi1pk.set(
                registration.due_key("EXPIRY", participant.balance_expires_at, participant.participant_id)
            ),
            _BalanceRecord.gsi1sk.set(participant.participant_id),
        ]
    if first:
        # Only while still SELECTED, so that the move to TRAINING (and its audit event) happens once:
        # a concurrent first purchase is refused and retried as a later one; and only before the
        # deadline, even if the sweep has not revoked them yet.
        condition = (_BalanceRecord.status == Status.SELECTED.value) & (
            _BalanceRecord.purchase_deadline >= purchase.purchased_at
        )
    else:
        # Only within the balance's usage period, even if the sweep has not expired it yet.
        condition = _BalanceRecord.status.is_in(*(stage.value for stage in SPENDING[1:])) & (
            _BalanceRecord.balance_expires_at >= purchase.purchased_at
        )
    condition &= _BalanceRecord.balance >= purchase.price
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
    try:
        with transaction() as writes:
            writes.update(
                _profile(participant.participant_id),
                actions=actions,
                condition=condition,
            )
            writes.save(record, condition=_PurchaseRecord.pk.does_not_exist())
            writes.save(ownership, condition=_OwnershipRecord.pk.does_not_exist())
            # The course as the participant saw it: on sale, at the price they were shown.
            writes.condition_check(
                _CourseRecord,
                _course_key(purchase.course_id),
                "COURSE",
                condition=(_CourseRecord.price == purchase.price) & (_CourseRecord.active == True),  # noqa: E712
            )
            writes.save(registration.event_item(participant.participant_id, event))
            stats.add_in(
                writes,
                stats.province_scope(participant.province_code),
                purchase.purchase_id,
                {"training_purchased": 1, "training_spent": purchase.price},
            )
    except TransactWriteError as error:
        if condition_failed(error):
            raise PurchaseRefused(purchase.purchase_id) from error
        raise


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


class Superseded(Exception):
    """The purchase or the participant moved on since they were read."""


def record_completion(
    found: Purchase, participant: Participant, completed_at: datetime, certificate_no: str, event: Event
) -> None:
    """Complete the purchase; the participant's first completion also starts the incentive stage.

    That start is announced in the outbox (`TRAINING#FIRST_COMPLETION`): the incentive schedule
    is built by the stage that owns it, not here.
    """
    first = participant.status is Status.TRAINING
    try:
        with transaction() as writes:
            writes.update(
                _PurchaseRecord(_purchase_key(found.purchase_id), "PURCHASE"),
                actions=[
                    _PurchaseRecord.status.set(PurchaseStatus.COMPLETED.value),
                    _PurchaseRecord.completed_at.set(completed_at),
                    _PurchaseRecord.certificate_no.set(certificate_no),
                ],
                condition=_PurchaseRecord.status == PurchaseStatus.PURCHASED.value,
            )
            if first:
                writes.update(
                    _profile(participant.participant_id),
                    actions=[
                        _BalanceRecord.status.set(Status.INCENTIVE.value),
                        _BalanceRecord.version.add(1),
                    ],
                    condition=_BalanceRecord.status == Status.TRAINING.value,
                )
                writes.save(
                    registration.notification_item(
                        participant.participant_id,
                        "INCENTIVE_STAGE",
                        "TRAINING#FIRST_COMPLETION",
                        {"purchase_id": found.purchase_id, "course_id": found.course_id},
                        event.at,
                    )
                )
            writes.save(registration.event_item(participant.participant_id, event))
            stats.add_in(
                writes,
                stats.province_scope(participant.province_code),
                found.purchase_id,
                {"training_completed": 1},
            )
    except TransactWriteError as error:
        if condition_failed(error):
            raise Superseded(found.purchase_id) from error
        raise


def record_rating(
    found: Purchase, participant: Participant, stars: int, review: str | None, at: datetime
) -> None:
    """The purchase's one rating, and the course's running sum and count (no rereading of ratings)."""
    first = not any(earlier.stars is not None for earlier in purchases_of(participant.participant_id))
    version, bump = _bump_version()
    try:
        with transaction() as writes:
            writes.update(
                _PurchaseRecord(_purchase_key(found.purchase_id), "PURCHASE"),
                actions=[
                    _PurchaseRecord.stars.set(stars),
                    _PurchaseRecord.review.set(review) if review else _PurchaseRecord.review.remove(),
                    _PurchaseRecord.rated_at.set(at),
                ],
                condition=(_PurchaseRecord.status == PurchaseStatus.COMPLETED.value)
                & _PurchaseRecord.stars.does_not_exist(),
            )
            writes.update(
                _CourseRecord(_course_key(found.course_id), "COURSE"),
                actions=[_CourseRecord.rating_sum.add(stars), _CourseRecord.rating_count.add(1)],
                condition=_CourseRecord.pk.exists(),
            )
            writes.update(version, actions=bump)
            if first:
                writes.save(
                    registration.notification_item(
                        participant.participant_id,
                        "TRAINING_RATED",
                        "TRAINING#FIRST_RATING",
                        {"purchase_id": found.purchase_id, "course_id": found.course_id},
                        at,
                    )
                )
    except TransactWriteError as error:
        if condition_failed(error):
            raise Superseded(found.purchase_id) from error
        raise


# --- giving the balance back: revocation and expiry ---------------------------------------------


def _counted(writes: TransactWrite, participant: Participant, figures: dict[str, int]) -> None:
    stats.add_in(writes, stats.province_scope(participant.province_code), participant.participant_id, figures)
    if participant.selected_wave:
        stats.add_in(
            writes,
            stats.wave_scope(participant.selected_wave, participant.province_code),
            participant.participant_id,
            figures,
        )


def revoke(participant: Participant, reason: str, event: Event) -> None:
    """Revoke as read: what is left of the balance returns to the programme (per province and
    wave), a place never used for training is freed for a later wave, and the person goes on
    the `REVOKED` exclusion list. Raises `Superseded` if the participant changed since."""
    returned = participant.balance or 0
    figures = {"revoked": 1, "returned_balance": returned}
    if participant.status is Status.SELECTED:
        figures["freed_places"] = 1
    actions: list[Action] = [
        _BalanceRecord.status.set(Status.REVOKED.value),
        _BalanceRecord.revocation_reason.set(reason),
        _BalanceRecord.gsi1pk.remove(),
        _BalanceRecord.gsi1sk.remove(),
        _BalanceRecord.version.add(1),
    ]
    if participant.balance is not None:
        actions.append(_BalanceRecord.balance.set(0))
    items: list[Model] = [
        registration.event_item(participant.participant_id, event),
        registration.revoked_item(participant.nik),
        registration.notification_item(
            participant.participant_id, "REVOKED", "REVOKED", {"reason": reason}, event.at
        ),
    ]
    _give_back(participant, actions, items, figures)


def expire_balance(participant: Participant, event: Event) -> None:
    """The usage period is over: what is left of the balance returns to the programme."""
    actions: list[Action] = [
        _BalanceRecord.balance.set(0),
        _BalanceRecord.gsi1pk.remove(),
        _BalanceRecord.gsi1sk.remove(),
        _BalanceRecord.version.add(1),
    ]
    figures = {"expired_balance": participant.balance or 0}
    _give_back(participant, actions, [registration.event_item(participant.participant_id, event)], figures)


def awaits_expiry(participant_id: str) -> bool:
    """Whether the participant still waits in the due index to have their balance expired."""
    record = _BalanceRecord.get(
        registration.participant_key(participant_id), registration.PROFILE, consistent_read=True
    )
    return str(record.gsi1pk or "").startswith("EXPIRY#")


def _give_back(
    participant: Participant, actions: list[Action], items: list[Model], figures: dict[str, int]
) -> None:
    try:
        with transaction() as writes:
            writes.update(
                _profile(participant.participant_id),
                actions=actions,
                condition=_BalanceRecord.version == participant.version,
            )
            for item in items:
                writes.save(item)
            _counted(writes, participant, figures)
    except TransactWriteError as error:
        if condition_failed(error):
            raise Superseded(participant.participant_id) from error
        raise


# --- the sweeps' checkpoints --------------------------------------------------------------------


class _SweepRecord(JobItem):
    swept = JSONAttribute(default=list)
    day = UnicodeAttribute(null=True)
    shard = NumberAttribute()
    start_key = UnicodeAttribute(null=True)


def sweep_checkpoint(kind: str, wave_id: str) -> SweepCheckpoint:
    """Where the `kind` sweep stands on the wave's days, read consistently: each hourly run resumes
    where the last one saved, and a stale copy would sweep its pages again."""
    try:
        record = _SweepRecord.get(f"SWEEP#{kind}", wave_id, consistent_read=True)
    except _SweepRecord.DoesNotExist:
        return SweepCheckpoint(kind, wave_id)
    return SweepCheckpoint(
        kind=kind,
        wave_id=wave_id,
        swept=frozenset(date.fromisoformat(day) for day in record.swept),
        day=date.fromisoformat(record.day) if record.day else None,
        shard=int(record.shard),
        start_key=record.start_key,
    )


def save_sweep_checkpoint(checkpoint: SweepCheckpoint) -> None:
    _SweepRecord(
        f"SWEEP#{checkpoint.kind}",
        checkpoint.wave_id,
        swept=sorted(day.isoformat() for day in checkpoint.swept),
        day=checkpoint.day.isoformat() if checkpoint.day else None,
        shard=checkpoint.shard,
        start_key=checkpoint.start_key,
    ).save()
