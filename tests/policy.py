"""Least privilege, proven: each function's IAM policy in the packaged template against its AWS calls.

A pytest plugin (`tests/conftest.py` loads it). Every process of the session records the AWS
calls of the app's functions (`devstack/aws_calls.py`); when the session ends, the first process
reads them all and checks, against the policies the packaged template gives each function:

- every call is allowed to the function that made it (AWS would refuse it otherwise, and moto
  never does): in every run;
- every grant is used by a call of that function, or by what Lambda does with the function's
  role itself (its log group, X-Ray, reading its queue): in a run of the whole suite, the only
  one that sees every call.

A failure fails the session, as a coverage floor does, with the list of what is wrong.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from devstack import aws_calls

REGION = "ap-southeast-3"
PSEUDO = {"AWS::Region": REGION, "AWS::AccountId": aws_calls.ACCOUNT_ID, "AWS::Partition": "aws"}
FUNCTION_NAME = re.compile(r"^prakerja-\$\{Stage\}-(?P<name>\w+)$")
LAMBDA_QUEUE_ACTIONS = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")
XRAY_ACTIONS = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")

Template = dict[str, Any]
Call = tuple[str, str]  # (action, resource)


@dataclass(frozen=True)
class Grant:
    action: str
    resource: str
    statement: str

    def allows(self, action: str, resource: str) -> bool:
        return fnmatch.fnmatchcase(action, self.action) and fnmatch.fnmatchcase(resource, self.resource)


@dataclass(frozen=True)
class Function:
    name: str
    logical_id: str
    grants: tuple[Grant, ...]
    platform_calls: tuple[Call, ...]


class Resolver:
    """The intrinsics of a template's policies, resolved as the stack `Stage` would have them; a
    resource whose name AWS makes up (a user pool's id) becomes a wildcard in its ARN."""

    def __init__(self, template: Template, stage: str) -> None:
        self._resources: dict[str, Any] = template["Resources"]
        # The SES identity an operator verifies (README, "Deploying to AWS") is the local one here.
        self._values = {**PSEUDO, "Stage": stage, "SenderIdentity": aws_calls.MAIL_IDENTITY}

    def value(self, value: Any) -> str:
        if isinstance(value, str):
            return value
        if "Fn::Sub" in value:
            return re.sub(r"\$\{([^}]+)\}", lambda match: self._reference(match.group(1)), value["Fn::Sub"])
        if "Ref" in value:
            return self._reference(value["Ref"])
        if "Fn::GetAtt" in value:
            logical_id, attribute = value["Fn::GetAtt"]
            return self._reference(f"{logical_id}.{attribute}")
        raise ValueError(f"cannot resolve {value!r} in a policy")

    def _reference(self, name: str) -> str:
        if name in self._values:
            return self._values[name]
        logical_id, _, attribute = name.partition(".")
        resource = self._resources[logical_id]
        kind, properties = resource["Type"], resource.get("Properties", {})
        if kind == "AWS::DynamoDB::Table":
            table = self.value(properties["TableName"])
            return f"arn:aws:dynamodb:{REGION}:{aws_calls.ACCOUNT_ID}:table/{table}" if attribute else table
        if kind == "AWS::SQS::Queue":
            queue = self.value(properties["QueueName"])
            if attribute == "Arn":
                return f"arn:aws:sqs:{REGION}:{aws_calls.ACCOUNT_ID}:{queue}"
            return queue if attribute == "QueueName" else f"https://sqs/{aws_calls.ACCOUNT_ID}/{queue}"
        if kind == "AWS::S3::Bucket":
            bucket = self.value(properties["BucketName"])
            return f"arn:aws:s3:::{bucket}" if attribute else bucket
        if kind == "AWS::Cognito::UserPool":
            return f"arn:aws:cognito-idp:{REGION}:{aws_calls.ACCOUNT_ID}:userpool/*"
        raise ValueError(f"cannot resolve {name} ({kind}) in a policy")


def functions(template: Template, stage: str = "local") -> dict[str, Function]:
    """Every Lambda function of the template by its Chalice name, with what its role grants."""
    resolve = Resolver(template, stage)
    resources = template["Resources"]
    found = {}
    for logical_id, resource in resources.items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        properties = resource["Properties"]
        match = FUNCTION_NAME.match(properties["FunctionName"]["Fn::Sub"])
        assert match, f"{logical_id} has no FunctionName prakerja-${{Stage}}-<name>"
        name = match.group("name")
        role = properties["Role"]["Fn::GetAtt"][0]
        found[name] = Function(
            name=name,
            logical_id=logical_id,
            grants=tuple(_grants(_documents(resources, role), resolve)),
            platform_calls=tuple(_platform_calls(name, properties, resolve)),
        )
    return found


def _documents(resources: dict[str, Any], role: str) -> list[dict[str, Any]]:
    """The role's inline policies, and every policy resource attached to it."""
    documents = [policy["PolicyDocument"] for policy in resources[role]["Properties"].get("Policies", [])]
    assert not resources[role]["Properties"].get("ManagedPolicyArns"), (
        f"{role}: managed policies grant unseen"
    )
    for resource in resources.values():
        if resource["Type"] == "AWS::IAM::Policy" and {"Ref": role} in resource["Properties"]["Roles"]:
            documents.append(resource["Properties"]["PolicyDocument"])
    return documents


def _grants(documents: list[dict[str, Any]], resolve: Resolver) -> list[Grant]:
    grants = []
    for document in documents:
        for statement in document["Statement"]:
            assert statement["Effect"] == "Allow" and "Condition" not in statement, statement
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            targets = (
                statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            )
            for action in actions:
                for target in targets:
                    grants.append(Grant(action, resolve.value(target), statement.get("Sid", "?")))
    return grants


def _platform_calls(name: str, properties: dict[str, Any], resolve: Resolver) -> list[Call]:
    """What Lambda itself does with the function's role: writes its logs, sends its traces, reads
    the queue that triggers it."""
    log_group = f"arn:aws:logs:{REGION}:{aws_calls.ACCOUNT_ID}:log-group:/aws/lambda/prakerja-local-{name}"
    calls = [
        ("logs:CreateLogStream", f"{log_group}:log-stream:1"),
        ("logs:PutLogEvents", f"{log_group}:log-stream:1"),
    ]
    if properties.get("Tracing") in ("Active", "PassThrough"):
        calls += [(action, "*") for action in XRAY_ACTIONS]
    for event in properties.get("Events", {}).values():
        if event["Type"] == "SQS":
            queue = resolve.value(event["Properties"]["Queue"])
            calls += [(action, queue) for action in LAMBDA_QUEUE_ACTIONS]
    return calls


def refused_calls(found: dict[str, Function], calls: set[tuple[str, str, str]]) -> list[str]:
    """One line per function and action refused (an import's keys differ only by their id)."""
    refused: dict[tuple[str, str], list[str]] = defaultdict(list)
    problems = []
    for function, action, resource in sorted(calls):
        if function not in found:
            problems.append(f"{function} made {action} on {resource}, but the template has no such function")
        elif not any(grant.allows(action, resource) for grant in found[function].grants):
            refused[(function, action)].append(resource)
    for (function, action), resources in refused.items():
        more = f" (and {len(resources) - 1} more)" if len(resources) > 1 else ""
        problems.append(
            f"{function} is refused {action} on {resources[0]}{more}: its policy does not allow it"
        )
    return problems


def unused_grants(found: dict[str, Function], calls: set[tuple[str, str, str]]) -> list[str]:
    made: dict[str, set[Call]] = defaultdict(set)
    for name, action, resource in calls:
        made[name].add((action, resource))
    problems = []
    for function in found.values():
        used = made[function.name] | set(function.platform_calls)
        for grant in function.grants:
            if not any(grant.allows(action, resource) for action, resource in used):
                problems.append(
                    f"{function.name} is granted {grant.action} on {grant.resource} "
                    f"(statement {grant.statement}), which no call of it uses"
                )
    return problems


def _whole_suite(session: pytest.Session) -> bool:
    """Only a run of every test sees every call: no selection by path, keyword or marker, no failure."""
    option = session.config.option
    arguments = [Path(argument.split("::")[0]).resolve() for argument in session.config.args]
    whole = arguments == [Path(session.config.rootpath, "tests").resolve()] or not arguments
    return whole and not option.keyword and not option.markexpr and session.testsfailed == 0


def _template(session: pytest.Session) -> Template:
    import json

    from tests.packaged import template_path

    factory: pytest.TempPathFactory = session.config._tmp_path_factory  # type: ignore[attr-defined]
    return dict(json.loads(template_path(factory).read_text()))


_PROBLEMS: list[str] = []


def pytest_sessionfinish(session: pytest.Session) -> None:
    if hasattr(session.config, "workerinput") or aws_calls.DIRECTORY_VARIABLE not in os.environ:
        return
    calls = aws_calls.recorded(Path(os.environ[aws_calls.DIRECTORY_VARIABLE]))
    if not calls:
        return
    found = functions(_template(session))
    _PROBLEMS.extend(refused_calls(found, calls))
    if _whole_suite(session):
        _PROBLEMS.extend(unused_grants(found, calls))
    if _PROBLEMS:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _PROBLEMS:
        terminalreporter.section("IAM policies against the AWS calls the suites made", red=True)
        for problem in _PROBLEMS:
            terminalreporter.line(problem)
