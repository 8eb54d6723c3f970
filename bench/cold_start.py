"""Cold start: `import app` in a fresh interpreter against the floor every Lambda pays anyway.

The floor is `import boto3, chalice` plus creating one DynamoDB client: any handler that talks
to DynamoDB pays that. The two commands run alternately in fresh interpreters, so a busy
machine slows both alike, and the figure is the ratio of their medians (target: 1.3 or less).

    .venv/bin/python -m bench.cold_start [--runs 21]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP = "import app"
FLOOR = "import boto3, chalice; boto3.client('dynamodb', region_name='ap-southeast-3')"


def _seconds(statement: str, environment: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", statement], cwd=ROOT, env=environment, check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    runs = parser.parse_args().runs
    environment = {
        **os.environ,
        "STAGE": "dev",
        "AWS_DEFAULT_REGION": "ap-southeast-3",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    _seconds(APP, environment)
    _seconds(FLOOR, environment)
    app_times, floor_times = [], []
    for _ in range(runs):
        app_times.append(_seconds(APP, environment))
        floor_times.append(_seconds(FLOOR, environment))
    app_ms, floor_ms = statistics.median(app_times) * 1000, statistics.median(floor_times) * 1000
    print(f"import app                          median {app_ms:6.0f} ms over {runs} runs")
    print(f"import boto3, chalice + one client  median {floor_ms:6.0f} ms over {runs} runs")
    print(f"ratio {app_ms / floor_ms:.2f} (target <= 1.3)")


if __name__ == "__main__":
    main()
