"""Cold start: `import app` in a fresh interpreter against the floor every Lambda pays anyway.

The floor is `import boto3, chalice` plus creating one DynamoDB client: any handler that talks
to DynamoDB pays that. The commands run alternately in fresh interpreters, so a busy machine
slows all alike, and the figure is the ratio of their medians (target: 1.3 or less).

`import app` is timed twice: from the repository, where pip has compiled the dependencies and
only our modules are compiled at each start; and from the deployment package as Lambda loads it
(`chalice package --stage prod`, extracted, no bytecode written), once with sources alone and
once after `infra/precompile.py` has added bytecode, as `make package` does.

    .venv/bin/python -m bench.cold_start [--runs 21]

With `--xray`, what X-Ray costs a cold start instead: `import app` against `import app` plus
Powertools' `Tracer` (which loads the X-Ray SDK and patches botocore), both from the repository.
Lambda's active tracing without the SDK imports nothing into the function: the runtime records
its initialisation and invocation segments itself.

    .venv/bin/python -m bench.cold_start --xray [--runs 21]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP = "import app"
FLOOR = "import boto3, chalice; boto3.client('dynamodb', region_name='ap-southeast-3')"
FLOOR_NAME = "import boto3, chalice + one client"
TRACED = "import app; from aws_lambda_powertools import Tracer; Tracer(service='prakerja')"
TRACED_NAME = "import app + Tracer (X-Ray SDK)"


def _seconds(statement: str, environment: dict[str, str], directory: Path = ROOT) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", statement], cwd=directory, env=environment, check=True)
    return time.perf_counter() - started


def _packages(scratch: Path, environment: dict[str, str]) -> dict[str, Path]:
    """The prod deployment package extracted twice: as `chalice package` writes it, and precompiled."""
    built = scratch / "prod"
    subprocess.run(
        [Path(sys.executable).parent / "chalice", "package", "--stage", "prod", built],
        cwd=ROOT,
        env=environment,
        check=True,
        capture_output=True,
    )
    with zipfile.ZipFile(built / "deployment.zip") as package:
        package.extractall(scratch / "sources")
    subprocess.run([sys.executable, "infra/precompile.py", built], cwd=ROOT, check=True, capture_output=True)
    with zipfile.ZipFile(built / "deployment.zip") as package:
        package.extractall(scratch / "bytecode")
    shutil.rmtree(built)
    return {"sources": scratch / "sources", "bytecode": scratch / "bytecode"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--xray", action="store_true", help="the X-Ray SDK's cost instead of the package's")
    arguments = parser.parse_args()
    runs = arguments.runs
    environment = {
        **os.environ,
        "STAGE": "dev",
        "AWS_DEFAULT_REGION": "ap-southeast-3",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    with tempfile.TemporaryDirectory() as scratch:
        candidates: dict[str, tuple[str, dict[str, str], Path]]
        if arguments.xray:
            candidates = {
                "import app (repository)": (APP, environment, ROOT),
                TRACED_NAME: (TRACED, environment, ROOT),
                FLOOR_NAME: (FLOOR, environment, ROOT),
            }
        else:
            packages = _packages(Path(scratch), {**environment, "STAGE": "prod"})
            # Lambda's runtime brings boto3 (compiled); everything else comes from the package.
            candidates = {
                "import app (repository)": (APP, environment, ROOT),
                **{
                    f"import app (package, {kind})": (APP, {**environment, "PYTHONPATH": str(path)}, path)
                    for kind, path in packages.items()
                },
                FLOOR_NAME: (FLOOR, environment, ROOT),
            }
        times: dict[str, list[float]] = {name: [] for name in candidates}
        for round_ in range(runs + 1):
            for name, (statement, variables, directory) in candidates.items():
                seconds = _seconds(statement, variables, directory)
                if round_:
                    times[name].append(seconds)
    medians = {name: statistics.median(values) * 1000 for name, values in times.items()}
    floor_ms = medians[FLOOR_NAME]
    for name, median in medians.items():
        print(f"{name:40} median {median:6.0f} ms over {runs} runs, ratio {median / floor_ms:.2f}")
    print("target: ratio <= 1.3")


if __name__ == "__main__":
    main()
