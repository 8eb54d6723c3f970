"""Payments sent per second when the partners are the bottleneck (issue 14): the time to send every
due payment, against what the partners' limits allow (payments × latency ÷ their concurrency).

The app's own code path, as AWS runs it: the `disbursement` schedule (`disbursement.dispatch`)
claims each due payment and queues it for its partner; each partner's consumer (`pay_bni`, …,
`disbursement.send` behind the Lambda handler) takes batches of up to ten, with `concurrency`
invocations of each at once (the template's `PartnerConcurrency`: the event source mapping's
`MaximumConcurrency`), each a thread here, as Lambda's SQS trigger would run them. Consumers start
as soon as the first page is queued, as they would. The fake partners run in a process of their
own, each answering after `latency_ms` and refusing (429) more than `concurrency` requests at once.

DynamoDB and SQS are `bench.memory_aws` (in this process, no network time): what is measured is
the partners' time plus our CPU (the SDK building, signing and parsing every call, PynamoDB, the
handler, the partner client), on a machine whose two cores also run the fake partners. What is
not: DynamoDB's and SQS's latency, Lambda's polling and start-up, and the partners' callbacks
(they settle after the run, so that the run is the sending alone).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import statistics
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from bench import payees
from bench.memory_aws import MemoryAws, partitions_written

STARTED_AT = datetime.fromisoformat("2021-08-01T09:00:00+07:00")
DUE = date(2021, 8, 1)
TARGET = 1.3
BATCH = 10  # the consumers' batch size (chalicelib.incentives.jobs.BATCH)
IDLE_SECONDS = 0.05  # how long an idle consumer waits for a message before it looks again
# The partners settle (and call back) long after the run: the run measures sending alone.
SETTLE_SECONDS = 3_600.0
TEMPLATE = payees.PROJECT_DIR / "infra" / "resources.json"
# Where the partners would call back: nowhere, since they settle after the run.
CALLBACKS_NOWHERE = "http://127.0.0.1:9"


def template_concurrency() -> int:
    parameters = json.loads(TEMPLATE.read_text(encoding="utf-8"))["Parameters"]
    return int(parameters["PartnerConcurrency"]["Default"])


# --- the partners, in a process of their own ------------------------------------------------------


def serve_partners(state_dir: str, concurrency: int, latency_ms: int, pipe: Connection) -> None:
    """Run the fake partners until told to stop; then answer with each ledger's size and this
    process's CPU seconds."""
    from devstack.partners import FakePartners, MemorySink

    fake = FakePartners(
        Path(state_dir),
        settlements=MemorySink(),
        settle_seconds=SETTLE_SECONDS,
        max_concurrent=concurrency,
    )
    for partner_id in payees.PARTNER_IDS:
        fake.set_faults(partner_id, {"latency_ms": latency_ms})
    answered: list[float] = []
    answer = fake.answer

    def timed(*args: Any) -> Any:
        """How long the fake itself takes to answer: its latency, and its own work on top."""
        began = time.monotonic()
        try:
            return answer(*args)
        finally:
            answered.append(time.monotonic() - began)

    fake.answer = timed  # type: ignore[method-assign, assignment]
    pipe.send(fake.url_template)
    pipe.recv()
    ledgers = {partner_id: len(fake.ledger(partner_id)["transfers"]) for partner_id in payees.PARTNER_IDS}
    requests = sum(partner.requests for partner in fake.partners.values())
    cpu = time.process_time()
    fake.close()
    answers_ms = statistics.quantiles([seconds * 1000 for seconds in answered], n=20)
    pipe.send(
        {
            "ledgers": ledgers,
            "requests": requests,
            "cpu_seconds": cpu,
            "answer_ms": (answers_ms[9], answers_ms[18]),
        }
    )


# --- the consumers, as Lambda's SQS trigger runs them ---------------------------------------------


@dataclass
class Consumers:
    """`concurrency` invocations of one partner's consumer at once, each taking the batch that
    waits on its queue (up to ten messages) and handing it to the handler."""

    memory: MemoryAws
    name: str
    queue: str
    concurrency: int
    dispatched: threading.Event
    invocations: int = 0
    failed: int = 0
    busy: int = 0
    last_finished: float = 0.0
    invoked_seconds: float = 0.0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def start(self) -> list[threading.Thread]:
        threads = [
            threading.Thread(target=self._invoke_while_waiting, name=f"{self.name}-{number}", daemon=True)
            for number in range(self.concurrency)
        ]
        for thread in threads:
            thread.start()
        return threads

    def _invoke_while_waiting(self) -> None:
        from devstack.events import sqs_event

        arn = f"arn:aws:sqs:ap-southeast-3:123456789012:{self.queue}"
        while True:
            with self._lock:
                batch = self.memory.take(self.queue, BATCH)
                if batch:
                    self.busy += 1
                elif self.dispatched.is_set() and not self.busy:
                    return
            if not batch:
                with self.memory.arrived:
                    self.memory.arrived.wait(IDLE_SECONDS)
                continue
            failures: set[str] = set()
            began = time.monotonic()
            try:
                answer = payees.invoke(self.name, sqs_event(batch, arn, "ap-southeast-3"))
                failures = {entry["itemIdentifier"] for entry in answer.get("batchItemFailures", [])}
            except Exception:
                failures = {message["MessageId"] for message in batch}
            finally:
                with self._lock:
                    self.invocations += 1
                    self.failed += len(failures)
                    if failures:
                        self.memory.put_back(
                            self.queue, [message for message in batch if message["MessageId"] in failures]
                        )
                    self.busy -= 1
                    self.last_finished = time.monotonic()
                    self.invoked_seconds += self.last_finished - began


def consume(
    name: str,
    queue: str,
    concurrency: int,
    tables: dict[str, Any],
    url_template: str,
    inbox: Any,
    outbox: Any,
) -> None:
    """One partner's consumer in a process of its own (Lambda runs each invocation in a sandbox of
    its own; a process per partner lets the machine's cores share the work, as Lambda's would).
    Its DynamoDB is a replica of the schedule's: every write the schedule makes arrives here, in
    order, before the message that follows it."""
    import bench.in_process  # noqa: F401  (the environment, before anything reads it)

    os.environ["POWERTOOLS_LOG_LEVEL"] = "ERROR"
    from chalicelib.core import clock

    memory = MemoryAws([])
    memory.tables = tables
    memory.install()
    payees.configure_app(partners_url=url_template, callback_base_url=CALLBACKS_NOWHERE)
    clock.set_now(STARTED_AT)
    from app import app  # noqa: F401  (imported before the clock starts, as a warm sandbox has it)

    dispatched = threading.Event()
    consumers = Consumers(memory, name, queue, concurrency, dispatched)
    threads = consumers.start()
    outbox.put(("ready", name))
    cpu_before = time.process_time()
    while True:
        kind, *rest = inbox.get()
        if kind == "write":
            memory.apply(*rest)
        elif kind == "message":
            memory.put_back(queue, [rest[0]])
        else:
            dispatched.set()
            break
    for thread in threads:
        thread.join()
    outbox.put(
        (
            "done",
            {
                "name": name,
                "finished": consumers.last_finished,
                "cpu_seconds": time.process_time() - cpu_before,
                "invocations": consumers.invocations,
                "invoked_seconds": consumers.invoked_seconds,
                "failed": consumers.failed,
                "statuses": _statuses(memory, name.removeprefix("pay_").upper()),
                "requests": dict(memory.requests),
            },
        )
    )


# --- one run --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    payments: int
    concurrency: int
    latency_ms: int
    seconds: float
    dispatch_seconds: float
    dispatch_cpu_seconds: float
    consumers_cpu_seconds: float
    partners_cpu_seconds: float
    statuses: dict[str, int]
    ledgers: dict[str, int]
    partner_requests: int
    invocations: int
    invoked_seconds: float
    partner_answer_ms: tuple[float, float]
    failed_messages: int
    aws_requests: dict[str, int]
    load: tuple[float, float, float]

    @property
    def limit_seconds(self) -> float:
        """What the partners' limits allow: payments × latency ÷ their total concurrency."""
        return self.payments * self.latency_ms / 1000 / (len(payees.PARTNER_IDS) * self.concurrency)

    @property
    def ratio(self) -> float:
        return self.seconds / self.limit_seconds


def run(count: int, concurrency: int, latency_ms: int) -> Run:
    from chalicelib.core import clock
    from devstack.tables import table_definitions

    directory = Path(tempfile.mkdtemp(prefix="prakerja-payment-throughput-"))
    spawn = multiprocessing.get_context("spawn")
    ours, theirs = spawn.Pipe()
    processes = [
        spawn.Process(
            target=serve_partners,
            args=(str(directory / "partners"), concurrency, latency_ms, theirs),
            daemon=True,
        )
    ]
    processes[0].start()
    memory = MemoryAws(table_definitions("local"))
    original = memory.install()
    try:
        url_template = ours.recv()
        payees.configure_app(partners_url=url_template, callback_base_url=CALLBACKS_NOWHERE)
        clock.set_now(STARTED_AT)
        payees.owe(count, DUE)
        outbox = spawn.Queue()
        inboxes = _start_consumers(spawn, concurrency, memory, url_template, outbox, processes)
        for _ in inboxes:
            outbox.get(timeout=120)
        memory.requests.clear()

        owners = _partition_owners(memory)

        def share_write(operation: str, raw: bytes, payload: dict[str, Any]) -> None:
            """To the replicas of the consumers whose payees the write touches (all, if unsure)."""
            touched = [owners.get(partition) for partition in partitions_written(operation, payload)]
            queues = set(inboxes) if None in touched else {queue for queue in touched if queue}
            for queue in queues:
                inboxes[queue].put(("write", operation, raw))

        memory.on_write = share_write
        memory.on_message = lambda queue, message: inboxes[queue].put(("message", message))
        cpu_before, started = time.process_time(), time.monotonic()
        summary = payees.invoke("disbursement", payees.scheduled("disbursement"))
        dispatch_seconds = time.monotonic() - started
        dispatch_cpu = time.process_time() - cpu_before
        if summary.get("more") or summary.get("claimed") != count:
            raise RuntimeError(f"the schedule did not claim every payment: {summary}")
        for inbox in inboxes.values():
            inbox.put(("dispatched",))
        consumers = [outbox.get()[1] for _ in inboxes]
        seconds = max(done["finished"] for done in consumers) - started
        load = os.getloadavg()
        ours.send("stop")
        partner_side = ours.recv()
        statuses: Counter[str] = Counter()
        requests = Counter(memory.requests)
        for done in consumers:
            statuses.update(done["statuses"])
            requests.update(done["requests"])
        return Run(
            payments=count,
            concurrency=concurrency,
            latency_ms=latency_ms,
            seconds=seconds,
            dispatch_seconds=dispatch_seconds,
            dispatch_cpu_seconds=dispatch_cpu,
            consumers_cpu_seconds=sum(done["cpu_seconds"] for done in consumers),
            partners_cpu_seconds=partner_side["cpu_seconds"],
            statuses=dict(statuses),
            ledgers=partner_side["ledgers"],
            partner_requests=partner_side["requests"],
            invocations=sum(done["invocations"] for done in consumers),
            invoked_seconds=sum(done["invoked_seconds"] for done in consumers),
            partner_answer_ms=partner_side["answer_ms"],
            failed_messages=sum(done["failed"] for done in consumers),
            aws_requests=dict(requests),
            load=load,
        )
    finally:
        memory.uninstall(original)
        clock.set_now(None)
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.terminate()
        shutil.rmtree(directory, ignore_errors=True)


def _start_consumers(
    spawn: Any, concurrency: int, memory: MemoryAws, url_template: str, outbox: Any, processes: list[Any]
) -> dict[str, Any]:
    """A process for each partner's consumer, each with a replica of the tables as seeded; the
    queue that feeds each, by the name of the SQS queue it plays."""
    from chalice.app import SQSEventConfig

    from app import app

    inboxes: dict[str, Any] = {}
    for source in app.event_sources:
        if isinstance(source, SQSEventConfig) and source.queue and source.name.startswith("pay_"):
            inbox = inboxes[source.queue] = spawn.Queue()
            arguments = (source.name, source.queue, concurrency, memory.tables, url_template)
            process = spawn.Process(target=consume, args=(*arguments, inbox, outbox), daemon=True)
            process.start()
            processes.append(process)
    return inboxes


def _partition_owners(memory: MemoryAws) -> dict[str, str]:
    """Each payee's partition → the queue of the partner their payments go to."""
    from chalicelib.core.settings import settings
    from chalicelib.incentives import disbursement

    return {
        item["pk"]["S"]: settings().queue_name(disbursement.partner_queue(item["partner_id"]["S"]))
        for item in memory.tables[settings().table_name("payments")].items.values()
        if item.get("item", {}).get("S") == "PAYMENT" and "partner_id" in item
    }


def _statuses(memory: MemoryAws, partner_id: str) -> dict[str, int]:
    """The partner's payments by status, as this process's replica holds them."""
    from chalicelib.core.settings import settings

    found: Counter[str] = Counter()
    for item in memory.tables[settings().table_name("payments")].items.values():
        if item.get("item", {}).get("S") == "PAYMENT" and item.get("partner_id", {}).get("S") == partner_id:
            found[item["status"]["S"]] += 1
    return dict(found)


def report(done: Run) -> bool:
    partners = len(payees.PARTNER_IDS)
    print(
        f"{done.payments:,} payments, {partners} partners × {done.concurrency} concurrent requests, "
        f"{done.latency_ms} ms each: the limit allows {done.limit_seconds:.1f} s"
    )
    print(
        f"  sent in {done.seconds:.1f} s = {done.ratio:.2f} × the limit (target ≤ {TARGET}); "
        f"the schedule's run {done.dispatch_seconds:.1f} s of it"
    )
    print(
        f"  our CPU a payment: the schedule {done.dispatch_cpu_seconds / done.payments * 1000:.2f} ms, "
        f"the consumers {done.consumers_cpu_seconds / done.payments * 1000:.2f} ms; "
        f"the partners (all of it) {done.partners_cpu_seconds:.1f} s; load average after: "
        + ", ".join(f"{value:.2f}" for value in done.load)
    )
    print(
        f"  payments by status: {done.statuses}; partners' ledgers: {done.ledgers}; "
        f"requests to the partners: {done.partner_requests:,}; consumer invocations: {done.invocations:,}; "
        f"messages failed and redelivered: {done.failed_messages}"
    )
    print(
        f"  a consumer invocation's time a payment: {done.invoked_seconds / done.payments * 1000:.1f} ms; "
        f"the fake partners' own answer (in their process): median {done.partner_answer_ms[0]:.1f} ms, "
        f"95th percentile {done.partner_answer_ms[1]:.1f} ms"
    )
    per = {name: round(count / done.payments, 2) for name, count in sorted(done.aws_requests.items())}
    print(f"  AWS requests per payment: {per}")
    sent = done.statuses.get("SENT", 0) == done.payments and sum(done.ledgers.values()) == done.payments
    if not sent:
        print("  NOT every payment was sent exactly once")
    return sent and done.ratio <= TARGET


def main(payments: int, concurrency: int | None, latency_ms: int, repeats: int = 3) -> int:
    concurrency = concurrency if concurrency is not None else template_concurrency()
    runs = []
    for number in range(1, repeats + 1):
        print(f"run {number} of {repeats}:", flush=True)
        runs.append(run(payments, concurrency, latency_ms))
        report(runs[-1])
    median = statistics.median(done.ratio for done in runs)
    every_one_sent = all(
        done.statuses.get("SENT", 0) == done.payments and sum(done.ledgers.values()) == done.payments
        for done in runs
    )
    print(
        f"\nmedian of {repeats}: {statistics.median(done.seconds for done in runs):.1f} s = {median:.2f} × "
        f"the limit (target ≤ {TARGET}); every payment sent exactly once: {'yes' if every_one_sent else 'NO'}"
    )
    return 0 if every_one_sent and median <= TARGET else 1
