"""Registration latency through the local HTTP API with 1,000 and with 100,000 participants loaded.

The local stack must stay usable at the programme's size: moto's transactions grow with the
tables unless patched (`devstack/moto_patches.py`). Sequential registrations, one client.

    .venv/bin/python -m bench.size [--small 1000] [--large 100000] [--samples 200]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import requests

from bench.local_stack import Stack, local_stack
from bench.people import person
from devstack import seed
from devstack.issuer import LocalIssuer


def latency_ms(stack: Stack, issuer: LocalIssuer, first: int, samples: int) -> tuple[float, int]:
    session = requests.Session()
    times, created = [], 0
    for index in range(first, first + samples):
        token = issuer.token({"role": "participant", "sub": f"size-{index}"})
        started = time.perf_counter()
        response = session.post(
            f"{stack.api}/v1/registrations",
            data=json.dumps(person(index)),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            timeout=60,
        )
        times.append(time.perf_counter() - started)
        created += response.status_code == 201
    return statistics.median(times) * 1000, created


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=200)
    arguments = parser.parse_args()
    with local_stack() as stack:
        issuer = LocalIssuer(stack.directory / "devstack" / "keys")
        seed.main(["--participants", str(arguments.small), "--endpoint", stack.aws_endpoint])
        small, small_created = latency_ms(stack, issuer, 0, arguments.samples)
        started = time.perf_counter()
        seed.main(["--participants", str(arguments.large), "--endpoint", stack.aws_endpoint])
        seeding = time.perf_counter() - started
        large, large_created = latency_ms(stack, issuer, arguments.samples, arguments.samples)
    print(f"with {arguments.small:,} participants: median {small:.1f} ms ({small_created} created)")
    print(f"with {arguments.large:,} participants: median {large:.1f} ms ({large_created} created)")
    print(f"ratio {large / small:.2f} (target <= 1.5); seeding to {arguments.large:,} took {seeding:.0f} s")


if __name__ == "__main__":
    main()
