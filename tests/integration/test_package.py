"""`chalice package --merge-template` gives one template for the whole system, and it is sound."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("package") / "prod"
    environment = {key: value for key, value in os.environ.items() if not key.startswith("STAGE")}
    subprocess.run(
        [BIN / "chalice", "package", "--stage", "prod", "--merge-template", "infra/resources.json", out],
        cwd=ROOT,
        env={**environment, "AWS_DEFAULT_REGION": "ap-southeast-3"},
        check=True,
        capture_output=True,
    )
    lint = subprocess.run([BIN / "cfn-lint", out / "sam.json"], capture_output=True, text=True)
    loaded: dict[str, Any] = json.loads((out / "sam.json").read_text())
    loaded["lint"] = lint
    return loaded


def _of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: body for name, body in template["Resources"].items() if body["Type"] == kind}


pytestmark = pytest.mark.slow


def test_cfn_lint_accepts_the_packaged_template(packaged: dict[str, Any]) -> None:
    assert packaged["lint"].returncode == 0, packaged["lint"].stdout


def test_no_dev_route_exists_outside_the_local_stage(packaged: dict[str, Any]) -> None:
    [api] = _of_type(packaged, "AWS::Serverless::Api").values()
    paths = api["Properties"]["DefinitionBody"]["paths"]
    assert "/v1/waves" in paths
    assert not [path for path in paths if path.startswith("/dev")]


def test_every_table_is_on_demand_recoverable_and_encrypted(packaged: dict[str, Any]) -> None:
    tables = _of_type(packaged, "AWS::DynamoDB::Table")
    assert len(tables) == 10
    for table in tables.values():
        properties = table["Properties"]
        assert properties["BillingMode"] == "PAY_PER_REQUEST"
        assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert properties["SSESpecification"] == {"SSEEnabled": True}


def test_the_upload_bucket_is_private_and_notifies_the_imports_queue(packaged: dict[str, Any]) -> None:
    [bucket] = _of_type(packaged, "AWS::S3::Bucket").values()
    properties = bucket["Properties"]
    assert all(properties["PublicAccessBlockConfiguration"].values())
    assert properties["BucketEncryption"]
    [notification] = properties["NotificationConfiguration"]["QueueConfigurations"]
    assert notification["Queue"] == {"Fn::GetAtt": ["ImportsQueue", "Arn"]}
    assert notification["Filter"]["S3Key"]["Rules"] == [{"Name": "prefix", "Value": "imports/"}]


def test_every_queue_has_a_dead_letter_queue_with_an_alarm(packaged: dict[str, Any]) -> None:
    queues = _of_type(packaged, "AWS::SQS::Queue")
    alarmed = {
        alarm["Properties"]["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
        for alarm in _of_type(packaged, "AWS::CloudWatch::Alarm").values()
    }
    working = {name: queue for name, queue in queues.items() if not name.endswith("DeadLetterQueue")}
    assert working
    for name, queue in working.items():
        dead_letters = queue["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        assert dead_letters == f"{name.removesuffix('Queue')}DeadLetterQueue"
        assert dead_letters in queues
        assert dead_letters in alarmed


def test_functions_learn_the_real_resource_names_from_the_template(packaged: dict[str, Any]) -> None:
    variables = packaged["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["UPLOAD_BUCKET"] == {"Ref": "UploadBucket"}
    assert "UserPool" in variables["JWKS_URL"]["Fn::Sub"]
    # Cognito's ID tokens name the app client they were issued to in `aud`: another client's are refused.
    assert variables["JWT_AUDIENCE"] == {"Ref": "UserPoolClient"}
