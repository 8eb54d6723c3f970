"""What one registration costs: DynamoDB write units, AWS round trips, hot keys, and our own CPU.

AWS is answered by a zero-latency stub at botocore's HTTP layer (every request gets `{}` back at
once), so the SDK still builds, signs and parses every call, and nothing else is timed. The app
runs in-process through Chalice's test client, token and all.

- write cost: from the recorded `TransactWriteItems`, 2 units per KB for every item (DynamoDB's
  price for a transactional write) and the same again for every index entry the items create;
- round trips: AWS calls per registration, in sequence;
- hot keys: the most often written item (and index partition) over N registrations;
- overhead: median time of a registration through the app divided by the median time of
  issuing just its AWS calls (same parameters, fresh boto3 client) against the same stub.

    .venv/bin/python -m bench.registration [--registrations 2000]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

os.environ.update(
    {
        "STAGE": "local",
        "JWT_ISSUER": "prakerja-local",
        "HASH_KEY": "bench",
        "AWS_ACCESS_KEY_ID": "stub",
        "AWS_SECRET_ACCESS_KEY": "stub",
        "AWS_DEFAULT_REGION": "ap-southeast-3",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    }
)

import boto3
import botocore.client
import botocore.config
import botocore.endpoint
from botocore.awsrequest import AWSResponse

from bench.people import person
from devstack.issuer import LocalIssuer

INDEX_KEYS = ("gsi1pk", "gsi2pk")


class _Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> Any:
        yield self.data


def _stubbed_send(self: Any, request: Any) -> AWSResponse:
    headers = {"x-amzn-RequestId": "stub", "Content-Type": "application/x-amz-json-1.0"}
    return AWSResponse(request.url, 200, headers, _Body(b"{}"))


calls: list[tuple[str, dict[str, Any]]] = []
_original_call = botocore.client.BaseClient._make_api_call


def _recording_call(self: Any, operation: str, params: dict[str, Any]) -> Any:
    calls.append((operation, params))
    return _original_call(self, operation, params)


def item_kb(item: dict[str, Any]) -> int:
    """DynamoDB's size of an item: attribute names plus values, rounded up to whole KB."""
    size = sum(len(name) + len(json.dumps(value)) for name, value in item.items())
    return max(1, math.ceil(size / 1024))


def _count_writes(
    recorded: list[tuple[str, dict[str, Any]]], writes: Counter[str], index_writes: Counter[str]
) -> int:
    """Write units of one registration's calls; tallies the items and index keys written."""
    total = 0
    for operation, params in recorded:
        assert operation == "TransactWriteItems", operation
        for entry in params["TransactItems"]:
            put = entry["Put"]
            kb = item_kb(put["Item"])
            total += 2 * kb
            writes[put["TableName"] + json.dumps(put["Item"]["pk"])] += 1
            for key in INDEX_KEYS:
                if key in put["Item"]:
                    total += 2 * kb
                    index_writes[put["TableName"] + key + json.dumps(put["Item"][key])] += 1
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--registrations", type=int, default=2000)
    count = parser.parse_args().registrations
    issuer = LocalIssuer(Path(tempfile.mkdtemp()))
    os.environ["JWKS_URL"] = issuer.jwks_url
    botocore.endpoint.Endpoint._send = _stubbed_send
    botocore.client.BaseClient._make_api_call = _recording_call

    from chalice.test import Client

    from app import app

    tokens = [issuer.token({"role": "participant", "sub": f"account-{index}"}) for index in range(count)]
    bodies = [json.dumps(person(index)) for index in range(count)]
    dynamodb = boto3.client("dynamodb", region_name="ap-southeast-3")
    # PynamoDB's own client skips botocore's parameter validation: the app's SDK work is this one's.
    unvalidated = boto3.client(
        "dynamodb", region_name="ap-southeast-3", config=botocore.config.Config(parameter_validation=False)
    )
    app_times, sdk_times, lean_times, units = [], [], [], []
    trips: Counter[int] = Counter()
    writes: Counter[str] = Counter()
    index_writes: Counter[str] = Counter()
    with Client(app, stage_name="local") as client:
        for index in range(count):
            calls.clear()
            headers = {"Authorization": f"Bearer {tokens[index]}", "Content-Type": "application/json"}
            started = time.perf_counter()
            response = client.http.post("/v1/registrations", headers=headers, body=bodies[index])
            app_times.append(time.perf_counter() - started)
            assert response.status_code == 201, response.body
            # The same calls straight away, so that both timings see the machine in the same state.
            started = time.perf_counter()
            for operation, params in calls:
                _original_call(dynamodb, operation, params)
            sdk_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            for operation, params in calls:
                _original_call(unvalidated, operation, params)
            lean_times.append(time.perf_counter() - started)
            trips[len(calls)] += 1
            units.append(_count_writes(calls, writes, index_writes))

    app_ms, sdk_ms = statistics.median(app_times) * 1000, statistics.median(sdk_times) * 1000
    lean_ms = statistics.median(lean_times) * 1000
    print(f"registrations: {count}")
    print(f"AWS round trips per registration: {dict(trips)} (all TransactWriteItems)")
    print(f"write units per registration: max {max(units)}, median {statistics.median(units)} (target <= 10)")
    print(f"most writes to one item: {max(writes.values())} (limit N/100 = {count / 100:.0f})")
    print(
        f"most writes to one index partition key: {max(index_writes.values())} over {len(index_writes)} keys"
    )
    print(f"registration through the app: median {app_ms:.2f} ms")
    print(f"its AWS calls alone:           median {sdk_ms:.2f} ms")
    print(f"the same without parameter validation (as PynamoDB's client): median {lean_ms:.2f} ms")
    print(f"overhead ratio {app_ms / sdk_ms:.2f} (target <= 2)")
    print(f"overhead ratio against the unvalidated client {app_ms / lean_ms:.2f}")


if __name__ == "__main__":
    main()
