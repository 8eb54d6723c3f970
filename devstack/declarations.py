"""What the app declares that AWS would run for it: scheduled functions and queue consumers.

Read from the Chalice app object itself (`app.event_sources`, `app.handler_map`), so the local
stack never keeps a second list of schedules or queues that could drift from the deployed one.

Contract jobs (`/dev/jobs/{job}`) are found by name: a scheduled function named `{job}`,
`{job}_job` or `run_{job}` (Chalice's `name=`, or the function's own name), or else a queue
consumer so named or reading the queue `...-{job}`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from chalice.app import Chalice, ScheduledEventConfig, SQSEventConfig

from devstack import aws_calls
from devstack.events import Event, Handler

CONTRACT_JOBS = (
    "verification",
    "selection",
    "revocation",
    "disbursement",
    "surveys",
    "notifications",
    "reconciliation",
)
# Jobs beyond the contract's that `/dev/jobs` runs too: the reports' fold of the tallies into the
# figures and series, and the drift check (docs/STATS.md).
ADMIN_JOBS = ("stats", "stats_drift")
LOCAL_JOBS = (*CONTRACT_JOBS, *ADMIN_JOBS)
MAX_SQS_RECEIVE = 10


@dataclass(frozen=True)
class ScheduledFunction:
    name: str
    expression: str
    handler: Handler


@dataclass(frozen=True)
class QueueConsumer:
    name: str
    queue: str
    batch_size: int
    handler: Handler

    @property
    def receive_size(self) -> int:
        """SQS hands out at most 10 messages a call; Lambda's larger batches need a batching window."""
        return max(1, min(self.batch_size, MAX_SQS_RECEIVE))


@dataclass(frozen=True)
class Job:
    name: str
    scheduled: ScheduledFunction | None
    consumers: tuple[QueueConsumer, ...]


@dataclass(frozen=True)
class Declarations:
    scheduled: tuple[ScheduledFunction, ...]
    consumers: tuple[QueueConsumer, ...]

    @classmethod
    def of(cls, app: Chalice) -> Declarations:
        sources = app.event_sources
        return cls(
            scheduled=tuple(
                _scheduled(app, source) for source in sources if isinstance(source, ScheduledEventConfig)
            ),
            consumers=tuple(
                _consumer(app, source) for source in sources if isinstance(source, SQSEventConfig)
            ),
        )

    def job(self, job: str) -> Job | None:
        names = job_function_names(job)
        scheduled = next((function for function in self.scheduled if function.name in names), None)
        consumers = tuple(
            consumer
            for consumer in self.consumers
            if consumer.name in names or consumer.queue.endswith(f"-{job}")
        )
        if scheduled is None and not consumers:
            return None
        return Job(name=job, scheduled=scheduled, consumers=consumers)


def job_function_names(job: str) -> tuple[str, ...]:
    return (job, f"{job}_job", f"run_{job}")


def _scheduled(app: Chalice, source: ScheduledEventConfig) -> ScheduledFunction:
    expression = source.schedule_expression
    return ScheduledFunction(
        name=source.name,
        expression=expression if isinstance(expression, str) else expression.to_string(),
        handler=_handler(app, source.name, source.handler_string),
    )


def _consumer(app: Chalice, source: SQSEventConfig) -> QueueConsumer:
    queue = source.queue or str(source.queue_arn).rsplit(":", 1)[-1]
    return QueueConsumer(
        name=source.name,
        queue=queue,
        batch_size=source.batch_size or MAX_SQS_RECEIVE,
        handler=_handler(app, source.name, source.handler_string),
    )


def _handler(app: Chalice, name: str, handler_string: str) -> Handler:
    """The wrapped handler, middleware included, as Lambda calls it; else what `handler_string` names.
    The AWS calls it makes are the function `name`'s (`devstack.aws_calls`)."""
    if name in app.handler_map:
        resolved: Handler = app.handler_map[name]
    else:
        module_name, _, attribute = handler_string.rpartition(".")
        resolved = getattr(importlib.import_module(module_name), attribute)

    def invoke(event: Event, context: Any) -> Any:
        with aws_calls.invoking(name, app.app_name):
            return resolved(event, context)

    return invoke
