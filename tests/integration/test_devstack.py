"""The local stack's parts against a moto server over HTTP, with a tiny app of their own.

The tiny app declares one schedule and one queue consumer, as `app.py` does, so these tests pin
what the stack promises (relay semantics, jobs run to completion, the dev routes) without
depending on what the real app declares today.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from itertools import count
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import jwt
import pytest
from chalice.app import Chalice, CloudWatchEvent, Rate, SQSEvent
from chalice.config import Config
from chalice.test import Client

from chalicelib.core import clock
from devstack import infra, lock
from devstack.activity import Activity
from devstack.declarations import Declarations, QueueConsumer, ScheduledFunction
from devstack.events import context_factory
from devstack.issuer import ISSUER, LocalIssuer
from devstack.jobs import JobRunner, Runtime
from devstack.partners import LOCAL_SECRETS, FakePartners, MemorySink
from devstack.relay import Relay, batch_item_failures
from devstack.schedule import Scheduler, UnsupportedSchedule, parse
from devstack.stack import REGION, aws_client, start_endpoint, stop_process, wait_for_endpoint

JOB_CALLS_UNTIL_DONE = 3


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_path_factory.mktemp("endpoint") / "aws-endpoint.log"
    with log_path.open("ab") as log_file:
        process = start_endpoint(url, log_file)
        try:
            wait_for_endpoint(process, port, log_path)
            yield url
        finally:
            stop_process(process)


@dataclass
class Seen:
    bodies: list[str] = field(default_factory=list)
    job_calls: int = 0


def tiny_app(queue_name: str, sqs: Any, queue_url: str) -> tuple[Chalice, Seen]:
    """A scheduled job that needs three calls and fans one message out; a consumer that fails 'fail'."""
    app = Chalice(app_name="devstack-test")
    seen = Seen()

    @app.schedule(Rate(1, unit=Rate.HOURS), name="selection")
    def selection(event: CloudWatchEvent) -> dict[str, Any]:
        seen.job_calls += 1
        if seen.job_calls == 1:
            sqs.send_message(QueueUrl=queue_url, MessageBody="from-job")
        return {"processed": seen.job_calls, "more": seen.job_calls < JOB_CALLS_UNTIL_DONE}

    @app.on_sqs_message(queue=queue_name, batch_size=5, name="consume")
    def consume(event: SQSEvent) -> dict[str, Any]:
        failures = []
        for record in event:
            seen.bodies.append(record.body)
            if record.body == "raise":
                raise RuntimeError("the handler broke")
            if record.body == "fail":
                failures.append({"itemIdentifier": record.to_dict()["messageId"]})
        return {"batchItemFailures": failures}

    return app, seen


@dataclass
class Stack:
    client: Client
    relay: Relay
    seen: Seen
    sqs: Any
    queue_url: str
    issuer: LocalIssuer

    def send(self, *bodies: str) -> None:
        for body in bodies:
            self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=body)

    def messages_left(self) -> tuple[int, int]:
        """(visible, in flight or kept back by a visibility timeout)."""
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        attributes = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=names)[
            "Attributes"
        ]
        return int(attributes[names[0]]), int(attributes[names[1]])


def assemble(
    app: Chalice, sqs: Any, issuer: LocalIssuer, partners: FakePartners | None = None
) -> tuple[Relay, Runtime]:
    """What `devstack.stack` wires around the real app, around any app."""
    declarations = Declarations.of(app)
    activity = Activity()
    contexts = context_factory(Config.create())
    relay = Relay(declarations.consumers, sqs, activity, contexts, REGION)
    runtime = Runtime(issuer, JobRunner(activity, contexts, REGION, clock.now), relay, partners)
    return relay, runtime


def dev_client(app: Chalice, runtime: Runtime, project_dir: Path) -> Client:
    from devstack.routes import dev_blueprint

    app.register_blueprint(dev_blueprint(app, runtime))
    return Client(app, stage_name="local", project_dir=str(project_dir))


@pytest.fixture
def stack(endpoint: str, tmp_path: Path) -> Iterator[Stack]:
    sqs = aws_client("sqs", endpoint)
    queue_name = f"devstack-test-{uuid.uuid4().hex[:12]}"
    queue_url = sqs.create_queue(QueueName=queue_name, Attributes={"VisibilityTimeout": "60"})["QueueUrl"]
    app, seen = tiny_app(queue_name, sqs, queue_url)
    issuer = LocalIssuer(tmp_path / "keys")
    relay, runtime = assemble(app, sqs, issuer)
    relay.start()
    try:
        yield Stack(dev_client(app, runtime, tmp_path), relay, seen, sqs, queue_url, issuer)
    finally:
        relay.stop()
        issuer.close()


@pytest.fixture
def routes(tmp_path: Path) -> Iterator[tuple[Client, LocalIssuer]]:
    """The dev routes alone: an app with no queues needs no AWS endpoint."""
    app = Chalice(app_name="devstack-routes")
    issuer = LocalIssuer(tmp_path / "keys")
    _, runtime = assemble(app, None, issuer)
    try:
        yield dev_client(app, runtime, tmp_path), issuer
    finally:
        issuer.close()
        clock.set_now(None)


@pytest.fixture
def partner_routes(tmp_path: Path) -> Iterator[tuple[Client, FakePartners]]:
    """The dev routes with the fake payment partners behind them, on a free port."""
    app = Chalice(app_name="devstack-partner-routes")
    issuer = LocalIssuer(tmp_path / "keys")
    partners = FakePartners(tmp_path / "partners", settlements=MemorySink(), settle_seconds=0.05)
    _, runtime = assemble(app, None, issuer, partners)
    try:
        yield dev_client(app, runtime, tmp_path), partners
    finally:
        partners.close()
        issuer.close()


def post(client: Client, path: str, body: Any) -> Any:
    return client.http.post(path, headers={"Content-Type": "application/json"}, body=json.dumps(body))


@pytest.mark.server
def test_relay_delivers_a_message_and_deletes_it(stack: Stack) -> None:
    stack.send("hello")

    assert stack.relay.drain(timeout=15)

    assert stack.seen.bodies == ["hello"]
    assert stack.relay.delivered == 1
    assert stack.messages_left() == (0, 0)


@pytest.mark.server
def test_relay_keeps_a_message_its_handler_reports_as_failed(stack: Stack) -> None:
    stack.send("fail", "fine")

    assert stack.relay.drain(timeout=15)

    assert sorted(stack.seen.bodies) == ["fail", "fine"]
    assert stack.relay.delivered == 1
    assert stack.messages_left() == (0, 1)


@pytest.mark.server
def test_a_handler_that_raises_keeps_its_batch_and_the_relay_goes_on(stack: Stack) -> None:
    stack.send("raise")
    assert stack.relay.drain(timeout=15)
    stack.send("after")

    assert stack.relay.drain(timeout=15)

    assert stack.seen.bodies == ["raise", "after"]
    assert stack.relay.delivered == 1
    assert stack.messages_left() == (0, 1)


@pytest.mark.server
def test_a_job_runs_until_it_has_no_more_work_and_its_messages_are_relayed(stack: Stack) -> None:
    response = stack.client.http.post("/dev/jobs/selection")

    assert response.status_code == 200
    assert response.json_body == {
        "processed": JOB_CALLS_UNTIL_DONE,
        "more": False,
        "messages_relayed": 1,
        "drained": True,
    }
    assert stack.seen.job_calls == JOB_CALLS_UNTIL_DONE
    assert stack.seen.bodies == ["from-job"]


@pytest.mark.server
def test_infra_deploys_twice_and_uploads_under_imports_reach_the_imports_queue(endpoint: str) -> None:
    cloudformation, s3, sqs = (aws_client(name, endpoint) for name in ("cloudformation", "s3", "sqs"))
    template = infra.load_template(Path(__file__).resolve().parents[2] / "infra" / "resources.json")

    infra.deploy(cloudformation, template, "local")
    outputs = infra.deploy(cloudformation, template, "local")
    infra.apply_bucket_notifications(template, infra.physical_ids(cloudformation), s3, sqs)
    s3.put_object(Bucket=outputs["UploadBucketName"], Key="results/31/ignored.csv", Body=b"x")
    s3.put_object(Bucket=outputs["UploadBucketName"], Key="imports/31/batch 1.csv", Body=b"x")

    queue_url = sqs.get_queue_url(QueueName="prakerja-local-imports")["QueueUrl"]
    received = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    bodies = [json.loads(message["Body"]) for message in received.get("Messages", [])]
    keys = [record["s3"]["object"]["key"] for body in bodies for record in body.get("Records", [])]
    assert [unquote_plus(key) for key in keys] == ["imports/31/batch 1.csv"]
    assert "Globals" not in template
    assert "RestAPI" not in template["Resources"]


def test_the_local_gateway_answers_a_path_no_route_has_as_the_deployed_one() -> None:
    from chalice.local import LocalGateway

    from app import app
    from devstack import gateway
    from devstack.stack import chalice_config

    root = Path(__file__).resolve().parents[2]
    undo = gateway.answer_missing_routes(root / "infra" / "resources.json")
    try:
        local = LocalGateway(app, chalice_config(root))
        with pytest.raises(gateway.RouteNotFound) as answered:
            local.handle_request("GET", "/v1/nothing", {"authorization": "Bearer secret-token"}, None)
    finally:
        undo()
    assert answered.value.CODE == 404
    assert json.loads(answered.value.body or b"")["error"]["code"] == "NOT_FOUND"
    assert b"secret-token" not in (answered.value.body or b"")


@pytest.mark.server
def test_a_queue_the_infrastructure_lacks_does_not_hold_up_a_drain(endpoint: str) -> None:
    ghost = QueueConsumer(
        "ghost", f"devstack-test-missing-{uuid.uuid4().hex[:8]}", 10, lambda event, context: None
    )
    relay = Relay([ghost], aws_client("sqs", endpoint), Activity(), context_factory(Config.create()), REGION)
    relay.start()
    try:
        assert relay.drain(timeout=3)
    finally:
        relay.stop()


def test_a_dev_token_verifies_against_the_issuers_jwks(routes: tuple[Client, LocalIssuer]) -> None:
    client, issuer = routes

    response = post(client, "/dev/tokens", {"role": "office", "sub": "office-31", "province": "31"})

    assert response.status_code == 200
    token = response.json_body["token"]
    key = jwt.PyJWKClient(issuer.jwks_url).get_signing_key_from_jwt(token)
    claims = jwt.decode(token, key.key, algorithms=["RS256"], issuer=ISSUER)
    assert (claims["role"], claims["sub"], claims["province"]) == ("office", "office-31", "31")
    assert "platform_id" not in claims


def test_a_dev_token_needs_a_known_role_and_a_subject(routes: tuple[Client, LocalIssuer]) -> None:
    client, _ = routes

    response = post(client, "/dev/tokens", {"role": "superuser", "province": 31})

    assert response.status_code == 422
    error = response.json_body["error"]
    assert error["code"] == "VALIDATION_FAILED"
    assert set(error["fields"]) == {"role", "sub", "province"}


def test_dev_tokens_refuses_malformed_json(routes: tuple[Client, LocalIssuer]) -> None:
    client, _ = routes

    response = client.http.post("/dev/tokens", headers={"Content-Type": "application/json"}, body="{")

    assert response.status_code == 400
    assert response.json_body["error"]["code"] == "MALFORMED_JSON"


def test_dev_clock_moves_the_apps_clock_and_gives_it_back(routes: tuple[Client, LocalIssuer]) -> None:
    client, _ = routes
    moment = "2021-03-01T00:00:00+07:00"

    moved = post(client, "/dev/clock", {"now": moment})
    assert moved.status_code == 200
    assert moved.json_body == {"now": moment}
    assert clock.now() == datetime(2021, 3, 1, tzinfo=timezone(timedelta(hours=7)))

    reset = post(client, "/dev/clock", {"now": None})
    assert reset.json_body == {"now": None}
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=5)


def test_dev_clock_refuses_a_time_without_offset(routes: tuple[Client, LocalIssuer]) -> None:
    client, _ = routes

    response = post(client, "/dev/clock", {"now": "2021-03-01T00:00:00"})

    assert response.status_code == 422
    assert list(response.json_body["error"]["fields"]) == ["now"]


def test_an_unknown_job_is_404(routes: tuple[Client, LocalIssuer]) -> None:
    client, _ = routes

    response = client.http.post("/dev/jobs/teleportation")

    assert response.status_code == 404
    assert response.json_body["error"]["code"] == "UNKNOWN_JOB"


def test_a_contract_job_the_app_does_not_declare_is_404_not_deployed(
    routes: tuple[Client, LocalIssuer],
) -> None:
    client, _ = routes

    response = client.http.post("/dev/jobs/reconciliation")

    assert response.status_code == 404
    error = response.json_body["error"]
    assert error["code"] == "JOB_NOT_DEPLOYED"
    assert "reconciliation" in error["message"]


def test_dev_partner_faults_answer_the_settings_in_force_and_empty_restores_health(
    partner_routes: tuple[Client, FakePartners],
) -> None:
    client, partners = partner_routes
    faults = {
        "timeout": 0.05,
        "error": 0.05,
        "accept_then_timeout": 0.02,
        "duplicate_callback": 0.1,
        "late_callback": 0.1,
        "down": False,
        "latency_ms": 100,
        "seed": 1,
    }

    set_faults = post(client, "/dev/partners/GOPAY/faults", faults)
    partly = post(client, "/dev/partners/GOPAY/faults", {"down": True})
    healthy = post(client, "/dev/partners/GOPAY/faults", {})

    assert (set_faults.status_code, set_faults.json_body) == (200, faults)
    assert partly.json_body["down"] is True
    assert partly.json_body["latency_ms"] == 0
    assert healthy.json_body == {name: 0 if name != "down" else False for name in faults}
    assert partners.partners["GOPAY"].dice.faults.as_dict() == healthy.json_body


def test_dev_partner_faults_refuse_an_unknown_partner_and_bad_values(
    partner_routes: tuple[Client, FakePartners],
) -> None:
    client, partners = partner_routes

    unknown = post(client, "/dev/partners/BCA/faults", {})
    invalid = post(client, "/dev/partners/OVO/faults", {"timeout": 2, "down": "yes", "jitter": 1})
    malformed = client.http.post(
        "/dev/partners/OVO/faults", headers={"Content-Type": "application/json"}, body="{"
    )

    assert (unknown.status_code, unknown.json_body["error"]["code"]) == (404, "UNKNOWN_PARTNER")
    assert invalid.status_code == 422
    assert set(invalid.json_body["error"]["fields"]) == {"timeout", "down", "jitter"}
    assert malformed.status_code == 400
    assert partners.partners["OVO"].dice.faults.as_dict()["timeout"] == 0


def test_dev_partner_ledger_lists_what_the_partner_believes_it_paid(
    partner_routes: tuple[Client, FakePartners],
) -> None:
    from chalicelib.incentives.partners import PartnerClient
    from chalicelib.incentives.partners.breaker import Breaker

    client, partners = partner_routes
    bni = PartnerClient(
        "BNI",
        base_url=f"{partners.url}/BNI",
        secret=LOCAL_SECRETS["BNI"].encode,
        timeout_seconds=5,
        retries=0,
        backoff_seconds=0,
        breaker=Breaker("BNI", 5, 30),
    )
    bni.send_transfer("p-INCENTIVE-1-A1", 600_000, "0123456789", "Siti Rahayu", "http://127.0.0.1:9/")

    listed = client.http.get("/dev/partners/BNI/ledger")
    empty = client.http.get("/dev/partners/OVO/ledger")
    unknown = client.http.get("/dev/partners/BCA/ledger")

    assert listed.status_code == 200
    [transfer] = listed.json_body["transfers"]
    assert {name: transfer[name] for name in ("reference", "idempotency_key", "amount", "status")} == {
        "reference": "p-INCENTIVE-1-A1",
        "idempotency_key": "p-INCENTIVE-1-A1",
        "amount": 600_000,
        "status": transfer["status"],
    }
    assert transfer["status"] in ("ACCEPTED", "COMPLETED")
    assert datetime.fromisoformat(transfer["created_at"]).tzinfo is not None
    assert empty.json_body == {"transfers": []}
    assert unknown.status_code == 404


def test_dev_partner_routes_say_so_when_no_fake_partners_run(routes: tuple[Client, LocalIssuer]) -> None:
    client, _ = routes

    response = client.http.get("/dev/partners/BNI/ledger")

    assert (response.status_code, response.json_body["error"]["code"]) == (404, "PARTNERS_NOT_RUNNING")


def test_a_partial_batch_response_that_names_an_unknown_message_fails_the_whole_batch() -> None:
    batch = {"a", "b"}

    assert batch_item_failures({"batchItemFailures": [{"itemIdentifier": "a"}]}, batch) == {"a"}
    assert batch_item_failures({"batchItemFailures": [{"itemIdentifier": "zzz"}]}, batch) == batch
    assert batch_item_failures({"batchItemFailures": []}, batch) == set()
    assert batch_item_failures(None, batch) == set()


AT = datetime(2021, 3, 5, 9, 30, tzinfo=UTC)  # a Friday


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("rate(5 minutes)", AT, AT + timedelta(minutes=5)),
        ("rate(1 day)", AT, AT + timedelta(days=1)),
        ("cron(0 10 * * ? *)", AT, datetime(2021, 3, 5, 10, 0, tzinfo=UTC)),
        ("cron(15 2 ? * MON-FRI *)", AT, datetime(2021, 3, 8, 2, 15, tzinfo=UTC)),
        ("cron(*/20 * * * ? *)", AT, datetime(2021, 3, 5, 9, 40, tzinfo=UTC)),
        ("cron(0 0 1 JAN,JUL ? *)", AT, datetime(2021, 7, 1, 0, 0, tzinfo=UTC)),
    ],
)
def test_schedules_fire_when_eventbridge_would(expression: str, after: datetime, expected: datetime) -> None:
    assert parse(expression).next_after(after) == expected


@pytest.mark.parametrize(
    "expression", ["cron(0 0 L * ? *)", "cron(0 0 ? * 2#1 *)", "every day", "rate(0 minutes)"]
)
def test_schedules_the_local_stack_cannot_fire_are_refused(expression: str) -> None:
    with pytest.raises(UnsupportedSchedule):
        parse(expression)


def test_the_scheduler_fires_a_function_each_time_it_is_due() -> None:
    ticks = count()
    fired = threading.Semaphore(0)
    function = ScheduledFunction(
        name="tick", expression="rate(5 minutes)", handler=lambda event, context: None
    )

    def fake_now() -> datetime:
        return AT + timedelta(minutes=5 * next(ticks))

    scheduler = Scheduler([function], lambda _: fired.release(), now=fake_now)
    scheduler.start()
    try:
        assert fired.acquire(timeout=5)
        assert fired.acquire(timeout=5)
    finally:
        scheduler.stop()


def test_a_job_that_always_reports_more_still_returns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("devstack.jobs.MAX_CALLS", 5)
    calls = count(1)

    def forever(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {"call": next(calls), "more": True}

    runner = JobRunner(Activity(), context_factory(Config.create()), REGION, clock.now)

    assert runner.run(ScheduledFunction("forever", "rate(1 hour)", forever)) == {"call": 5, "more": True}


def test_a_pid_file_left_by_a_dead_process_is_taken_over(tmp_path: Path) -> None:
    pid_file = tmp_path / "run.pid"
    pid_file.write_text("999999999\n")

    lock.acquire(pid_file)

    assert pid_file.read_text().strip() == str(os.getpid())
    lock.release(pid_file)
    assert not pid_file.exists()


@pytest.mark.parametrize("job", ["stats", "stats_drift"])
def test_the_reports_jobs_are_known_to_dev_jobs(routes: tuple[Client, LocalIssuer], job: str) -> None:
    """Known by name (an app without them has not deployed them), unlike a made-up job."""
    client, _ = routes

    response = client.http.post(f"/dev/jobs/{job}")

    assert (response.status_code, response.json_body["error"]["code"]) == (404, "JOB_NOT_DEPLOYED")


def test_a_scheduled_function_outside_the_contract_runs_by_its_own_name_and_nothing_else_does(
    tmp_path: Path,
) -> None:
    app = Chalice(app_name="devstack-own-schedule")
    ran: list[str] = []

    @app.schedule(Rate(1, unit=Rate.MINUTES), name="incentive_events")
    def incentive_events(event: Any) -> dict[str, Any]:
        ran.append("incentive_events")
        return {"taken": 0}

    issuer = LocalIssuer(tmp_path / "keys")
    _, runtime = assemble(app, None, issuer)
    try:
        client = dev_client(app, runtime, tmp_path)
        answered = client.http.post("/dev/jobs/incentive_events")
        unknown = client.http.post("/dev/jobs/incentive_events_job")
    finally:
        issuer.close()

    assert answered.status_code == 200
    assert ran == ["incentive_events"]
    assert (unknown.status_code, unknown.json_body["error"]["code"]) == (404, "UNKNOWN_JOB")


def test_the_upload_bucket_allows_puts_from_the_pages_origin_alone() -> None:
    """moto's CloudFormation ignores a bucket's CORS rules: the stack applies the template's own."""
    template = infra.load_template(Path(__file__).resolve().parents[2] / "infra" / "resources.json")
    applied: list[dict[str, Any]] = []

    class S3:
        def put_bucket_cors(self, **request: Any) -> None:
            applied.append(request)

    infra.apply_bucket_cors(
        template, {"UploadBucket": "uploads"}, S3(), {"WebOrigin": "http://127.0.0.1:8123"}
    )

    assert applied == [
        {
            "Bucket": "uploads",
            "CORSConfiguration": {
                "CORSRules": [
                    {
                        "AllowedOrigins": ["http://127.0.0.1:8123"],
                        "AllowedMethods": ["PUT"],
                        "AllowedHeaders": ["Content-Type"],
                        "MaxAgeSeconds": 600,
                    }
                ]
            },
        }
    ]


def test_the_stack_gives_its_functions_the_queue_urls_the_template_gives_deployed_ones() -> None:
    """Without them a function looks its queue up, which its policy (rightly) does not allow."""
    from devstack.stack import queue_urls

    template = json.loads(
        (Path(__file__).parents[2] / "infra" / "resources.json").read_text(encoding="utf-8")
    )
    deployed = {
        name
        for name in template["Globals"]["Function"]["Environment"]["Variables"]
        if name.endswith("_QUEUE_URL")
    }
    outputs = {name: "url" for name in template["Outputs"] if name.endswith("QueueUrl")}
    assert set(queue_urls(outputs)) == deployed
