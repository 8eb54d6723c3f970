"""`chalice package --merge-template` gives one template for the whole system, and it is sound."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.packaged import package_directory as shared_package

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def package_directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What `make package STAGE=prod` builds: the template and the deployment zip, with bytecode."""
    return shared_package(tmp_path_factory)


@pytest.fixture(scope="module")
def packaged(package_directory: Path) -> dict[str, Any]:
    lint = subprocess.run([BIN / "cfn-lint", package_directory / "sam.json"], capture_output=True, text=True)
    loaded: dict[str, Any] = json.loads((package_directory / "sam.json").read_text())
    loaded["lint"] = lint
    return loaded


def _of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: body for name, body in template["Resources"].items() if body["Type"] == kind}


pytestmark = pytest.mark.slow


def test_cfn_lint_accepts_the_packaged_template(packaged: dict[str, Any]) -> None:
    assert packaged["lint"].returncode == 0, packaged["lint"].stdout


def test_the_gateway_answers_a_path_no_route_has_with_the_contracts_404(packaged: dict[str, Any]) -> None:
    """Without it API Gateway answers 403 "Missing Authentication Token", echoing a bearer token."""
    [(name, api)] = _of_type(packaged, "AWS::Serverless::Api").items()
    responses = api["Properties"]["GatewayResponses"]
    missing = responses["MISSING_AUTHENTICATION_TOKEN"]
    assert (name, missing["StatusCode"]) == ("RestAPI", "404")
    assert json.loads(missing["ResponseTemplates"]["application/json"])["error"]["code"] == "NOT_FOUND"
    for response in responses.values():
        assert set(json.loads(response["ResponseTemplates"]["application/json"])) == {"error"}


def test_no_dev_route_exists_outside_the_local_stage(packaged: dict[str, Any]) -> None:
    [api] = _of_type(packaged, "AWS::Serverless::Api").values()
    paths = api["Properties"]["DefinitionBody"]["paths"]
    assert "/v1/waves" in paths
    assert not [path for path in paths if path.startswith("/dev")]


def test_every_preflight_allows_the_web_origin_the_deploy_names(packaged: dict[str, Any]) -> None:
    """Chalice writes the origin it found at packaging into each generated OPTIONS answer: it must
    be the `WebOrigin` parameter's, the same one the functions (WEB_ORIGIN) and the bucket allow."""
    [api] = _of_type(packaged, "AWS::Serverless::Api").values()
    paths = api["Properties"]["DefinitionBody"]["paths"]
    origins = [
        parameters["method.response.header.Access-Control-Allow-Origin"]
        for path in paths.values()
        if "options" in path
        for response in path["options"]["x-amazon-apigateway-integration"]["responses"].values()
        for parameters in [response["responseParameters"]]
    ]
    assert "options" in paths["/v1/purchases"]
    assert origins
    assert all(origin == {"Fn::Sub": "'${WebOrigin}'"} for origin in origins)
    assert packaged["Globals"]["Function"]["Environment"]["Variables"]["WEB_ORIGIN"] == {"Ref": "WebOrigin"}
    [bucket] = _of_type(packaged, "AWS::S3::Bucket").values()
    [rule] = bucket["Properties"]["CorsConfiguration"]["CorsRules"]
    assert (rule["AllowedOrigins"], rule["AllowedMethods"]) == ([{"Ref": "WebOrigin"}], ["PUT"])


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
        if alarm["Properties"].get("MetricName") == "ApproximateNumberOfMessagesVisible"
        and "Fn::GetAtt" in alarm["Properties"]["Dimensions"][0]["Value"]
    }
    working = {name: queue for name, queue in queues.items() if not name.endswith("DeadLetterQueue")}
    assert working
    for name, queue in working.items():
        dead_letters = queue["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        assert dead_letters == f"{name.removesuffix('Queue')}DeadLetterQueue"
        assert dead_letters in queues
        assert dead_letters in alarmed


def test_registration_attempts_per_address_are_capped_by_a_firewall_on_the_api(
    packaged: dict[str, Any],
) -> None:
    """The app caps refusals per account; an address making accounts by the thousand meets WAF."""
    (firewall,) = _of_type(packaged, "AWS::WAFv2::WebACL").values()
    (rule,) = firewall["Properties"]["Rules"]
    limit = rule["Statement"]["RateBasedStatement"]
    assert (limit["AggregateKeyType"], limit["Limit"]) == ("IP", {"Ref": "RegistrationsPerAddress"})
    assert limit["ScopeDownStatement"]["ByteMatchStatement"]["SearchString"] == "/v1/registrations"
    blocked = rule["Action"]["Block"]["CustomResponse"]
    body = firewall["Properties"]["CustomResponseBodies"][blocked["CustomResponseBodyKey"]]
    assert (blocked["ResponseCode"], json.loads(body["Content"])["error"]["code"]) == (429, "THROTTLED")
    (association,) = _of_type(packaged, "AWS::WAFv2::WebACLAssociation").values()
    assert "${RestAPI}/stages/api" in association["Properties"]["ResourceArn"]["Fn::Sub"]


def test_a_stalled_import_raises_an_alarm(packaged: dict[str, Any]) -> None:
    alarms = _of_type(packaged, "AWS::CloudWatch::Alarm").values()
    stalled = [alarm for alarm in alarms if alarm["Properties"].get("MetricName") == "ImportsStalled"]
    assert stalled and stalled[0]["Properties"]["AlarmActions"] == [{"Ref": "AlertsTopic"}]


def test_every_queue_consumer_reports_its_failed_messages_alone(packaged: dict[str, Any]) -> None:
    """The consumers answer with Powertools' partial batch response (`core.jobs.each_message`),
    which Lambda reads only where the event source mapping says so; Chalice cannot say it."""
    from app import app

    consumers = [source.name for source in app.event_sources if hasattr(source, "queue")]
    assert consumers
    for function in packaged["Resources"].values():
        for event in function.get("Properties", {}).get("Events", {}).values():
            if event["Type"] == "SQS":
                assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
                assert event["Properties"]["BatchSize"] > 1
    sqs_events = [
        event
        for function in packaged["Resources"].values()
        for event in function.get("Properties", {}).get("Events", {}).values()
        if event["Type"] == "SQS"
    ]
    assert len(sqs_events) == len(consumers)


def test_each_partner_is_sent_at_most_the_requests_it_allows_at_once(packaged: dict[str, Any]) -> None:
    """One queue and consumer per payment partner, its concurrency capped by the template: the
    partners are reached side by side, none beyond what it allows (docs/INCENTIVES.md)."""
    from chalicelib.incentives.partners import PARTNERS

    capped = {}
    for function in packaged["Resources"].values():
        for event in function.get("Properties", {}).get("Events", {}).values():
            if event["Type"] == "SQS" and "ScalingConfig" in event["Properties"]:
                queue = event["Properties"]["Queue"]["Fn::Sub"].removeprefix("${").removesuffix(".Arn}")
                capped[queue] = event["Properties"]["ScalingConfig"]["MaximumConcurrency"]
    assert capped == {f"Payments{p.capitalize()}Queue": {"Ref": "PartnerConcurrency"} for p in PARTNERS}
    assert packaged["Parameters"]["PartnerConcurrency"]["MinValue"] == 2  # AWS's least


def test_functions_learn_the_real_resource_names_from_the_template(packaged: dict[str, Any]) -> None:
    variables = packaged["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["UPLOAD_BUCKET"] == {"Ref": "UploadBucket"}
    # Only the API verifies tokens; the pool names the sign-up trigger, so Globals may not name the pool.
    api = packaged["Resources"]["APIHandler"]["Properties"]["Environment"]["Variables"]
    assert "UserPool" in api["JWKS_URL"]["Fn::Sub"]
    # Cognito's ID tokens name the app client they were issued to in `aud`: another client's are refused.
    assert api["JWT_AUDIENCE"] == {"Ref": "UserPoolClient"}
    assert "UserPool" not in json.dumps(packaged["Globals"])


def test_every_module_of_the_package_ships_its_bytecode(package_directory: Path) -> None:
    with zipfile.ZipFile(package_directory / "deployment.zip") as package:
        names = set(package.namelist())
        tag = sys.implementation.cache_tag
        modules = [name for name in names if name.endswith(".py")]
        missing = [
            name
            for name in modules
            if f"{name.rpartition('/')[0]}/__pycache__/{Path(name).stem}.{tag}.pyc".lstrip("/") not in names
        ]
        assert len(modules) > 1000
        assert not missing
        header = package.read(f"chalicelib/core/__pycache__/auth.{tag}.pyc")[:8]
    # PEP 552: flags 0b01 is a hash-based pyc whose source is not checked at import.
    assert int.from_bytes(header[4:8], "little") == 0b01


def test_a_cold_start_loads_bytecode_and_compiles_nothing(package_directory: Path, tmp_path: Path) -> None:
    """Lambda's code directory is read-only: a module compiled there is compiled at every cold start.
    With every source of the app made unloadable, `import app` still succeeds, from bytecode alone."""
    with zipfile.ZipFile(package_directory / "deployment.zip") as package:
        package.extractall(tmp_path)
    for source in [tmp_path / "app.py", *(tmp_path / "chalicelib").rglob("*.py")]:
        source.write_text("raise ImportError('compiled from source at a cold start')\n")
    environment = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(tmp_path),
        "PYTHONDONTWRITEBYTECODE": "1",
        "STAGE": "prod",
        "AWS_DEFAULT_REGION": "ap-southeast-3",
    }
    started = subprocess.run(
        [sys.executable, "-c", "import app; print(app.app.app_name)"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
    )
    assert started.returncode == 0, started.stderr
    assert started.stdout.strip() == "prakerja"


def test_the_bundle_ships_the_pinned_botocore_and_no_phone_geodata(package_directory: Path) -> None:
    """Each build ships the same botocore, and the phone library without 42 MB the code never reads."""
    pinned = dict(
        line.split("==")
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if line and not line.startswith("#")
    )
    with zipfile.ZipFile(package_directory / "deployment.zip") as package:
        names = package.namelist()
    assert f"botocore-{pinned['botocore']}.dist-info/METADATA" in names
    assert not [
        name for name in names if name.startswith(("phonenumbers/geodata/", "phonenumbers/carrierdata/"))
    ]
    assert "phonenumbers/__init__.py" in names


def test_the_bundle_carries_no_operator_cli(package_directory: Path) -> None:
    """`make install` puts the `prakerja` CLI beside the app; Lambda gets none of it, nor its libraries."""
    with zipfile.ZipFile(package_directory / "deployment.zip") as package:
        tops = {name.split("/")[0] for name in package.namelist()}
    assert "chalicelib" in tops
    assert not tops & {"prakerja_cli", "typer", "rich", "shellingham", "prakerja_backend.egg-info"}


def test_the_stage_parameter_is_the_stage_packaged(packaged: dict[str, Any]) -> None:
    """Chalice writes the stage into every function (`STAGE`): a stack of another `Stage` is refused."""
    assert packaged["Parameters"]["Stage"]["Default"] == "prod"
    [assertion] = packaged["Rules"]["StageIsThePackagedOne"]["Assertions"]
    assert assertion["Assert"] == {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}
    for name, resource in _of_type(packaged, "AWS::Serverless::Function").items():
        assert resource["Properties"]["Environment"]["Variables"]["STAGE"] == "prod", name
    text = json.dumps({section: body for section, body in packaged.items() if section != "lint"})
    assert "prakerja-dev" not in text and "/prakerja/dev/" not in text


def test_every_function_has_its_own_role_and_a_log_group_that_expires(packaged: dict[str, Any]) -> None:
    functions = _of_type(packaged, "AWS::Serverless::Function")
    roles = {function["Properties"]["Role"]["Fn::GetAtt"][0] for function in functions.values()}
    assert len(roles) == len(functions) == 20
    groups = _of_type(packaged, "AWS::Logs::LogGroup")
    assert all(
        group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"} for group in groups.values()
    )
    for name, function in functions.items():
        assert f"{name}LogGroup" in function["DependsOn"], name  # before Lambda makes one without retention
    statements = [
        statement
        for role in roles
        for policy in packaged["Resources"][role]["Properties"]["Policies"]
        for statement in policy["PolicyDocument"]["Statement"]
    ]
    # Every data action names its resources; only X-Ray has no resource-level permissions, and nor
    # has an SMS that SNS sends straight to a phone number (AWS requires "*" for that Publish).
    unnamed = [s for s in statements if s["Resource"] == "*" and s["Sid"] != "Traces"]
    assert [s for s in unnamed if s["Sid"] != "TextMessages" or s["Action"] != ["sns:Publish"]] == []
    assert not [s for s in statements if any("*" in action for action in s["Action"])]


def test_the_api_gives_up_before_api_gateway_does(packaged: dict[str, Any]) -> None:
    assert packaged["Resources"]["APIHandler"]["Properties"]["Timeout"] < 29
    assert packaged["Globals"]["Api"]["OpenApiVersion"]  # else SAM adds a stage named "Stage"


def test_the_dashboard_shows_every_function_and_names_only_what_exists(packaged: dict[str, Any]) -> None:
    """CloudFormation refuses a dashboard whose body names a resource that is not in the stack (a
    queue renamed, say), and the check runs only at deploy time: moto's accepts it."""
    import re

    body = packaged["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    named = set(re.findall(r"\$\{([A-Za-z0-9]+)(?:\.[A-Za-z]+)?\}", body))
    assert sorted(named - packaged["Resources"].keys()) == []
    functions = _of_type(packaged, "AWS::Serverless::Function")
    assert sorted(functions.keys() - named) == []
