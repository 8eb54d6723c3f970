"""Records which AWS actions each Lambda function of the app performs, on which resources.

moto grants every call whatever the IAM policy, so a missing permission (a `GetObject` with a
`VersionId` needs `s3:GetObjectVersion`) shows only in AWS. The test suites record every call
the app's code makes, through any client (boto3's, PynamoDB's own, Powertools'), presigned links
included, as the IAM action and resource AWS would authorise it as; `tests/policy.py` then checks
each one against the policy of the function that made it, and every grant against the calls.

A call belongs to the function being invoked when it is made: `invoking(name)` marks that span
(the Chalice test client, the local gateway and the local stack's relay and job runner enter it).
Calls outside any invocation (test set-up, the local stack's own polling) are not the app's.

Lambda keeps clients, queue URLs and secrets per container, and each function has containers of
its own; a test process has one for all. So that one function's cached lookup never hides the
call another function would make, `reset_per_function` forgets every per-container cache of the
app whenever the invoked function changes: each function starts cold, as in AWS.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from email.utils import parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

DIRECTORY_VARIABLE = "PRAKERJA_AWS_CALLS_DIR"
ACCOUNT_ID = "123456789012"
API_FUNCTION = "api_handler"
APP_NAME = "prakerja"
APP_PACKAGE = "chalicelib"
# The SES identity the local stage sends its mail from (the domain of its MAIL_SENDER), verified in
# the local endpoint by the stack and the tests, as an operator verifies the real one (README).
MAIL_IDENTITY = "prakerja.local"
# Caches of clients and connections outlive a "cold start" here: making one calls nothing in AWS
# (nothing to attribute) and costs tens of milliseconds, which every test would pay again.
CLIENT_CACHES = frozenset({"_client", "connection", "_guarded", "_jwks_client"})

Permission = tuple[str, str]

_function: ContextVar[str | None] = ContextVar("aws_calls_function", default=None)
_state: dict[str, Any] = {"recorder": None, "last": None, "reset": False}


@contextmanager
def invoking(function: str, app: str = APP_NAME) -> Iterator[None]:
    """The AWS calls made inside are `function`'s; none are recorded for another app's functions
    (the small apps some tests build to try a piece of the local stack or the core alone)."""
    if app != APP_NAME:
        token = _function.set(None)
        try:
            yield
        finally:
            _function.reset(token)
        return
    if _state["reset"] and _state["last"] != function:
        forget_containers()
    _state["last"] = function
    token = _function.set(function)
    try:
        yield
    finally:
        _function.reset(token)


def forget_containers() -> None:
    """A cold container: every cache of the app's modules (but its clients') and Powertools'
    parameter cache emptied, so that each lookup an AWS call answers is made again."""
    for name, module in list(sys.modules.items()):
        if name != APP_PACKAGE and not name.startswith(f"{APP_PACKAGE}."):
            continue
        for value in list(vars(module).values()):
            if (
                isinstance(value, functools._lru_cache_wrapper)
                and value.__module__ == name
                and value.__name__ not in CLIENT_CACHES
            ):
                value.cache_clear()
    base = sys.modules.get("aws_lambda_powertools.utilities.parameters.base")
    if base is not None:
        # The values only: `clear_caches()` would drop the providers and their clients too.
        for provider in base.DEFAULT_PROVIDERS.values():
            provider.clear_cache()


class Recorder:
    """Appends each new (function, action, resource) of this process to one JSON-lines file."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self._path = directory / f"calls-{os.getpid()}.jsonl"
        self._seen: set[tuple[str, str, str]] = set()
        self._lock = threading.Lock()

    def on_call(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        function = _function.get()
        if function is None:
            return
        region = context.get("client_region") or os.environ.get("AWS_REGION") or "ap-southeast-3"
        service = model.service_model.signing_name or model.service_model.endpoint_prefix
        for action, resource in permissions(service, model.name, params, region):
            self._add(function, action, resource)

    def _add(self, function: str, action: str, resource: str) -> None:
        entry = (function, action, resource)
        with self._lock:
            if entry in self._seen:
                return
            self._seen.add(entry)
            with self._path.open("a", encoding="utf-8") as sink:
                sink.write(json.dumps({"function": function, "action": action, "resource": resource}) + "\n")


def install(directory: Path, reset_per_function: bool = False) -> Recorder:
    """Record from every botocore client made from now on; attribute HTTP requests to the API function."""
    import botocore.session

    recorder = Recorder(directory)
    _state["recorder"] = recorder
    _state["reset"] = reset_per_function
    create_client = botocore.session.Session.create_client
    if not getattr(create_client, "_records_aws_calls", False):

        def recording_create_client(self: Any, *args: Any, **kwargs: Any) -> Any:
            client = create_client(self, *args, **kwargs)
            client.meta.events.register("before-parameter-build", _dispatch)
            return client

        recording_create_client._records_aws_calls = True  # type: ignore[attr-defined]
        botocore.session.Session.create_client = recording_create_client
    _attribute_gateway_requests()
    return recorder


def install_from_environment(reset_per_function: bool = False) -> Recorder | None:
    directory = os.environ.get(DIRECTORY_VARIABLE)
    return install(Path(directory), reset_per_function) if directory else None


def _dispatch(**kwargs: Any) -> None:
    recorder: Recorder | None = _state["recorder"]
    if recorder is not None:
        recorder.on_call(**kwargs)


def _attribute_gateway_requests() -> None:
    """Every request through Chalice's local gateway runs in the API function, except the local
    stack's own `/dev` routes, which no deployed stage has."""
    from chalice.local import LocalGateway

    handle_request = LocalGateway.handle_request
    if getattr(handle_request, "_records_aws_calls", False):
        return

    def attributed(self: Any, method: str, path: str, headers: Any, body: Any) -> Any:
        if path.startswith("/dev/") or path == "/dev":
            return handle_request(self, method, path, headers, body)
        with invoking(API_FUNCTION, self._app_object.app_name):
            return handle_request(self, method, path, headers, body)

    attributed._records_aws_calls = True  # type: ignore[attr-defined]
    LocalGateway.handle_request = attributed  # type: ignore[method-assign]


# IAM's names for what S3 operations do (https://docs.aws.amazon.com/service-authorization/).
_S3_OBJECT_ACTIONS = {
    "GetObject": "s3:GetObject",
    "HeadObject": "s3:GetObject",
    "PutObject": "s3:PutObject",
    "CreateMultipartUpload": "s3:PutObject",
    "UploadPart": "s3:PutObject",
    "CompleteMultipartUpload": "s3:PutObject",
    "AbortMultipartUpload": "s3:AbortMultipartUpload",
    "DeleteObject": "s3:DeleteObject",
}
_S3_VERSIONED = {"s3:GetObject": "s3:GetObjectVersion", "s3:DeleteObject": "s3:DeleteObjectVersion"}
_S3_BUCKET_ACTIONS = {"ListObjectsV2": "s3:ListBucket", "ListObjects": "s3:ListBucket"}
_TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}
_SQS_ACTIONS = {"SendMessageBatch": "SendMessage", "DeleteMessageBatch": "DeleteMessage",
                "ChangeMessageVisibilityBatch": "ChangeMessageVisibility"}  # fmt: skip


def permissions(service: str, operation: str, params: dict[str, Any], region: str) -> list[Permission]:
    """The (IAM action, resource ARN) pairs AWS authorises one API call as."""
    if service == "dynamodb":
        return _dynamodb(operation, params, region)
    if service == "s3":
        return _s3(operation, params)
    if service == "sqs":
        return _sqs(operation, params, region)
    return _named(service, operation, params, region) or [(f"{service}:{operation}", "*")]


def _named(service: str, operation: str, params: dict[str, Any], region: str) -> list[Permission]:
    """A call on one named SSM parameter, secret or user pool; else nothing."""
    if service == "ssm" and "Name" in params:
        name = str(params["Name"]).lstrip("/")
        return [(f"ssm:{operation}", f"arn:aws:ssm:{region}:{ACCOUNT_ID}:parameter/{name}")]
    if service == "secretsmanager" and "SecretId" in params:
        # A secret's ARN ends in six random characters after its name; a policy names it `<name>-??????`.
        secret = f"arn:aws:secretsmanager:{region}:{ACCOUNT_ID}:secret:{params['SecretId']}-AbCdEf"
        return [(f"secretsmanager:{operation}", secret)]
    if service == "ses" and operation == "SendEmail" and "FromEmailAddress" in params:
        # SES authorises a send on the identity of the From address's domain, and on the
        # configuration set it names.
        domain = parseaddr(str(params["FromEmailAddress"]))[1].rpartition("@")[2]
        found = [("ses:SendEmail", f"arn:aws:ses:{region}:{ACCOUNT_ID}:identity/{domain}")]
        if params.get("ConfigurationSetName"):
            configuration_set = params["ConfigurationSetName"]
            found.append(
                ("ses:SendEmail", f"arn:aws:ses:{region}:{ACCOUNT_ID}:configuration-set/{configuration_set}")
            )
        return found
    if service == "cognito-idp" and "UserPoolId" in params:
        pool = f"arn:aws:cognito-idp:{region}:{ACCOUNT_ID}:userpool/{params['UserPoolId']}"
        return [(f"cognito-idp:{operation}", pool)]
    return []


def _table(region: str, table: str, index: str | None = None) -> str:
    arn = f"arn:aws:dynamodb:{region}:{ACCOUNT_ID}:table/{table}"
    return f"{arn}/index/{index}" if index else arn


def _dynamodb(operation: str, params: dict[str, Any], region: str) -> list[Permission]:
    if operation in ("TransactWriteItems", "TransactGetItems"):
        found = []
        for item in params["TransactItems"]:
            for kind, request in item.items():
                found.append((f"dynamodb:{_TRANSACT_ACTIONS[kind]}", _table(region, request["TableName"])))
        return found
    if operation in ("BatchWriteItem", "BatchGetItem"):
        return [(f"dynamodb:{operation}", _table(region, table)) for table in params["RequestItems"]]
    return [(f"dynamodb:{operation}", _table(region, params["TableName"], params.get("IndexName")))]


def _s3(operation: str, params: dict[str, Any]) -> list[Permission]:
    bucket = params.get("Bucket", "")
    if operation == "DeleteObjects":
        return [
            (
                _S3_VERSIONED["s3:DeleteObject"] if "VersionId" in entry else "s3:DeleteObject",
                f"arn:aws:s3:::{bucket}/{entry['Key']}",
            )
            for entry in params["Delete"]["Objects"]
        ]
    if operation in _S3_BUCKET_ACTIONS:
        return [(_S3_BUCKET_ACTIONS[operation], f"arn:aws:s3:::{bucket}")]
    action = _S3_OBJECT_ACTIONS.get(operation, f"s3:{operation}")
    if "VersionId" in params:
        action = _S3_VERSIONED.get(action, action)
    return [(action, f"arn:aws:s3:::{bucket}/{params.get('Key', '')}")]


def _sqs(operation: str, params: dict[str, Any], region: str) -> list[Permission]:
    if "QueueUrl" in params:
        account, _, name = urlsplit(str(params["QueueUrl"])).path.strip("/").rpartition("/")
        account = account.rsplit("/", 1)[-1] or ACCOUNT_ID
    else:
        account, name = params.get("QueueOwnerAWSAccountId", ACCOUNT_ID), str(params.get("QueueName", ""))
    return [(f"sqs:{_SQS_ACTIONS.get(operation, operation)}", f"arn:aws:sqs:{region}:{account}:{name}")]


def recorded(directory: Path) -> set[tuple[str, str, str]]:
    """Every (function, action, resource) that the processes recording into `directory` saw."""
    calls = set()
    for path in sorted(directory.glob("calls-*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                entry = json.loads(line)
                calls.add((entry["function"], entry["action"], entry["resource"]))
    return calls
