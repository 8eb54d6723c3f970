"""Sending what the outbox holds, at most once per notification and channel (docs/NOTIFICATIONS.md).

Neither SES nor SNS takes an idempotency key, so a send cannot be made safe to repeat; it is made
never to be repeated instead, the way a payment's attempt is (docs/INCENTIVES.md):

1. A claim is written before the provider is called: a conditional put of the channel's delivery,
   under a fresh token, that only succeeds if nobody ever claimed it or its last claim was refused
   definitely in an earlier round. Two senders, or a sender run again, cannot both hold it.
2. The provider's answer moves the claim on: SENT with its message id; FAILED when refused (tried
   again in a later round, DEAD after the last one); UNCERTAIN when the request left and no answer
   came.
3. A claim found SENDING and older than any run can be (a Lambda lives at most 15 minutes) belonged
   to a sender killed between its claim and the answer. The message may have gone, so it is never
   resent: it becomes UNCERTAIN, a dead letter that an operator sees (`dead_letters`, the
   `NotificationsDeadLettered` metric and its alarm), never a silent loss.

A notification leaves the pending index once every channel is final; one with a channel to retry
waits in the index under the time of its next round, so a run reads only what is due.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib.core import clock, outbox
from chalicelib.core.observability import count, logger
from chalicelib.core.outbox import DeliveryState, Notification
from chalicelib.core.settings import settings
from chalicelib.registration import service as registration
from chalicelib.registration.model import Contact, Status
from chalicelib.surveys.notify import channels, templates
from chalicelib.surveys.notify.channels import Channel

PAGE = 50
# A run of the minute's schedule sends for at most this long, so two runs never overlap and each
# channel's pace holds for the whole account, not per run.
RUN_SECONDS = 50.0
# When a notification with a refused channel is tried again, by the rounds it has had.
BACKOFF_MINUTES = (1, 5, 15, 60)
# The state a channel is left in when another live sender holds its claim.
HELD = "HELD"


@dataclass(frozen=True)
class _Send:
    notification: Notification
    channel: Channel
    address: str
    message: templates.Message


def send_pending(has_time: Callable[[], bool], *, run_seconds: float = RUN_SECONDS) -> dict[str, Any]:
    """Send every notification due now, shard by shard, page by page, until time runs short."""
    started = time.monotonic()

    def still() -> bool:
        return has_time() and time.monotonic() - started < run_seconds

    now = clock.now()
    summary: Counter[str] = Counter()
    pacing = channels.pacers()
    more = False
    for shard in range(outbox.SHARDS):
        while True:
            if not still():
                more = True
                break
            page = outbox.pending_notifications(shard, now, PAGE)
            summary["read"] += len(page)
            if not page:
                break
            moved = _send_page(page, now, pacing, summary)
            if len(page) < PAGE or not moved:
                break
        if more:
            break
    for name in ("sent", "failed", "dead", "uncertain", "skipped"):
        count(f"Notifications{name.capitalize()}", summary[name])
    count("NotificationsDeadLettered", summary["dead"] + summary["uncertain"])
    return {**summary, "more": more}


def _send_page(
    page: list[Notification], now: datetime, pacing: dict[Channel, channels.Pacer], summary: Counter[str]
) -> int:
    """One page: the e-mails as one paced batch, then the SMS; then each notification finished or
    put back for its next round. How many left the page's place in the index."""
    people = registration.contacts([notification.participant_id for notification in page])
    batches: dict[Channel, list[_Send]] = {Channel.EMAIL: [], Channel.SMS: []}
    states: dict[tuple[str, str], dict[Channel, str]] = {}
    for notification in page:
        key = (notification.participant_id, notification.topic)
        sends, closed = _plan(notification, people.get(notification.participant_id), now)
        states[key] = dict(closed)
        for state in closed.values():
            summary[state.lower()] += 1
        for send in sends:
            batches[send.channel].append(send)
    for channel, batch in batches.items():
        for send in batch:
            state = _deliver(send, now, pacing[channel])
            states[(send.notification.participant_id, send.notification.topic)][channel] = state
            summary[state.lower()] += 1
    moved = 0
    for notification in page:
        found = states[(notification.participant_id, notification.topic)].values()
        if all(state in outbox.FINAL_DELIVERIES for state in found):
            outbox.done(notification)
            moved += 1
        elif DeliveryState.FAILED in found:
            wait = BACKOFF_MINUTES[min(notification.rounds, len(BACKOFF_MINUTES) - 1)]
            outbox.try_again_at(notification, now + timedelta(minutes=wait))
            moved += 1
    return moved


def _plan(
    notification: Notification, contact: Contact | None, now: datetime
) -> tuple[list[_Send], dict[Channel, str]]:
    """What to send for one notification, and the channels closed without a send (their final
    state, recorded on a claim of their own so that none is dropped without a trace)."""
    closed: dict[Channel, str] = {}
    if contact is None:
        closed[Channel.SMS] = _close(notification, Channel.SMS, now, DeliveryState.DEAD, "NO_CONTACT")
        return [], closed
    reach = {Channel.EMAIL: contact.email, Channel.SMS: contact.phone}
    if notification.kind == "BALANCE_REMINDER" and contact.status is not Status.SELECTED:
        # Bought a course (or was revoked) after the reminder was filed: it no longer applies.
        for channel, address in reach.items():
            if address:
                closed[channel] = _close(
                    notification, channel, now, DeliveryState.SKIPPED, contact.status.value
                )
        return [], closed
    try:
        message = templates.render(notification.kind, contact.full_name, notification.details)
    except templates.UnknownKind:
        logger.error("no template for notification", extra={"kind": notification.kind})
        closed[Channel.SMS] = _close(notification, Channel.SMS, now, DeliveryState.DEAD, "UNKNOWN_KIND")
        return [], closed
    sends = [_Send(notification, channel, address, message) for channel, address in reach.items() if address]
    return sends, closed


def _close(notification: Notification, channel: Channel, now: datetime, state: str, reason: str) -> str:
    token = uuid.uuid4().hex
    claimed = outbox.claim_delivery(notification, channel.value, notification.rounds + 1, token, now)
    found = outbox.delivery(notification.participant_id, channel.value, notification.topic)
    if found is None:
        return HELD
    if claimed and found.token == token:
        dead = state == DeliveryState.DEAD
        outbox.finish_delivery(found, state, now, reason=reason, dead_letter=dead)
        return state
    return found.state if found.state in outbox.FINAL_DELIVERIES else HELD


def _deliver(send: _Send, now: datetime, pacer: channels.Pacer) -> str:
    """One channel of one notification: claimed, sent, and its answer recorded."""
    notification, channel = send.notification, send.channel
    attempt = notification.rounds + 1
    token = uuid.uuid4().hex
    if not outbox.claim_delivery(notification, channel.value, attempt, token, now):
        return _claimed_before(notification, channel, now)
    claim = outbox.Delivery(
        notification.participant_id,
        notification.topic,
        notification.kind,
        channel.value,
        DeliveryState.SENDING,
        token,
        attempt,
        notification.details,
        now,
        None,
        None,
        None,
    )
    pacer.wait()
    try:
        message_id = channels.send(channel, send.address, send.message, token)
    except channels.Refused as refused:
        last = attempt >= settings().notify_attempts
        state = DeliveryState.DEAD if last else DeliveryState.FAILED
        outbox.finish_delivery(claim, state, clock.now(), reason=refused.reason, dead_letter=last)
        logger.warning(
            "notification refused",
            extra={"participant_id": notification.participant_id, "channel": channel.value,
                   "kind": notification.kind, "reason": refused.reason, "attempt": attempt},
        )  # fmt: skip
        return state
    except channels.Unknown as unknown:
        outbox.finish_delivery(
            claim, DeliveryState.UNCERTAIN, clock.now(), reason=unknown.reason, dead_letter=True
        )
        logger.warning(
            "notification outcome unknown",
            extra={"participant_id": notification.participant_id, "channel": channel.value},
        )
        return DeliveryState.UNCERTAIN
    outbox.finish_delivery(claim, DeliveryState.SENT, clock.now(), message_id=message_id)
    return DeliveryState.SENT


def _claimed_before(notification: Notification, channel: Channel, now: datetime) -> str:
    """Someone claimed this channel before: its state, a stale claim made UNCERTAIN, or HELD by a
    sender still running."""
    found = outbox.delivery(notification.participant_id, channel.value, notification.topic)
    if found is None:
        return HELD
    if found.state in outbox.FINAL_DELIVERIES or found.state == DeliveryState.FAILED:
        return found.state
    stale = now - timedelta(minutes=settings().notify_claim_minutes)
    if (
        found.state == DeliveryState.SENDING
        and found.claimed_at < stale
        and outbox.finish_delivery(
            found, DeliveryState.UNCERTAIN, now, reason="CLAIM_ABANDONED", dead_letter=True
        )
    ):
        logger.warning(
            "notification claim abandoned",
            extra={"participant_id": notification.participant_id, "channel": channel.value},
        )
        return DeliveryState.UNCERTAIN
    return HELD
