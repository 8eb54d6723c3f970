"""`make package STAGE=prod`: the deployable template and zip of one stage, as AWS will get them.

    python -m infra.package prod build/prod

1. `chalice package --merge-template infra/resources.json`: one SAM template for the whole system.
2. The template's `Stage` parameter pinned to the stage packaged: Chalice writes that stage's
   name (`STAGE`) into the functions, so a deploy with another `Stage` would give them tables and
   queues of another stage. The parameter defaults to it and a rule refuses any other value.
3. The web pages' origin a parameter (`WebOrigin`): Chalice writes the CORS origin it found at
   packaging into API Gateway's generated preflight answers; packaged with a stand-in, each is
   replaced by the parameter, so one package serves whichever site a deploy names. The functions
   read the same parameter at run time (`WEB_ORIGIN`) for the headers of their own answers.
4. Bytecode added to the zip (`infra/precompile.py`): cold starts compile nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from infra.precompile import precompile

ROOT = Path(__file__).resolve().parent.parent
MERGE_TEMPLATE = ROOT / "infra" / "resources.json"
DEFAULT_REGION = "ap-southeast-3"
ORIGIN_STAND_IN = "https://web-origin.invalid"


def chalice_package(stage: str, out: Path) -> Path:
    """`chalice package` alone, into `out`; the template's path. STAGE from the caller's shell never
    reaches the app: the stage's own configuration decides its names."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith("STAGE")}
    environment.setdefault("AWS_DEFAULT_REGION", DEFAULT_REGION)
    environment["WEB_ORIGIN"] = ORIGIN_STAND_IN
    chalice = Path(sys.executable).parent / "chalice"
    subprocess.run(  # noqa: S603 (our own chalice, our own arguments)
        [chalice, "package", "--stage", stage, "--merge-template", MERGE_TEMPLATE, out],
        cwd=ROOT,
        env=environment,
        check=True,
        capture_output=True,
    )
    template = out / "sam.json"
    pin_stage(template, stage)
    parameterise_origin(template)
    return template


def pin_stage(template_path: Path, stage: str) -> None:
    template = json.loads(template_path.read_text(encoding="utf-8"))
    template["Parameters"]["Stage"]["Default"] = stage
    template.setdefault("Rules", {})["StageIsThePackagedOne"] = {
        "Assertions": [
            {
                "Assert": {"Fn::Equals": [{"Ref": "Stage"}, stage]},
                "AssertDescription": f"packaged for the {stage} stage (make package STAGE=...)",
            }
        ]
    }
    template_path.write_text(json.dumps(template, indent=2) + "\n", encoding="utf-8")


def parameterise_origin(template_path: Path) -> None:
    """Every preflight's `'https://web-origin.invalid'` (API Gateway wants the value quoted) becomes
    the `WebOrigin` parameter's."""
    quoted = f"'{ORIGIN_STAND_IN}'"

    def replaced(node: Any) -> Any:
        if node == quoted:
            return {"Fn::Sub": "'${WebOrigin}'"}
        if isinstance(node, dict):
            return {key: replaced(value) for key, value in node.items()}
        if isinstance(node, list):
            return [replaced(value) for value in node]
        return node

    template = replaced(json.loads(template_path.read_text(encoding="utf-8")))
    if ORIGIN_STAND_IN in json.dumps(template):
        raise ValueError(f"{ORIGIN_STAND_IN} left in {template_path} outside a preflight's answer")
    template_path.write_text(json.dumps(template, indent=2) + "\n", encoding="utf-8")


def build(stage: str, out: Path) -> Path:
    template = chalice_package(stage, out)
    precompile(out)
    return template


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    print(f"packaged {build(sys.argv[1], Path(sys.argv[2]))}")  # noqa: T201
