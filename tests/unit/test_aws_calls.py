"""What an AWS call is authorised as, and how the policy check reads a template's policies."""

from __future__ import annotations

from typing import Any

from devstack.aws_calls import permissions
from tests.policy import functions, refused_calls, unused_grants

REGION = "ap-southeast-3"
BUCKET = "arn:aws:s3:::uploads"
TABLE = f"arn:aws:dynamodb:{REGION}:123456789012:table"


def test_reading_an_upload_by_its_version_needs_get_object_version() -> None:
    assert permissions("s3", "GetObject", {"Bucket": "uploads", "Key": "imports/31/a.csv"}, REGION) == [
        ("s3:GetObject", f"{BUCKET}/imports/31/a.csv")
    ]
    versioned = {"Bucket": "uploads", "Key": "imports/31/a.csv", "VersionId": "v1"}
    assert permissions("s3", "GetObject", versioned, REGION) == [
        ("s3:GetObjectVersion", f"{BUCKET}/imports/31/a.csv")
    ]
    assert permissions("s3", "HeadObject", versioned, REGION) == [
        ("s3:GetObjectVersion", f"{BUCKET}/imports/31/a.csv")
    ]


def test_deleting_many_objects_needs_delete_object_on_each() -> None:
    request = {"Bucket": "uploads", "Delete": {"Objects": [{"Key": "parts/1"}, {"Key": "parts/2"}]}}
    assert permissions("s3", "DeleteObjects", request, REGION) == [
        ("s3:DeleteObject", f"{BUCKET}/parts/1"),
        ("s3:DeleteObject", f"{BUCKET}/parts/2"),
    ]


def test_a_multipart_upload_is_put_object() -> None:
    for operation in ("CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload"):
        assert permissions("s3", operation, {"Bucket": "uploads", "Key": "results/31/a.csv"}, REGION) == [
            ("s3:PutObject", f"{BUCKET}/results/31/a.csv")
        ]


def test_a_transaction_needs_each_items_own_action_on_its_table() -> None:
    items = [
        {"Put": {"TableName": "participants"}},
        {"Update": {"TableName": "stats"}},
        {"ConditionCheck": {"TableName": "waves"}},
        {"Delete": {"TableName": "jobs"}},
    ]
    assert permissions("dynamodb", "TransactWriteItems", {"TransactItems": items}, REGION) == [
        ("dynamodb:PutItem", f"{TABLE}/participants"),
        ("dynamodb:UpdateItem", f"{TABLE}/stats"),
        ("dynamodb:ConditionCheckItem", f"{TABLE}/waves"),
        ("dynamodb:DeleteItem", f"{TABLE}/jobs"),
    ]


def test_a_query_on_an_index_is_authorised_on_the_index() -> None:
    assert permissions("dynamodb", "Query", {"TableName": "catalogue", "IndexName": "gsi1"}, REGION) == [
        ("dynamodb:Query", f"{TABLE}/catalogue/index/gsi1")
    ]
    assert permissions("dynamodb", "BatchGetItem", {"RequestItems": {"guards": {}}}, REGION) == [
        ("dynamodb:BatchGetItem", f"{TABLE}/guards")
    ]


def test_queue_batches_parameters_and_pools_are_named_as_iam_names_them() -> None:
    url = "https://sqs.ap-southeast-3.amazonaws.com/123456789012/prakerja-local-selection"
    queue = f"arn:aws:sqs:{REGION}:123456789012:prakerja-local-selection"
    assert permissions("sqs", "SendMessageBatch", {"QueueUrl": url}, REGION) == [("sqs:SendMessage", queue)]
    assert permissions("sqs", "GetQueueUrl", {"QueueName": "prakerja-local-selection"}, REGION) == [
        ("sqs:GetQueueUrl", queue)
    ]
    assert permissions("ssm", "GetParameter", {"Name": "/prakerja/local/hash-key"}, REGION) == [
        ("ssm:GetParameter", f"arn:aws:ssm:{REGION}:123456789012:parameter/prakerja/local/hash-key")
    ]
    assert permissions("cognito-idp", "AdminAddUserToGroup", {"UserPoolId": "p1"}, REGION) == [
        ("cognito-idp:AdminAddUserToGroup", f"arn:aws:cognito-idp:{REGION}:123456789012:userpool/p1")
    ]
    assert permissions("sns", "Publish", {}, REGION) == [("sns:Publish", "*")]


def _template() -> dict[str, Any]:
    statement = {
        "Sid": "Participants",
        "Effect": "Allow",
        "Action": ["dynamodb:GetItem", "dynamodb:PutItem"],
        "Resource": [
            {
                "Fn::Sub": "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/"
                + "${ParticipantsTable}"
            }
        ],
    }
    return {
        "Resources": {
            "ParticipantsTable": {
                "Type": "AWS::DynamoDB::Table",
                "Properties": {"TableName": {"Fn::Sub": "prakerja-${Stage}-participants"}},
            },
            "JobQueue": {
                "Type": "AWS::SQS::Queue",
                "Properties": {"QueueName": {"Fn::Sub": "prakerja-${Stage}-jobs"}},
            },
            "WorkerRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {"Policies": [{"PolicyDocument": {"Statement": [statement]}}]},
            },
            "Worker": {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    "FunctionName": {"Fn::Sub": "prakerja-${Stage}-worker"},
                    "Role": {"Fn::GetAtt": ["WorkerRole", "Arn"]},
                    "Events": {
                        "Jobs": {"Type": "SQS", "Properties": {"Queue": {"Fn::GetAtt": ["JobQueue", "Arn"]}}}
                    },
                },
            },
        }
    }


def test_a_call_the_policy_does_not_grant_is_refused() -> None:
    found = functions(_template())
    table = f"{TABLE}/prakerja-local-participants"

    assert refused_calls(found, {("worker", "dynamodb:GetItem", table)}) == []
    assert refused_calls(found, {("worker", "dynamodb:DeleteItem", table)}) == [
        f"worker is refused dynamodb:DeleteItem on {table}: its policy does not allow it"
    ]
    assert refused_calls(found, {("ghost", "dynamodb:GetItem", table)})[0].startswith("ghost made")


def test_a_grant_no_call_uses_is_reported_and_lambdas_own_needs_count_as_used() -> None:
    found = functions(_template())
    table = f"{TABLE}/prakerja-local-participants"

    [unused] = unused_grants(found, {("worker", "dynamodb:GetItem", table)})

    assert unused.startswith("worker is granted dynamodb:PutItem")
    assert ("sqs:ReceiveMessage", f"arn:aws:sqs:{REGION}:123456789012:prakerja-local-jobs") in found[
        "worker"
    ].platform_calls
