"""Plays Lambda's SQS event source mapping: polls each declared queue and invokes its handler.

Semantics follow AWS: a batch whose handler raises stays on the queue (visibility timeout and the
queue's redrive policy decide what happens next); a partial batch response
(`{"batchItemFailures": [{"itemIdentifier": id}]}`) keeps just those messages, and a malformed one
keeps the whole batch. A failing handler never stops its poller.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from devstack.activity import Activity
from devstack.declarations import QueueConsumer
from devstack.events import ContextFactory, sqs_event

log = logging.getLogger("devstack.relay")

WAIT_TIME_SECONDS = 1
DRAIN_POLL_PAUSE_SECONDS = 0.05
ERROR_PAUSE_SECONDS = 2.0
MISSING_QUEUE_PAUSE_SECONDS = 5.0
# Generations a queue counts as polled empty in: a missing queue in all, a found one in none yet.
EVERY_ROUND = sys.maxsize
NO_ROUND = -1
MISSING_QUEUE_CODES = frozenset({"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"})


@dataclass(frozen=True)
class _Queue:
    url: str
    arn: str


class Relay:
    def __init__(
        self,
        consumers: Iterable[QueueConsumer],
        sqs: Any,
        activity: Activity,
        contexts: ContextFactory,
        region: str,
    ) -> None:
        self._consumers = tuple(consumers)
        self._sqs = sqs
        self._activity = activity
        self._contexts = contexts
        self._region = region
        self._stop = threading.Event()
        self._polled = threading.Condition()
        self._round = 0
        self._draining = 0
        self._empty_since: dict[str, int] = {}
        self._delivered = 0
        self._threads: list[threading.Thread] = []

    @property
    def delivered(self) -> int:
        """Messages handled successfully (and so deleted) since the relay started."""
        with self._polled:
            return self._delivered

    def start(self) -> None:
        for consumer in self._consumers:
            thread = threading.Thread(target=self._serve, args=(consumer,), name=f"relay-{consumer.name}")
            thread.daemon = True
            thread.start()
            self._threads.append(thread)
            log.info(
                "relaying queue %s to %s (batches of %d)", consumer.queue, consumer.name, consumer.batch_size
            )

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        with self._polled:
            self._polled.notify_all()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def drain(self, timeout: float) -> bool:
        """True once every queue polled empty after the last handler finished and none is running.

        A round starts a fresh generation; only polls that *began* in it count, so a message sent
        before the round cannot hide in a receive that was already under way.
        """
        deadline = time.monotonic() + timeout
        self._set_draining(+1)
        try:
            while time.monotonic() < deadline:
                finished = self._activity.finished
                generation = self._next_round()
                if not self._wait_all_mark_empty_since(generation, deadline):
                    return False
                if not self._activity.wait_idle(deadline):
                    return False
                if self._activity.finished == finished:
                    return True
            return False
        finally:
            self._set_draining(-1)

    def _set_draining(self, change: int) -> None:
        with self._polled:
            self._draining += change

    def _wait_seconds(self) -> int:
        """Short polls while someone drains: a round then costs a round trip, not a long poll."""
        with self._polled:
            return 0 if self._draining else WAIT_TIME_SECONDS

    def _next_round(self) -> int:
        with self._polled:
            self._round += 1
            return self._round

    def _wait_all_mark_empty_since(self, generation: int, deadline: float) -> bool:
        def settled() -> bool:
            return self._stop.is_set() or all(
                self._empty_since.get(consumer.name, NO_ROUND) >= generation for consumer in self._consumers
            )

        with self._polled:
            done = self._polled.wait_for(settled, timeout=max(0.0, deadline - time.monotonic()))
        return done and not self._stop.is_set()

    def _mark_empty_since(self, consumer: QueueConsumer, generation: int) -> None:
        with self._polled:
            self._empty_since[consumer.name] = generation
            self._polled.notify_all()

    def _serve(self, consumer: QueueConsumer) -> None:
        queue: _Queue | None = None
        while not self._stop.is_set():
            generation = self._current_round()
            try:
                queue = queue or self._locate(consumer)
                self._poll(consumer, queue, generation)
            except (ClientError, BotoCoreError) as error:
                self._pause_after(consumer, error)
            except Exception:
                log.exception("relay for %s failed; retrying", consumer.name)
                self._stop.wait(ERROR_PAUSE_SECONDS)

    def _current_round(self) -> int:
        with self._polled:
            return self._round

    def _pause_after(self, consumer: QueueConsumer, error: ClientError | BotoCoreError) -> None:
        """A queue the infrastructure does not define holds no work: it must not block a drain."""
        if (
            isinstance(error, ClientError)
            and error.response.get("Error", {}).get("Code") in MISSING_QUEUE_CODES
        ):
            log.warning("queue %s does not exist; %s waits for it", consumer.queue, consumer.name)
            self._mark_empty_since(consumer, EVERY_ROUND)
            self._stop.wait(MISSING_QUEUE_PAUSE_SECONDS)
            return
        log.warning("relay for %s: %s; retrying", consumer.name, error)
        self._stop.wait(ERROR_PAUSE_SECONDS)

    def _locate(self, consumer: QueueConsumer) -> _Queue:
        url = self._sqs.get_queue_url(QueueName=consumer.queue)["QueueUrl"]
        attributes = self._sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        self._mark_empty_since(consumer, NO_ROUND)
        return _Queue(url=url, arn=attributes["Attributes"]["QueueArn"])

    def _poll(self, consumer: QueueConsumer, queue: _Queue, generation: int) -> None:
        wait_seconds = self._wait_seconds()
        response = self._sqs.receive_message(
            QueueUrl=queue.url,
            MaxNumberOfMessages=consumer.receive_size,
            WaitTimeSeconds=wait_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages: list[dict[str, Any]] = response.get("Messages", [])
        if messages:
            self._deliver(consumer, queue, messages)
        elif not self._delayed(queue):
            self._mark_empty_since(consumer, generation)
            if not wait_seconds:
                self._stop.wait(DRAIN_POLL_PAUSE_SECONDS)

    def _delayed(self, queue: _Queue) -> bool:
        """Messages sent with a delay (paced work) are not yet receivable, but a drain must wait for them."""
        attributes = self._sqs.get_queue_attributes(
            QueueUrl=queue.url, AttributeNames=["ApproximateNumberOfMessagesDelayed"]
        )["Attributes"]
        return int(attributes.get("ApproximateNumberOfMessagesDelayed", "0")) > 0

    def _deliver(self, consumer: QueueConsumer, queue: _Queue, messages: list[dict[str, Any]]) -> None:
        with self._activity.invocation():
            kept = self._invoke(consumer, sqs_event(messages, queue.arn, self._region))
            done = [message for message in messages if message["MessageId"] not in kept]
            if done:
                self._delete(queue, done)
            with self._polled:
                self._delivered += len(done)
        if kept:
            log.info(
                "%s kept %d of %d message(s) on %s", consumer.name, len(kept), len(messages), consumer.queue
            )

    def _invoke(self, consumer: QueueConsumer, event: dict[str, Any]) -> set[str]:
        """The ids of the messages that stay on the queue."""
        everything = {record["messageId"] for record in event["Records"]}
        try:
            result = consumer.handler(event, self._contexts(consumer.name))
        except Exception:
            log.exception("%s raised; its batch stays on %s", consumer.name, consumer.queue)
            return everything
        return batch_item_failures(result, everything)

    def _delete(self, queue: _Queue, messages: list[dict[str, Any]]) -> None:
        entries = [
            {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
            for index, message in enumerate(messages)
        ]
        response = self._sqs.delete_message_batch(QueueUrl=queue.url, Entries=entries)
        for failure in response.get("Failed", []):
            log.warning("could not delete a message from %s: %s", queue.url, failure.get("Message"))


def batch_item_failures(result: Any, batch: set[str]) -> set[str]:
    """Lambda's reading of a partial batch response: anything it cannot match fails the whole batch."""
    failures = result.get("batchItemFailures") if isinstance(result, dict) else None
    if not failures:
        return set()
    entries = failures if isinstance(failures, list) else [failures]
    identifiers = {entry.get("itemIdentifier") if isinstance(entry, dict) else None for entry in entries}
    if not identifiers <= batch:
        log.warning("malformed batchItemFailures %r; the whole batch stays", failures)
        return batch
    return {str(identifier) for identifier in identifiers}
