"""Training use cases: the catalogue, purchases against the balance, completions, ratings, and
giving unused balance back (revocation, expiry). No HTTP, no DynamoDB details."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

from chalicelib.core import clock
from chalicelib.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from chalicelib.core.observability import logger
from chalicelib.core.settings import programme
from chalicelib.core.storage import derived_id
from chalicelib.registration import service as registration
from chalicelib.registration import store as registration_store
from chalicelib.registration.model import Event, Participant, Status
from chalicelib.training import store
from chalicelib.training.model import Course, Purchase, PurchaseStatus
from chalicelib.training.schemas import CompletionRequest, CourseRequest, RatingRequest

_ATTEMPTS = 3


def _concurrent_update() -> Conflict:
    return Conflict("Data Anda sedang berubah; coba lagi.", code="CONCURRENT_UPDATE")


# --- catalogue ----------------------------------------------------------------------------------


class CourseNotFound(NotFound):
    code = "COURSE_NOT_FOUND"
    message = "Pelatihan tidak ditemukan."


class CourseOfAnotherPlatform(Forbidden):
    code = "COURSE_OF_ANOTHER_PLATFORM"
    message = "Pelatihan ini milik platform lain."


def publish_course(platform_id: str, course_id: str, request: CourseRequest) -> tuple[Course, bool]:
    """Publish or update one of the platform's own courses; True if it is new."""
    if request.price > programme().training_balance:
        raise ValidationFailed(fields={"price": "melebihi saldo pelatihan"})
    course = Course(
        course_id=course_id,
        platform_id=platform_id,
        title=request.title,
        institution=request.institution,
        category=request.category.upper(),
        price=request.price,
        hours=request.hours,
        active=request.active,
        updated_at=clock.now(),
    )
    try:
        created = store.save_course(course)
    except store.CourseOfAnotherPlatform as error:
        raise CourseOfAnotherPlatform() from error
    logger.info("course published", extra={"course_id": course_id, "platform_id": platform_id})
    return find_course(course_id), created


def find_course(course_id: str) -> Course:
    found = store.course_by_id(course_id)
    if found is None:
        raise CourseNotFound()
    return found


# --- purchases ----------------------------------------------------------------------------------


class CourseInactive(Conflict):
    code = "COURSE_INACTIVE"
    message = "Pelatihan ini sedang tidak dijual."


class NotSelected(Conflict):
    code = "NOT_SELECTED"
    message = "Hanya penerima Kartu Prakerja yang dapat membeli pelatihan."


class Revoked(Conflict):
    code = "REVOKED"
    message = "Kepesertaan Anda telah dicabut."


class InsufficientBalance(Conflict):
    code = "INSUFFICIENT_BALANCE"
    message = "Saldo pelatihan Anda tidak cukup."


class BalanceExpired(Conflict):
    code = "BALANCE_EXPIRED"
    message = "Masa penggunaan saldo pelatihan Anda telah berakhir."


class PurchaseDeadlinePassed(Conflict):
    code = "PURCHASE_DEADLINE_PASSED"
    message = "Batas waktu pembelian pelatihan pertama Anda telah lewat."


class PriceChanged(Conflict):
    code = "PRICE_CHANGED"
    message = "Harga pelatihan ini sudah berubah; periksa harga barunya sebelum membeli."


class AlreadyPurchased(Conflict):
    code = "ALREADY_PURCHASED"
    message = "Anda sudah membeli pelatihan ini."


def _refuse_purchase(participant: Participant, course: Course) -> None:
    if participant.status is Status.REVOKED:
        raise Revoked()
    if participant.status not in store.SPENDING:
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


def _refuse_course(course: Course, shown_price: int) -> None:
    if not course.active:
        raise CourseInactive()
    if course.price != shown_price:
        raise PriceChanged()


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
    for _ in range(_ATTEMPTS):
        participant = registration.own_record(account)
        purchase_id = _purchase_id(participant.participant_id, course_id, request_key)
        made = store.purchase(purchase_id, consistent=True) if request_key is not None else None
        if made is not None:
            return made, participant.balance or 0
        course = find_course(course_id)
        _refuse_course(course, shown_price)
        _refuse_purchase(participant, course)
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
            details={"purchase_id": purchase.purchase_id, "course_id": course_id, "price": course.price},
        )
        try:
            store.add_purchase(participant, purchase, event)
        except store.PurchaseRefused:
            if store.purchase_of(participant.participant_id, course_id) is not None:
                raise AlreadyPurchased() from None
            continue
        logger.info("course purchased", extra={"purchase_id": purchase.purchase_id, "price": course.price})
        return purchase, registration.own_record(account).balance or 0
    raise _concurrent_update()


def purchases_of(participant_id: str) -> list[Purchase]:
    return store.purchases_of(participant_id)


# --- completions and ratings --------------------------------------------------------------------


class PurchaseNotFound(NotFound):
    code = "PURCHASE_NOT_FOUND"
    message = "Pembelian tidak ditemukan."


class PurchaseOfAnotherPlatform(Forbidden):
    code = "PURCHASE_OF_ANOTHER_PLATFORM"
    message = "Pembelian ini bukan milik platform Anda."


class CompletedBeforePurchase(ValidationFailed):
    code = "COMPLETED_BEFORE_PURCHASE"
    message = "Waktu selesai tidak boleh sebelum waktu pembelian."


class CompletedInFuture(ValidationFailed):
    code = "COMPLETED_IN_FUTURE"
    message = "Waktu selesai tidak boleh di masa depan."


class AlreadyCompleted(Conflict):
    code = "ALREADY_COMPLETED"
    message = "Pembelian ini sudah dilaporkan selesai dengan data lain."


# Platforms' clocks drift; a completion a few minutes "ahead" of ours is still believable.
CLOCK_SKEW = timedelta(minutes=5)


def _same_completion(found: Purchase, request: CompletionRequest) -> bool:
    return found.certificate_no == request.certificate_no and found.completed_at == request.completed_at


def complete(platform_id: str, request: CompletionRequest) -> Purchase:
    """Record the platform's completion of a purchase; reporting the same completion again is a no-op."""
    for _ in range(_ATTEMPTS):
        found = store.purchase(request.purchase_id)
        if found is None:
            raise PurchaseNotFound()
        if found.platform_id != platform_id:
            raise PurchaseOfAnotherPlatform()
        if found.status is PurchaseStatus.COMPLETED:
            if _same_completion(found, request):
                return found
            raise AlreadyCompleted()
        if request.completed_at < found.purchased_at:
            raise CompletedBeforePurchase()
        if request.completed_at > clock.now() + CLOCK_SKEW:
            raise CompletedInFuture()
        participant = registration.participant(found.participant_id)
        first = participant.status is Status.TRAINING
        event = Event(
            at=clock.now(),
            actor=f"platform:{platform_id}",
            action="COURSE_COMPLETED",
            status_from=participant.status.value,
            status_to=(Status.INCENTIVE if first else participant.status).value,
            details={"purchase_id": found.purchase_id, "course_id": found.course_id},
        )
        try:
            store.record_completion(found, participant, request.completed_at, request.certificate_no, event)
        except store.Superseded:
            continue
        logger.info("course completed", extra={"purchase_id": found.purchase_id, "first": first})
        return store.purchase(found.purchase_id) or found
    raise _concurrent_update()


class NotCompleted(Conflict):
    code = "NOT_COMPLETED"
    message = "Anda hanya dapat menilai pelatihan yang sudah Anda selesaikan."


class AlreadyRated(Conflict):
    code = "ALREADY_RATED"
    message = "Anda sudah menilai pelatihan ini."


def rate(account: str, course_id: str, request: RatingRequest) -> Purchase:
    """The participant's one rating of a course they completed."""
    participant = registration.own_record(account)
    found = store.purchase_of(participant.participant_id, course_id)
    if found is None or found.status is not PurchaseStatus.COMPLETED:
        raise NotCompleted()
    if found.stars is not None:
        raise AlreadyRated()
    try:
        store.record_rating(found, participant, request.stars, request.review or None, clock.now())
    except store.Superseded:
        raise AlreadyRated() from None
    return store.purchase(found.purchase_id) or found


def rated_completion(participant_id: str) -> bool:
    """Whether the participant has completed a course and rated it: the programme pays incentives
    only after that (DESIGN.md, "Post-training incentive")."""
    return any(
        purchase.status is PurchaseStatus.COMPLETED and purchase.stars is not None
        for purchase in store.purchases_of(participant_id)
    )


# --- revocation and expiry ----------------------------------------------------------------------


class AlreadyRevoked(Conflict):
    code = "ALREADY_REVOKED"
    message = "Kepesertaan ini sudah dicabut."


def revoke(
    participant_id: str, actor: str, reason: str, note: str | None = None, request_key: str | None = None
) -> Participant:
    """Revoke a participant (an admin's decision, or the sweep's) for `reason`, a code; `note` is an
    admin's words, kept in the audit trail for admins: see `store.revoke`.

    A request sent again with its `request_key` (Idempotency-Key) after it revoked them gets the
    record, not ALREADY_REVOKED: its first answer may have been lost after the write.
    """
    for _ in range(_ATTEMPTS):
        participant = registration.participant(participant_id)
        if participant.status is Status.REVOKED:
            if request_key is not None and _revoked_as_asked(participant_id, actor, reason, note):
                return participant
            raise AlreadyRevoked()
        try:
            _revoke(participant, actor, reason, note)
        except store.Superseded:
            continue
        return registration.participant(participant_id)
    raise _concurrent_update()


def _revoked_as_asked(participant_id: str, actor: str, reason: str, note: str | None) -> bool:
    revocations = [event for event in registration_store.events(participant_id) if event.action == "REVOKED"]
    return bool(revocations) and (
        revocations[-1].actor,
        revocations[-1].reason,
        revocations[-1].details.get("note"),
    ) == (actor, reason, note)


def _revoke(participant: Participant, actor: str, reason: str, note: str | None = None) -> None:
    details: dict[str, str | int] = {"returned_balance": participant.balance or 0}
    if note:
        details["note"] = note
    event = Event(
        at=clock.now(),
        actor=actor,
        action="REVOKED",
        status_from=participant.status.value,
        status_to=Status.REVOKED.value,
        reason=reason,
        details=details,
    )
    store.revoke(participant, reason, event)
    # An admin's note is free text that may name the person: the audit trail keeps it, logs do not.
    logger.info(
        "revoked", extra={"participant_id": participant.participant_id, "actor": actor, "reason": reason}
    )


NO_PURCHASE = "NO_PURCHASE_BY_DEADLINE"


def _revoke_if_due(participant: Participant) -> bool:
    """The sweep's act on one participant of a past deadline day; read again if it moved meanwhile."""
    for _ in range(_ATTEMPTS):
        deadline = participant.purchase_deadline
        if participant.status is not Status.SELECTED or deadline is None or deadline >= clock.now():
            return False
        try:
            _revoke(participant, "revocation", NO_PURCHASE)
            return True
        except store.Superseded:
            participant = registration.participant(participant.participant_id)
    raise _concurrent_update()


def _expire_if_due(participant: Participant) -> bool:
    """The sweep's act on one participant of a past expiry day. A run that lost a race with another
    may hold them as they were before the other expired them: only those still waiting in the
    expiry index are expired, so no balance is expired twice."""
    for _ in range(_ATTEMPTS):
        expires = participant.balance_expires_at
        if expires is None or expires >= clock.now() or participant.status is Status.REVOKED:
            return False
        event = Event(
            at=clock.now(),
            actor="balance-expiry",
            action="BALANCE_EXPIRED",
            status_from=participant.status.value,
            status_to=participant.status.value,
            details={"returned_balance": participant.balance or 0},
        )
        try:
            store.expire_balance(participant, event)
            return True
        except store.Superseded:
            participant = registration.participant(participant.participant_id)
            if not store.awaits_expiry(participant.participant_id):
                return False
    raise _concurrent_update()


# A page's revocations (a transaction each) finish well inside the jobs' time margin.
PAGE = 200


def _sweep(kind: str, act: Callable[[Participant], bool], has_time: Callable[[], bool]) -> dict[str, Any]:
    """Walk the due index on the days that are over and can hold anyone, wave by wave, shard by
    shard, page by page.

    Each wave's selection recorded the days its people fall due on (`Wave.deadline_days`), and
    each wave keeps its own checkpoint: the days swept, and the shard and page of the day being
    swept. So no day that holds due people is skipped, whatever the clock did: a wave selected
    after the local clock was moved back has days of its own to sweep, however far the others
    have come. Only due participants are read: everyone else waits under a later day. The
    checkpoint is saved after every page, and acting on a participant takes them out of the index
    in the same transaction, so a run killed anywhere resumes without repeating anything, and an
    act that is repeated anyway is refused by its condition.
    """
    today = registration.programme_today()
    read = acted = 0
    for wave in registration.list_waves():
        wave_days = wave.deadline_days if kind == "DEADLINE" else wave.expiry_days
        checkpoint = store.sweep_checkpoint(kind, wave.wave_id)
        for day in sorted(day for day in wave_days if day < today and day not in checkpoint.swept):
            shard, start_key = (
                (checkpoint.shard, checkpoint.start_key) if checkpoint.day == day else (0, None)
            )
            while shard < registration_store.DEADLINE_SHARDS:
                if not has_time():
                    return {"job": kind, "read": read, "acted": acted, "more": True}
                page, start_key = registration_store.due_participants(
                    registration_store.due_partition(kind, day, shard), start_key, PAGE
                )
                read += len(page)
                acted += sum(act(participant) for participant in page)
                if start_key is None:
                    shard += 1
                checkpoint = replace(checkpoint, day=day, shard=shard, start_key=start_key)
                store.save_sweep_checkpoint(checkpoint)
            checkpoint = replace(
                checkpoint, swept=checkpoint.swept | {day}, day=None, shard=0, start_key=None
            )
            store.save_sweep_checkpoint(checkpoint)
    return {"job": kind, "read": read, "acted": acted}


def sweep_deadlines(has_time: Callable[[], bool]) -> dict[str, Any]:
    """Revoke everyone selected whose purchase deadline passed without a purchase."""
    return _sweep("DEADLINE", _revoke_if_due, has_time)


def expire_balances(has_time: Callable[[], bool]) -> dict[str, Any]:
    """Return what is left of balances whose usage period is over."""
    return _sweep("EXPIRY", _expire_if_due, has_time)
