"""Shared fixtures. The environment is set before any `chalicelib` import: table names and keys
are read from it once per process, as in a Lambda container."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from devstack import aws_calls
from devstack.issuer import ISSUER as ISSUER_NAME
from devstack.issuer import LocalIssuer

ISSUER = LocalIssuer(Path(tempfile.mkdtemp(prefix="prakerja-test-keys-")))

# Every AWS call of the app, recorded before any client exists; each worker of a parallel run (and
# each local stack an end-to-end test starts) writes beside the others, into the directory that the
# first process made (tests/policy.py checks them when the session ends).
if not os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ[aws_calls.DIRECTORY_VARIABLE] = tempfile.mkdtemp(prefix="prakerja-aws-calls-")
aws_calls.install(Path(os.environ[aws_calls.DIRECTORY_VARIABLE]), reset_per_function=True)
pytest_plugins = ["tests.policy"]

for variable in [name for name in os.environ if name.startswith("AWS_ENDPOINT_URL")]:
    del os.environ[variable]
os.environ.update(
    {
        "STAGE": "local",
        "AWS_REGION": "ap-southeast-3",
        "AWS_DEFAULT_REGION": "ap-southeast-3",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "UPLOAD_BUCKET": "prakerja-local-uploads-123456789012",
        "JWKS_URL": ISSUER.jwks_url,
        "JWT_ISSUER": ISSUER_NAME,
        "HASH_KEY": "test-hash-key",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_SERVICE_NAME": "prakerja",
        "CATALOGUE_REFRESH_SECONDS": "0",
    }
)

from chalice import test as chalice_test  # noqa: E402
from chalice.config import Config  # noqa: E402
from chalice.local import LambdaContext  # noqa: E402
from chalice.test import Client, TestLambdaClient  # noqa: E402
from moto import mock_aws  # noqa: E402

from devstack.tables import create_queues, create_tables  # noqa: E402
from tests.openapi import validate_answers  # noqa: E402

HASH_KEY_PARAMETER = "/prakerja/local/hash-key"
REGISTRY_KEY_PARAMETER = "/prakerja/local/registry-api-key"


def _invoke_as_the_function(invoke: Callable[..., Any]) -> Callable[..., Any]:
    def invoked(self: Any, function_name: str, payload: Any = None) -> Any:
        with aws_calls.invoking(function_name, self._app.app_name):
            return invoke(self, function_name, payload)

    return invoked


TestLambdaClient.invoke = _invoke_as_the_function(TestLambdaClient.invoke)  # type: ignore[method-assign]


@cache
def _timeout_ms(function_name: str) -> int:
    path = Path(__file__).parent.parent / ".chalice" / "config.json"
    config = json.loads(path.read_text(encoding="utf-8"))
    scoped = Config(chalice_stage="dev", function_name=function_name, config_from_disk=config)
    return int(scoped.lambda_timeout) * 1000


class _ConfiguredContext(LambdaContext):
    """An invocation has its function's configured time, as on Lambda. Chalice's test client gives
    every one three seconds, which a loaded machine can spend before a job's first page is done:
    the job then stops early, as it must, and a test that ran it once finds work left."""

    def __init__(self, function_name: str, memory_size: int, *args: Any, **kwargs: Any) -> None:
        super().__init__(function_name, memory_size, max_runtime_ms=_timeout_ms(function_name))


chalice_test.LambdaContext = _ConfiguredContext  # type: ignore[attr-defined]


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """In-process AWS with every table of `infra/resources.json`, and the local stack's patch to
    moto's transactions (equivalent to plain moto, `tests/unit/test_moto_patches.py`, but without
    a deep copy of every table per transaction).

    Configured as the template configures a deployed function, so that the calls recorded are the
    ones AWS will see: the hash key and the registry's key from SSM, queue URLs from the environment."""
    from devstack import moto_patches

    undo = moto_patches.apply()
    with mock_aws():
        create_tables(setup_client("dynamodb"))
        for name, url in create_queues(setup_client("sqs")).items():
            monkeypatch.setenv(
                f"{name.removeprefix('prakerja-local-').replace('-', '_').upper()}_QUEUE_URL", url
            )
        # The sender of the programme's mail, as an operator verifies the real one (README).
        setup_client("sesv2").create_email_identity(EmailIdentity=aws_calls.MAIL_IDENTITY)
        ssm = setup_client("ssm")
        ssm.put_parameter(Name=HASH_KEY_PARAMETER, Value=os.environ["HASH_KEY"], Type="SecureString")
        ssm.put_parameter(Name=REGISTRY_KEY_PARAMETER, Value="test-registry-key", Type="SecureString")
        monkeypatch.delenv("HASH_KEY")
        monkeypatch.setenv("HASH_KEY_PARAMETER", HASH_KEY_PARAMETER)
        monkeypatch.setenv("REGISTRY_KEY_PARAMETER", REGISTRY_KEY_PARAMETER)
        _forget_settings()
        s3 = setup_client("s3")
        s3.create_bucket(
            Bucket=os.environ["UPLOAD_BUCKET"],
            CreateBucketConfiguration={"LocationConstraint": os.environ["AWS_REGION"]},
        )
        # As `infra/resources.json` has it: an import reads the version of the upload it inspected.
        s3.put_bucket_versioning(
            Bucket=os.environ["UPLOAD_BUCKET"], VersioningConfiguration={"Status": "Enabled"}
        )
        yield
        monkeypatch.undo()
        _forget_settings()
    undo()


@cache
def setup_client(service: str) -> Any:
    """One client per service for the tests' own set-up: moto answers a client whenever it was
    made, and making one costs tens of milliseconds that every test would pay again."""
    import boto3

    return boto3.client(service)


def _forget_settings() -> None:
    from chalicelib.core.settings import settings

    settings.cache_clear()
    aws_calls.forget_containers()


@pytest.fixture
def client(aws: None) -> Iterator[Client]:
    from app import app
    from chalicelib.training import catalogue

    catalogue.forget()
    with Client(app, stage_name="local") as test_client:
        # The stage's own hash key would win over the one in SSM that a deployed function reads.
        stage = test_client._chalice_config._config_from_disk["stages"]["local"]
        stage["environment_variables"] = {
            name: value for name, value in stage["environment_variables"].items() if name != "HASH_KEY"
        }
        # Every answer a test receives is checked against the OpenAPI document (tests/openapi.py).
        validate_answers(test_client.http)
        yield test_client


def run_job(client: Client, job: str) -> Any:
    """Run a scheduled job once, then deliver its queued work until every queue is empty."""
    event = client.events.generate_cw_event(
        source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
    )
    summary = client.lambda_.invoke(job, event).payload
    drain(client)
    return summary


def sqs_event(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    """The event Lambda's SQS trigger gives a handler for one received message."""
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": message.get("Attributes", {}),
                "messageAttributes": {},
                "md5OfBody": message["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": "ap-southeast-3",
            }
        ]
    }


def drain(client: Client) -> int:
    """Deliver queued messages to the app's queue handlers, as Lambda's SQS trigger would
    (a handler that raises leaves its message on the queue, and the error reaches the test)."""
    from app import app

    sqs = setup_client("sqs")
    handlers = {source.queue: source.name for source in app.event_sources if hasattr(source, "queue")}
    delivered = 0
    while True:
        moved = 0
        for queue, handler in handlers.items():
            url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
                "QueueArn"
            ]
            received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])
            for message in received.get("Messages", []):
                client.lambda_.invoke(handler, sqs_event(message, arn))
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                moved += 1
        delivered += moved
        if not moved:
            return delivered


@pytest.fixture
def configure(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """Change settings for one test as the environment would: `configure(REGISTRY_URL=...)`."""
    from chalicelib.core.settings import settings

    def apply(**variables: str) -> None:
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        settings.cache_clear()

    yield apply
    monkeypatch.undo()
    settings.cache_clear()


TokenFactory = Callable[..., dict[str, str]]


@pytest.fixture
def auth() -> TokenFactory:
    """Headers for a caller: `auth("admin")`, `auth("office", province="31")`."""

    def headers(role: str, sub: str | None = None, **claims: Any) -> dict[str, str]:
        token = ISSUER.token({"role": role, "sub": sub or f"{role}-1", **claims})
        return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    return headers


def body(value: Any) -> str:
    return json.dumps(value)


ReadLog = list[dict[str, Any]]


@pytest.fixture
def dynamodb_reads(monkeypatch: pytest.MonkeyPatch) -> ReadLog:
    """The parameters of every GetItem and Query sent through PynamoDB. moto always answers
    consistently, so a test of read consistency checks what was asked for instead."""
    from pynamodb.connection.base import Connection

    reads: ReadLog = []
    dispatch = Connection.dispatch

    def recorded(self: Connection, operation_name: str, operation_kwargs: dict[str, Any]) -> Any:
        if operation_name in ("GetItem", "Query"):
            reads.append(dict(operation_kwargs))
        return dispatch(self, operation_name, operation_kwargs)

    monkeypatch.setattr(Connection, "dispatch", recorded)
    return reads


@pytest.fixture
def items_read(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], int]:
    """How many items GetItem, Query and BatchGetItem have returned from the table named
    `prakerja-local-<name>` so far: what a request reads, as DynamoDB bills it."""
    from pynamodb.connection.base import Connection

    counted: dict[str, int] = {}
    dispatch = Connection.dispatch

    def counting(self: Connection, operation_name: str, operation_kwargs: dict[str, Any]) -> Any:
        answer = dispatch(self, operation_name, operation_kwargs)
        table = operation_kwargs.get("TableName", "")
        if operation_name == "GetItem":
            counted[table] = counted.get(table, 0) + int("Item" in answer)
        elif operation_name == "Query":
            counted[table] = counted.get(table, 0) + len(answer.get("Items", []))
        elif operation_name == "BatchGetItem":
            for name, found in answer.get("Responses", {}).items():
                counted[name] = counted.get(name, 0) + len(found)
        return answer

    monkeypatch.setattr(Connection, "dispatch", counting)
    return lambda name: counted.get(f"prakerja-local-{name}", 0)


def reads_of(reads: ReadLog, partition: str) -> ReadLog:
    """The recorded reads of one partition key, whether a GetItem's key or a Query's."""
    values = ("Key", "ExpressionAttributeValues")
    return [
        read
        for read in reads
        if any(value == {"S": partition} for name in values for value in read.get(name, {}).values())
    ]
