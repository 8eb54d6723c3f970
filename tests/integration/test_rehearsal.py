"""A deploy rehearsal without AWS: the packaged template, translated and deployed into moto.

`aws cloudformation deploy` hands the SAM template to CloudFormation's transform; here
`aws-sam-translator` does the same offline, and moto's CloudFormation creates the result. Then
every function, event source mapping, schedule, table, queue and log group must exist as the
template says, and an upload under `imports/` must reach the imports queue. What moto cannot
create (API Gateway, Cognito, alarms, the dashboard, the bucket policy, WAF, SES, Lambda
permissions) is set aside and checked from the translated template itself.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote_plus

import pytest

from devstack import infra
from tests.packaged import STAGE, package_directory

pytestmark = pytest.mark.slow

REGION, ACCOUNT = "ap-southeast-3", "123456789012"
ARTIFACTS = "prakerja-artifacts-rehearsal"
OPERATOR_PARAMETERS = {
    "Stage": STAGE,
    "RegistryUrl": "https://dukcapil.example.go.id/api",
    "AlertsEmail": "oncall@example.go.id",
    "SenderIdentity": "example.go.id",
    "SenderAddress": "no-reply@example.go.id",
    "PartnersUrl": '{"BNI": "https://bni.example.co.id/prakerja"}',
    "PartnerCallbackBaseUrl": "https://api.prakerja.example.go.id",
    "WebOrigin": "https://prakerja.example.go.id",
}
# What moto's CloudFormation cannot create (it fails on them or skips them silently).
SET_ASIDE_PREFIXES = (
    "AWS::ApiGateway::",
    "AWS::Cognito::",
    "AWS::CloudWatch::",
    "AWS::WAFv2::",
    "AWS::SES::",
    "AWS::Lambda::Permission",
    "AWS::S3::BucketPolicy",
    "AWS::SQS::QueuePolicy",
    "AWS::SNS::Subscription",
)

Template = dict[str, Any]


def translate(sam: Template) -> Template:
    """What CloudFormation's `AWS::Serverless-2016-10-31` transform makes of the packaged template,
    with the code where `aws cloudformation package` puts it."""
    from samtranslator.translator.managed_policy_translator import ManagedPolicyLoader
    from samtranslator.translator.transform import transform

    class NoManagedPolicies(ManagedPolicyLoader):  # type: ignore[misc]
        """No function of ours names a managed policy by name: nothing to look up in IAM."""

        def __init__(self) -> None:
            pass

        def load(self) -> dict[str, str]:
            return {}

    sam = json.loads(json.dumps(sam))
    for resource in sam["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = f"s3://{ARTIFACTS}/deployment.zip"
    values = {
        **OPERATOR_PARAMETERS,
        "AWS::Region": REGION,
        "AWS::AccountId": ACCOUNT,
        "AWS::Partition": "aws",
    }
    translated: Template = transform(sam, values, NoManagedPolicies())
    return translated


def deployable(translated: Template) -> Template:
    """The translated template less what moto cannot create; what refers to that keeps a stand-in
    (the API function's issuer names the user pool) and no longer waits for it."""
    aside = {
        name
        for name, resource in translated["Resources"].items()
        if resource["Type"].startswith(SET_ASIDE_PREFIXES)
    }
    resources = {
        name: _detached(resource, aside)
        for name, resource in translated["Resources"].items()
        if name not in aside
    }
    for resource in resources.values():
        depends = resource.get("DependsOn")
        if depends is not None:
            kept = [
                name for name in (depends if isinstance(depends, list) else [depends]) if name not in aside
            ]
            resource["DependsOn"] = kept
            if not kept:
                del resource["DependsOn"]
    outputs = {name: _detached(output, aside) for name, output in translated.get("Outputs", {}).items()}
    return {**translated, "Resources": resources, "Outputs": outputs}


def _detached(value: Any, aside: set[str]) -> Any:
    if isinstance(value, list):
        return [_detached(item, aside) for item in value]
    if not isinstance(value, dict):
        return value
    if value.get("Ref") in aside:
        return _stand_in(value["Ref"])
    if "Fn::GetAtt" in value and value["Fn::GetAtt"][0] in aside:
        return _stand_in(value["Fn::GetAtt"][0])
    if isinstance(value.get("Fn::Sub"), str):
        text = value["Fn::Sub"]
        for name in aside:
            text = re.sub(r"\$\{" + name + r"(\.\w+)?\}", _stand_in(name), text)
        return {"Fn::Sub": text}
    return {key: _detached(item, aside) for key, item in value.items()}


def _stand_in(name: str) -> str:
    """An ARN, so that even a policy naming a set-aside resource stays valid."""
    return f"arn:aws:rehearsal:{REGION}:{ACCOUNT}:set-aside/{name}"


@pytest.fixture(scope="module")
def translated(tmp_path_factory: pytest.TempPathFactory) -> Template:
    sam: Template = json.loads((package_directory(tmp_path_factory) / "sam.json").read_text())
    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
    return translate(sam)


@pytest.fixture(scope="module")
def stack(translated: Template) -> Iterator[dict[str, Any]]:
    """The rehearsal's stack, created as `aws cloudformation deploy` would create it."""
    import boto3
    from moto import mock_aws

    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=ARTIFACTS, CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_object(Bucket=ARTIFACTS, Key="deployment.zip", Body=_tiny_zip())
        cloudformation = boto3.client("cloudformation", region_name=REGION)
        template = deployable(translated)
        cloudformation.create_stack(
            StackName="prakerja-prod",
            TemplateBody=json.dumps(template),
            Parameters=[
                {"ParameterKey": key, "ParameterValue": value} for key, value in OPERATOR_PARAMETERS.items()
            ],
            Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
        )
        described = cloudformation.describe_stacks(StackName="prakerja-prod")["Stacks"][0]
        summaries = cloudformation.list_stack_resources(StackName="prakerja-prod")["StackResourceSummaries"]
        yield {
            "status": described["StackStatus"],
            "physical": {
                summary["LogicalResourceId"]: summary["PhysicalResourceId"] for summary in summaries
            },
            "template": template,
            "clients": {
                name: boto3.client(name, region_name=REGION)
                for name in ("lambda", "dynamodb", "sqs", "events", "logs", "s3", "iam")
            },
        }


def _tiny_zip() -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "app = None\n")
    return buffer.getvalue()


def of_type(template: Template, kind: str) -> dict[str, dict[str, Any]]:
    return {name: resource for name, resource in template["Resources"].items() if resource["Type"] == kind}


def name_of(value: Any) -> str:
    """A name the template writes as `prakerja-${Stage}-...`, as the stack resolves it."""
    text = value["Fn::Sub"] if isinstance(value, dict) else value
    return (
        str(text)
        .replace("${Stage}", STAGE)
        .replace("${AWS::AccountId}", ACCOUNT)
        .replace("${AWS::Region}", REGION)
    )


def test_the_stack_is_created_whole(stack: dict[str, Any]) -> None:
    assert stack["status"] == "CREATE_COMPLETE"
    assert set(stack["physical"]) == set(stack["template"]["Resources"])


def test_every_function_exists_with_its_runtime_role_and_limits(
    stack: dict[str, Any], translated: Template
) -> None:
    functions = of_type(translated, "AWS::Lambda::Function")
    deployed = {
        function["FunctionName"]: function
        for function in stack["clients"]["lambda"].list_functions()["Functions"]
    }
    assert len(functions) == 20
    for logical_id, resource in functions.items():
        properties = resource["Properties"]
        function = deployed[name_of(properties["FunctionName"])]
        assert function["Handler"] == properties["Handler"], logical_id
        assert function["Timeout"] == properties["Timeout"], logical_id
        assert function["Role"].endswith("/" + stack["physical"][properties["Role"]["Fn::GetAtt"][0]]), (
            logical_id
        )
    assert deployed["prakerja-prod-api_handler"]["Timeout"] < 29  # API Gateway gives up at 29 s


def test_every_queue_consumer_reads_its_queue(stack: dict[str, Any], translated: Template) -> None:
    mappings = stack["clients"]["lambda"].list_event_source_mappings()["EventSourceMappings"]
    deployed = {
        (mapping["FunctionArn"].rsplit(":", 1)[-1], mapping["EventSourceArn"].rsplit(":", 1)[-1])
        for mapping in mappings
    }
    expected = set()
    for resource in of_type(translated, "AWS::Lambda::EventSourceMapping").values():
        function = translated["Resources"][resource["Properties"]["FunctionName"]["Ref"]]
        queue = resource["Properties"]["EventSourceArn"]["Fn::Sub"].removeprefix("${").removesuffix(".Arn}")
        expected.add(
            (
                name_of(function["Properties"]["FunctionName"]),
                name_of(translated["Resources"][queue]["Properties"]["QueueName"]),
            )
        )
    assert deployed == expected
    assert ("prakerja-prod-import_batches", "prakerja-prod-imports") in deployed


def test_every_schedule_fires_its_function(stack: dict[str, Any], translated: Template) -> None:
    events = stack["clients"]["events"]
    rules = {rule["Name"]: rule for rule in events.list_rules()["Rules"]}
    expected = sorted(
        (
            resource["Properties"]["ScheduleExpression"],
            name_of(
                translated["Resources"][resource["Properties"]["Targets"][0]["Arn"]["Fn::GetAtt"][0]][
                    "Properties"
                ]["FunctionName"]
            ),
        )
        for resource in of_type(translated, "AWS::Events::Rule").values()
    )
    deployed = []
    for name, rule in rules.items():
        [target] = events.list_targets_by_rule(Rule=name)["Targets"]
        deployed.append((rule["ScheduleExpression"], target["Arn"].rsplit(":", 1)[-1]))
    assert sorted(deployed) == expected
    assert len(deployed) == 11


def test_every_table_exists_with_its_keys_and_indexes(stack: dict[str, Any], translated: Template) -> None:
    dynamodb = stack["clients"]["dynamodb"]
    tables = of_type(translated, "AWS::DynamoDB::Table")
    assert sorted(dynamodb.list_tables()["TableNames"]) == sorted(
        name_of(t["Properties"]["TableName"]) for t in tables.values()
    )
    for resource in tables.values():
        properties = resource["Properties"]
        table = dynamodb.describe_table(TableName=name_of(properties["TableName"]))["Table"]
        assert table["KeySchema"] == properties["KeySchema"]
        indexes = {index["IndexName"] for index in table.get("GlobalSecondaryIndexes", [])}
        assert indexes == {index["IndexName"] for index in properties.get("GlobalSecondaryIndexes", [])}


def test_every_queue_exists_and_hands_failures_to_its_dead_letter_queue(
    stack: dict[str, Any], translated: Template
) -> None:
    sqs = stack["clients"]["sqs"]
    for logical_id, resource in of_type(translated, "AWS::SQS::Queue").items():
        url = sqs.get_queue_url(QueueName=name_of(resource["Properties"]["QueueName"]))["QueueUrl"]
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        redrive = resource["Properties"].get("RedrivePolicy")
        if redrive:
            dead_letters = translated["Resources"][redrive["deadLetterTargetArn"]["Fn::GetAtt"][0]]
            target = json.loads(attributes["RedrivePolicy"])["deadLetterTargetArn"]
            assert target.endswith(":" + name_of(dead_letters["Properties"]["QueueName"])), logical_id
            assert int(attributes["VisibilityTimeout"]) == resource["Properties"]["VisibilityTimeout"], (
                logical_id
            )


def test_a_consumers_queue_hides_a_message_longer_than_its_function_runs(translated: Template) -> None:
    """Lambda refuses a mapping to a queue whose visibility timeout is shorter than the function's."""
    for resource in of_type(translated, "AWS::Lambda::EventSourceMapping").values():
        function = translated["Resources"][resource["Properties"]["FunctionName"]["Ref"]]
        queue = resource["Properties"]["EventSourceArn"]["Fn::Sub"].removeprefix("${").removesuffix(".Arn}")
        assert (
            translated["Resources"][queue]["Properties"]["VisibilityTimeout"]
            >= function["Properties"]["Timeout"]
        )


def test_every_log_group_keeps_its_logs_for_the_retention_given(
    stack: dict[str, Any], translated: Template
) -> None:
    groups = {
        group["logGroupName"]: group for group in stack["clients"]["logs"].describe_log_groups()["logGroups"]
    }
    functions = of_type(translated, "AWS::Lambda::Function").values()
    for function in functions:
        assert f"/aws/lambda/{name_of(function['Properties']['FunctionName'])}" in groups
    for group in groups.values():
        assert group.get("retentionInDays") == 90, group["logGroupName"]


def test_an_upload_under_imports_reaches_the_imports_queue(stack: dict[str, Any]) -> None:
    """moto's CloudFormation skips a bucket's notifications: they are applied from the template, as the
    local stack does, and must then carry an upload to the queue the import function reads."""
    clients, physical, template = stack["clients"], stack["physical"], stack["template"]
    infra.apply_bucket_notifications(template, physical, clients["s3"], clients["sqs"])
    bucket = physical["UploadBucket"]
    assert bucket == f"prakerja-prod-uploads-{ACCOUNT}"
    clients["s3"].put_object(Bucket=bucket, Key="imports/31/batch.csv", Body=b"nik\n")
    url = clients["sqs"].get_queue_url(QueueName="prakerja-prod-imports")["QueueUrl"]
    bodies = [
        json.loads(m["Body"])
        for m in clients["sqs"].receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    ]
    keys = [
        unquote_plus(record["s3"]["object"]["key"]) for body in bodies for record in body.get("Records", [])
    ]
    assert keys == ["imports/31/batch.csv"]


def test_what_moto_cannot_create_is_as_the_template_says(translated: Template) -> None:
    resources = translated["Resources"]
    stages = of_type(translated, "AWS::ApiGateway::Stage")
    assert [stage["Properties"]["StageName"] for stage in stages.values()] == ["api"]  # no stray "Stage"
    [stage] = stages.values()
    assert stage["Properties"]["TracingEnabled"] is True
    assert "DestinationArn" in stage["Properties"]["AccessLogSetting"]
    assert {setting["ResourcePath"] for setting in stage["Properties"]["MethodSettings"]} == {
        "/*",
        "/~1v1~1registrations",
    }
    alarms = of_type(translated, "AWS::CloudWatch::Alarm")
    assert all(alarm["Properties"]["AlarmActions"] == [{"Ref": "AlertsTopic"}] for alarm in alarms.values())
    watched = {json.dumps(alarm["Properties"]) for alarm in alarms.values()}
    for logical_id in of_type(translated, "AWS::Lambda::Function"):
        for metric in ("Errors", "Throttles"):
            assert any(f'"{metric}"' in text and f'"Ref": "{logical_id}"' in text for text in watched), (
                logical_id,
                metric,
            )
    for logical_id in of_type(translated, "AWS::DynamoDB::Table"):
        assert any("ThrottleEvents" in text and f'"Ref": "{logical_id}"' in text for text in watched), (
            logical_id
        )
    for logical_id in of_type(translated, "AWS::SQS::Queue"):
        metric = (
            "ApproximateNumberOfMessagesVisible"
            if "DeadLetter" in logical_id
            else "ApproximateAgeOfOldestMessage"
        )
        assert any(metric in text and f'"{logical_id}"' in text for text in watched), logical_id
    assert any("5XXError" in text for text in watched) and any('"p99"' in text for text in watched)
    topic = resources["AlertsTopic"]["Properties"]
    assert topic["KmsMasterKeyId"] == {"Ref": "AlertsKey"}
    key_policy = resources["AlertsKey"]["Properties"]["KeyPolicy"]["Statement"]
    assert any(s["Principal"] == {"Service": "cloudwatch.amazonaws.com"} for s in key_policy)
    pool = resources["UserPool"]["Properties"]
    assert pool["LambdaConfig"]["PostConfirmation"] == {"Fn::GetAtt": ["CognitoPostConfirmation", "Arn"]}
    assert pool["EmailConfiguration"]["EmailSendingAccount"] == "DEVELOPER"
    [permission] = [
        p
        for p in of_type(translated, "AWS::Lambda::Permission").values()
        if p["Properties"]["Principal"] == "cognito-idp.amazonaws.com"
    ]
    assert permission["Properties"]["SourceArn"] == {"Fn::GetAtt": ["UserPool", "Arn"]}
    assert len(of_type(translated, "AWS::CloudWatch::Dashboard")) == 1
    [subscription] = of_type(translated, "AWS::SNS::Subscription").values()
    assert subscription["Properties"]["Endpoint"] == {"Ref": "AlertsEmail"}
    [queue_policy] = of_type(translated, "AWS::SQS::QueuePolicy").values()
    [statement] = queue_policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "s3.amazonaws.com"}
