"""Every function of every deployed stage starts with all the settings it needs.

Each stage's environment is built from its packaged template as CloudFormation will build it
(`Globals` under each function's own variables, intrinsics resolved the way the stack resolves
them, parameters as an operator passes them) and every function's settings are loaded from it.
A setting the code needs and the template does not give fails here, not in a Lambda at 3 a.m.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chalicelib.core.settings import settings
from infra.package import chalice_package
from tests.packaged import STAGE as PACKAGED_STAGE
from tests.packaged import package_directory

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT, REGION = "123456789012", "ap-southeast-3"
# What an operator passes at the first deploy (README, "Deploying to AWS").
OPERATOR_PARAMETERS = {
    "RegistryUrl": "https://dukcapil.example.go.id/api",
    "AlertsEmail": "oncall@example.go.id",
    "SenderIdentity": "example.go.id",
    "SenderAddress": "no-reply@example.go.id",
    "PartnersUrl": '{"BNI": "https://bni.example.co.id/prakerja", "OVO": "https://api.ovo.example/prakerja"}',
    "PartnerCallbackBaseUrl": "https://api.prakerja.example.go.id",
    "WebOrigin": "https://prakerja.example.go.id",
}
DEPLOYED_STAGES = sorted(
    stage
    for stage in json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"]
    if stage != "local"
)


@pytest.fixture(scope="module", params=DEPLOYED_STAGES)
def stage_template(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, Any]:
    stage = str(request.param)
    if stage == PACKAGED_STAGE:
        path = package_directory(tmp_path_factory) / "sam.json"
    else:
        path = chalice_package(stage, tmp_path_factory.mktemp(stage))
    return stage, json.loads(path.read_text())


class Stack:
    """The values CloudFormation gives the intrinsics of a stack of this template."""

    def __init__(self, template: dict[str, Any], stage: str) -> None:
        self.resources = template["Resources"]
        parameters = template["Parameters"]
        missing = [
            name
            for name, spec in parameters.items()
            if "Default" not in spec and name not in OPERATOR_PARAMETERS
        ]
        assert not missing, (
            f"parameters without a default that the README does not tell an operator to pass: {missing}"
        )
        self.values = {name: str(spec.get("Default", "")) for name, spec in parameters.items()}
        self.values |= OPERATOR_PARAMETERS | {"Stage": stage}
        self.values |= {
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }

    def resolve(self, value: Any) -> str:
        if isinstance(value, str):
            return value
        if "Ref" in value:
            return self.reference(value["Ref"])
        if "Fn::Sub" in value:
            return re.sub(r"\$\{([^}]+)\}", lambda match: self.reference(match.group(1)), value["Fn::Sub"])
        if "Fn::GetAtt" in value:
            return self.reference(".".join(value["Fn::GetAtt"]))
        raise AssertionError(f"an environment variable CloudFormation cannot resolve here: {value!r}")

    def reference(self, name: str) -> str:
        if name in self.values:
            return self.values[name]
        logical_id, _, attribute = name.partition(".")
        assert logical_id in self.resources, f"{name} names no resource of the template"
        kind = self.resources[logical_id].get("Type", "")
        return f"{kind}:{logical_id}:{attribute or 'Ref'}"  # a stand-in for the physical id


def environments(template: dict[str, Any], stage: str) -> Iterator[tuple[str, bool, dict[str, str]]]:
    """(function, whether it serves the API, the environment Lambda gives it)."""
    stack = Stack(template, stage)
    shared = template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        own = resource["Properties"].get("Environment", {}).get("Variables", {})
        variables = {name: stack.resolve(value) for name, value in {**shared, **own}.items()}
        yield logical_id, resource["Properties"]["Handler"] == "app.app", variables


@pytest.fixture
def load(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Settings as a cold Lambda container with exactly `variables` loads them."""

    def with_environment(variables: dict[str, str]) -> Any:
        for name in list(__import__("os").environ):
            if not name.startswith(("PYTEST", "PATH", "HOME", "PYTHON", "COV_", "AWS_CALLS")):
                monkeypatch.delenv(name)
        for name, value in {**variables, "AWS_REGION": REGION}.items():
            monkeypatch.setenv(name, value)
        settings.cache_clear()
        return settings()

    yield with_environment
    monkeypatch.undo()
    settings.cache_clear()


def test_every_function_of_every_stage_has_every_setting_it_needs(
    stage_template: tuple[str, Any], load: Any
) -> None:
    stage, template = stage_template
    queues = [
        resource["Properties"]["QueueName"]["Fn::Sub"]
        .removeprefix("prakerja-${Stage}-")
        .upper()
        .replace("-", "_")
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::SQS::Queue" and not name.endswith("DeadLetterQueue")
    ]
    checked = 0
    for function, serves_api, variables in environments(template, stage):
        loaded = load(variables)
        assert loaded.stage == stage, function
        assert loaded.missing(serves_api=serves_api) == [], f"{stage}: {function} lacks these"
        # Without its URL, a queue is looked up by name: a call no policy grants.
        assert [queue for queue in queues if f"{queue}_QUEUE_URL" not in variables] == [], function
        for parameter in (loaded.hash_key_parameter, loaded.registry_key_parameter):
            assert parameter is not None and parameter.startswith(f"/prakerja/{stage}/"), function
        checked += 1
    assert checked >= 9


def test_a_function_without_a_setting_is_found_out(stage_template: tuple[str, Any], load: Any) -> None:
    """The check above is only as good as `missing`: a deployed function without the registry fails it."""
    stage, template = stage_template
    _, serves_api, variables = next(iter(environments(template, stage)))
    del variables["REGISTRY_URL"]

    assert load(variables).missing(serves_api=serves_api) == ["REGISTRY_URL"]


def test_only_the_api_is_given_the_user_pool(stage_template: tuple[str, Any]) -> None:
    stage, template = stage_template
    for function, serves_api, variables in environments(template, stage):
        assert ("JWT_ISSUER" in variables) is serves_api, function
        if serves_api:
            assert variables["JWT_ISSUER"].endswith(":UserPool:Ref") or "UserPool" in variables["JWT_ISSUER"]
