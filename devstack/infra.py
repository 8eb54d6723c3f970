"""Deploys `infra/resources.json` into the local endpoint's CloudFormation, as AWS would deploy it.

One template defines every table, bucket and queue for AWS and for the local stack alike. Two
things moto's CloudFormation does not do are done here from that same template: it rejects the
SAM-only `Globals` section (meant for the merged `chalice package` output), and it ignores a
bucket's `NotificationConfiguration`, which is applied through the S3 API instead.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

log = logging.getLogger("devstack.infra")

STACK_NAME = "prakerja-local"
SAM_ONLY_SECTIONS = ("Globals", "Transform")
DONE = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE"})
REPLACE = frozenset({"ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "CREATE_FAILED", "DELETE_COMPLETE"})
DEPLOY_TIMEOUT_SECONDS = 120.0
# What an operator passes at a deploy (README, "Deploying to AWS"); nothing local reads them.
LOCAL_PARAMETER_VALUES = {
    "RegistryUrl": "https://registry.example.invalid",
    "AlertsEmail": "alerts@example.invalid",
    "SenderIdentity": "example.invalid",
    "SenderAddress": "no-reply@example.invalid",
    "PartnersUrl": "https://partners.example.invalid/{partner_id}",
    "PartnerCallbackBaseUrl": "https://api.example.invalid",
    "WebOrigin": "http://127.0.0.1:8080",
}

Template = dict[str, Any]


class DeployFailed(RuntimeError):
    pass


def load_template(path: Path) -> Template:
    """The template as the local stack deploys it: without the SAM-only sections, and without the
    fragments that `chalice package --merge-template` merges into resources Chalice makes itself
    (they have no `Type`, e.g. `RestAPI`'s gateway responses: locally, Chalice's own gateway
    serves the API, and `devstack.gateway` answers as those responses do), nor the resources
    attached to those or to resources Chalice makes (its functions' roles, alarms on its functions)."""
    template: Template = json.loads(path.read_text(encoding="utf-8"))
    loaded = {name: section for name, section in template.items() if name not in SAM_ONLY_SECTIONS}
    kept = {name: body for name, body in template["Resources"].items() if "Type" in body}
    known = set(template.get("Parameters", {}))
    while True:
        attached = {name for name, body in kept.items() if not references(body) <= known | set(kept)}
        if not attached:
            break
        kept = {name: body for name, body in kept.items() if name not in attached}
    loaded["Resources"] = kept
    loaded["Outputs"] = {
        name: output
        for name, output in template.get("Outputs", {}).items()
        if references(output) <= known | set(kept)
    }
    return loaded


_REFERENCE = re.compile(r'"Ref": "([\w:]+)"|"Fn::GetAtt": \["(\w+)"|\$\{([\w:]+)[.}]|"DependsOn": "(\w+)"')


def references(resource: Any) -> set[str]:
    """The resources and parameters a resource names (Ref, Fn::GetAtt, Fn::Sub, DependsOn)."""
    text = json.dumps(resource)
    names = {next(group for group in match.groups() if group) for match in _REFERENCE.finditer(text)}
    depends = resource.get("DependsOn", [])
    names |= set(depends if isinstance(depends, list) else [depends])
    return {name for name in names if not name.startswith("AWS::")}


def deploy(
    cloudformation: Any, template: Template, stage: str, values: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Creates the stack, or updates it when a previous run's endpoint kept it; returns its outputs."""
    request = {
        "StackName": STACK_NAME,
        "TemplateBody": json.dumps(template),
        "Parameters": parameters(template, stage, values),
    }
    status = _status(cloudformation)
    if status in REPLACE:
        cloudformation.delete_stack(StackName=STACK_NAME)
        _wait(cloudformation, frozenset({"DELETE_COMPLETE", None}))
        status = None
    if status is None:
        cloudformation.create_stack(**request)
    else:
        _update(cloudformation, request)
    stack = _wait(cloudformation, DONE)
    return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}


def parameters(
    template: Template, stage: str, known: Mapping[str, str] | None = None
) -> list[dict[str, str]]:
    """`Stage`, and a stand-in for every parameter that an operator must give a deployed stack,
    unless the running stack knows the real value (`known`: the web pages' origin)."""
    stand_ins = LOCAL_PARAMETER_VALUES | dict(known or {})
    values = {"Stage": stage} | {
        name: stand_ins[name]
        for name, parameter in template.get("Parameters", {}).items()
        if "Default" not in parameter and name != "Stage"
    }
    return [{"ParameterKey": name, "ParameterValue": value} for name, value in values.items()]


def physical_ids(cloudformation: Any) -> dict[str, str]:
    pages = cloudformation.get_paginator("list_stack_resources").paginate(StackName=STACK_NAME)
    return {
        summary["LogicalResourceId"]: summary["PhysicalResourceId"]
        for page in pages
        for summary in page["StackResourceSummaries"]
        if summary.get("LogicalResourceId")
    }


def apply_bucket_notifications(template: Template, physical: dict[str, str], s3: Any, sqs: Any) -> None:
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::S3::Bucket":
            continue
        declared = resource.get("Properties", {}).get("NotificationConfiguration", {})
        queues = [
            _queue_configuration(entry, template, physical, sqs)
            for entry in declared.get("QueueConfigurations", [])
        ]
        if queues:
            s3.put_bucket_notification_configuration(
                Bucket=physical[logical_id],
                NotificationConfiguration={"QueueConfigurations": queues},
            )
            log.info("bucket %s notifies %d queue(s)", physical[logical_id], len(queues))


# CloudFormation's names for a CORS rule's fields, and S3's API's.
_CORS_FIELDS = {
    "Id": "ID",
    "AllowedOrigins": "AllowedOrigins",
    "AllowedMethods": "AllowedMethods",
    "AllowedHeaders": "AllowedHeaders",
    "ExposedHeaders": "ExposeHeaders",
    "MaxAge": "MaxAgeSeconds",
}


def apply_bucket_cors(
    template: Template, physical: dict[str, str], s3: Any, values: Mapping[str, str]
) -> None:
    """A bucket's `CorsConfiguration`, which moto's CloudFormation ignores as it does notifications;
    a `Ref` to a parameter is given its value from `values`, as the deploy gave it."""

    def resolved(value: Any) -> Any:
        if isinstance(value, dict) and "Ref" in value:
            return values[value["Ref"]]
        if isinstance(value, list):
            return [resolved(item) for item in value]
        return value

    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::S3::Bucket":
            continue
        rules = resource.get("Properties", {}).get("CorsConfiguration", {}).get("CorsRules", [])
        if rules:
            translated = [_cors_rule(rule, resolved) for rule in rules]
            s3.put_bucket_cors(Bucket=physical[logical_id], CORSConfiguration={"CORSRules": translated})


def _cors_rule(rule: dict[str, Any], resolved: Any) -> dict[str, Any]:
    return {_CORS_FIELDS[key]: resolved(value) for key, value in rule.items()}


def _queue_configuration(
    entry: dict[str, Any], template: Template, physical: dict[str, str], sqs: Any
) -> Any:
    configuration: dict[str, Any] = {
        "QueueArn": _resolve(entry["Queue"], template, physical, sqs),
        "Events": [entry["Event"]],
    }
    rules = entry.get("Filter", {}).get("S3Key", {}).get("Rules")
    if rules:
        configuration["Filter"] = {"Key": {"FilterRules": rules}}
    return configuration


def _resolve(value: Any, template: Template, physical: dict[str, str], sqs: Any) -> str:
    """The intrinsics a notification target is written with: a literal, Ref, or a queue's Fn::GetAtt Arn."""
    if isinstance(value, str):
        return value
    if "Ref" in value:
        return physical[value["Ref"]]
    logical_id, attribute = value.get("Fn::GetAtt", (None, None))
    resource_type = template["Resources"].get(logical_id, {}).get("Type")
    if attribute == "Arn" and resource_type == "AWS::SQS::Queue":
        attributes = sqs.get_queue_attributes(QueueUrl=physical[logical_id], AttributeNames=["QueueArn"])
        return str(attributes["Attributes"]["QueueArn"])
    raise DeployFailed(f"cannot resolve {json.dumps(value)} in a bucket notification")


def _update(cloudformation: Any, request: dict[str, Any]) -> None:
    try:
        cloudformation.update_stack(**request)
    except ClientError as error:
        if "No updates are to be performed" not in str(error):
            raise


def _status(cloudformation: Any) -> str | None:
    try:
        stacks = cloudformation.describe_stacks(StackName=STACK_NAME)["Stacks"]
    except ClientError as error:
        if "does not exist" in str(error):
            return None
        raise
    return str(stacks[0]["StackStatus"]) if stacks else None


def _wait(cloudformation: Any, wanted: frozenset[str | None]) -> dict[str, Any]:
    """Moto deploys synchronously, but AWS semantics (an *_IN_PROGRESS state) cost nothing to honour."""
    deadline = time.monotonic() + DEPLOY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        status = _status(cloudformation)
        if status in wanted:
            return _describe(cloudformation) if status else {}
        if status is not None and not status.endswith("_IN_PROGRESS"):
            raise DeployFailed(f"stack {STACK_NAME} is {status}: {_failure_reasons(cloudformation)}")
        time.sleep(0.2)
    raise DeployFailed(f"stack {STACK_NAME} not deployed after {DEPLOY_TIMEOUT_SECONDS:.0f} s")


def _describe(cloudformation: Any) -> dict[str, Any]:
    stack: dict[str, Any] = cloudformation.describe_stacks(StackName=STACK_NAME)["Stacks"][0]
    return stack


def _failure_reasons(cloudformation: Any) -> str:
    events = cloudformation.describe_stack_events(StackName=STACK_NAME)["StackEvents"]
    reasons = [
        f"{event['LogicalResourceId']}: {event.get('ResourceStatusReason', '')}"
        for event in events
        if event["ResourceStatus"].endswith("_FAILED")
    ]
    return "; ".join(reasons) or "no reason given"
