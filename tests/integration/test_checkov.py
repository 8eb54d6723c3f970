"""checkov over the packaged template: every finding fixed, or waived beside its resource with a reason.

Waivers live in `infra/resources.json`, as `Metadata.checkov.skip` entries (`id`, `comment`) of the
resource they concern; Chalice's functions get theirs through the fragments merged into them.
checkov pins an old boto3, so it runs from its own virtual environment (`make install` makes it).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.packaged import package_directory

pytestmark = pytest.mark.slow

CHECKOV = Path(__file__).resolve().parents[2] / ".venv-checkov" / "bin" / "checkov"


@pytest.fixture(scope="module")
def findings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    assert CHECKOV.exists(), "no checkov: run `make install`"
    template = package_directory(tmp_path_factory) / "sam.json"
    ran = subprocess.run(
        [CHECKOV, "--file", template, "--framework", "cloudformation", "--output", "json", "--compact"],
        capture_output=True,
        text=True,
        check=False,
    )
    report = json.loads(ran.stdout)
    assert report["check_type"] == "cloudformation", ran.stderr
    results: dict[str, Any] = report["results"]
    return results


def test_checkov_finds_nothing_unwaived_in_the_packaged_template(findings: dict[str, Any]) -> None:
    failed = [
        f"{check['check_id']} {check['resource']}: {check['check_name']}"
        for check in findings["failed_checks"]
    ]
    assert failed == []
    assert findings["passed_checks"]


def test_every_waiver_gives_its_reason(findings: dict[str, Any]) -> None:
    waived = findings["skipped_checks"]
    assert waived
    unexplained = [
        f"{check['check_id']} {check['resource']}"
        for check in waived
        if len(str(check.get("check_result", {}).get("suppress_comment", "")).strip()) < 20
    ]
    assert unexplained == []
