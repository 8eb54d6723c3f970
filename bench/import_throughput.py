"""An office's registrations file through the import handler: our rows per second against the SDK's.

The `import_batches` queue consumer gets the upload's S3 notification, as in AWS, with a Lambda
context of its configured 15 minutes, and runs until the import is DONE (handing itself
continuations if it runs out of time). AWS is `bench.aws_stub`, a zero-latency stub at botocore's
HTTP layer. Every AWS call the handler makes is recorded, then replayed alone on fresh boto3
clients against the same stub (a `GetObject` reads as many bytes of its body as the handler did).
The ratio is (rows / handler seconds) / (rows / replay seconds); runs alternate handler and
replay, so that both see the machine in the same state.

With `--local-stack`, the same file goes through the local stack instead (moto in server mode,
the relay delivering S3's notification): the wall time from the presigned PUT to status DONE.

    .venv/bin/python -m bench.import_throughput [--rows 100000] [--runs 3] [--local-stack]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

STUB_ENVIRONMENT = {
    "STAGE": "local",
    "HASH_KEY": "bench",
    "AWS_ACCESS_KEY_ID": "stub",
    "AWS_SECRET_ACCESS_KEY": "stub",
    "AWS_DEFAULT_REGION": "ap-southeast-3",
    "AWS_REGION": "ap-southeast-3",
    "UPLOAD_BUCKET": "prakerja-local-uploads-123456789012",
    "IMPORTS_QUEUE_URL": "http://127.0.0.1:9/123456789012/prakerja-local-imports",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    # A 1,000,000-row file is about 130 MB, over the 50 MB an office may upload (bench.import_memory).
    "MAX_IMPORT_BYTES": str(1024**3),
}

IMPORT_SECONDS = 900


def write_file(path: Path, rows: int) -> int:
    """N distinct people, semicolon-separated as Excel writes it; every twentieth row repeats the one
    before it (a DUPLICATE). Written line by line: a 1,000,000-row file never sits in memory."""
    from bench.people import OFFICE_COLUMNS, person

    with path.open("w", encoding="utf-8", newline="") as file:
        file.write(";".join(OFFICE_COLUMNS) + "\r\n")
        for index in range(rows):
            source = person(index - 1 if index % 20 == 19 else index)
            file.write(";".join(str(source[column]) for column in OFFICE_COLUMNS) + "\r\n")
    return path.stat().st_size


def notification(key: str) -> dict[str, Any]:
    """The SQS event Lambda gives the consumer for S3's notification of the upload."""
    body = {
        "Records": [{"eventName": "ObjectCreated:Put", "s3": {"object": {"key": key.replace("/", "%2F")}}}]
    }
    return _sqs_event(body)


def _sqs_event(body: dict[str, Any]) -> dict[str, Any]:
    import json

    record = {
        "messageId": "m",
        "receiptHandle": "r",
        "body": json.dumps(body),
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {},
        "md5OfBody": "-",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:ap-southeast-3:123456789012:prakerja-local-imports",
        "awsRegion": "ap-southeast-3",
    }
    return {"Records": [record]}


def run_handler(stub: Any, source: Path) -> tuple[float, dict[str, int], int]:
    """One import of `source` through the consumer, from notification to DONE: seconds, outcome
    counts, invocations."""
    from chalice.local import LambdaContext

    from app import app
    from chalicelib.core.auth import Caller
    from chalicelib.registration.imports import upload
    from chalicelib.registration.schemas import ImportRequest
    from chalicelib.registration.stores import imports as store

    batch, _ = upload.request_import(
        ImportRequest(kind="registrations", filename="bench.csv"),
        Caller(sub="dinas", role="office", province="31"),
    )
    stub.put_file(batch.upload_key, source)
    handler = app.handler_map["import_batches"]
    event: dict[str, Any] | None = notification(batch.upload_key)
    invocations = 0
    started = time.perf_counter()
    while event is not None:
        context = LambdaContext("import_batches", memory_size=1024, max_runtime_ms=IMPORT_SECONDS * 1000)
        summaries = handler(event, context)
        invocations += 1
        # The consumer sent itself a continuation (to the stub): deliver it, as SQS would.
        event = _sqs_event({"import_id": batch.import_id}) if any(s.get("more") for s in summaries) else None
    seconds = time.perf_counter() - started
    state = store.import_batch(batch.import_id)
    assert state is not None and state.status.value == "DONE", state
    return seconds, dict(state.counts), invocations


def _throughput(rows: int, runs: int) -> None:
    import boto3
    import botocore.client
    from botocore.config import Config
    from botocore.exceptions import ClientError

    from bench.aws_stub import AwsStub, FileRange

    directory = Path(tempfile.mkdtemp(prefix="prakerja-import-bench-"))
    source = directory / "upload.csv"
    size = write_file(source, rows)
    stub = AwsStub(directory / "s3")
    stub.install()
    original = botocore.client.BaseClient._make_api_call
    recorded: list[tuple[str, str, dict[str, Any], FileRange | None]] = []

    def recording(client: Any, operation: str, params: dict[str, Any]) -> Any:
        # A copy taken before the call: botocore adds to the parameters it is given.
        entry = (client.meta.service_model.service_name, operation, dict(params))
        result = original(client, operation, params)
        body = result.get("Body") if operation == "GetObject" else None
        recorded.append((*entry, getattr(body, "_raw_stream", None)))
        return result

    clients = {
        "dynamodb": boto3.client("dynamodb"),
        "s3": boto3.client("s3", config=Config(signature_version="s3v4")),
        "sqs": boto3.client("sqs"),
    }

    def replay() -> float:
        started = time.perf_counter()
        for service, operation, params, body in recorded:
            try:
                result = original(clients[service], operation, params)
            except ClientError:
                continue
            if body is not None:
                left = body.consumed
                while left > 0 and (chunk := result["Body"].read(min(left, 64 * 1024))):
                    left -= len(chunk)
        return time.perf_counter() - started

    print(f"{rows:,} rows, {size / 1e6:.1f} MB; {runs} runs, handler and replay alternating")
    ratios = []
    for run in range(1, runs + 1):
        recorded.clear()
        botocore.client.BaseClient._make_api_call = recording
        try:
            handler_seconds, counts, invocations = run_handler(stub, source)
        finally:
            botocore.client.BaseClient._make_api_call = original
        replay_seconds = replay()
        ratios.append(replay_seconds / handler_seconds)
        by_operation = Counter(f"{service}:{operation}" for service, operation, _, _ in recorded)
        print(
            f"run {run}: handler {handler_seconds:.1f} s ({rows / handler_seconds:,.0f} rows/s, "
            f"{invocations} invocation(s)); its {len(recorded):,} AWS calls alone {replay_seconds:.1f} s "
            f"({rows / replay_seconds:,.0f} rows/s); ratio {ratios[-1]:.2f}"
        )
        if run == 1:
            print(f"  outcomes {counts}")
            print("  calls: " + ", ".join(f"{name} {count}" for name, count in sorted(by_operation.items())))
    shutil.rmtree(directory)
    print(
        f"ratio (handler rows/s over its AWS calls' rows/s): median {statistics.median(ratios):.2f}",
        "(target >= 0.5)",
    )


def _through_local_stack(rows: int) -> None:
    import requests

    from bench.local_stack import local_stack
    from devstack.issuer import LocalIssuer

    directory = Path(tempfile.mkdtemp(prefix="prakerja-import-bench-"))
    source = directory / "upload.csv"
    size = write_file(source, rows)
    with local_stack() as stack:
        issuer = LocalIssuer(stack.directory / "devstack" / "keys")
        headers = {
            "Authorization": f"Bearer {issuer.token({'role': 'office', 'sub': 'dinas', 'province': '31'})}",
            "Content-Type": "application/json",
        }
        answer = requests.post(
            f"{stack.api}/v1/imports",
            json={"kind": "registrations", "filename": "bench.csv"},
            headers=headers,
            timeout=30,
        )
        answer.raise_for_status()
        import_id, link = answer.json()["import_id"], answer.json()["upload_url"]
        started = time.perf_counter()
        with source.open("rb") as data:
            requests.put(
                link, data=data, headers={"Content-Type": "text/csv"}, timeout=300
            ).raise_for_status()
        uploaded = time.perf_counter() - started
        while True:
            state = requests.get(f"{stack.api}/v1/imports/{import_id}", headers=headers, timeout=30).json()
            if state["status"] in ("DONE", "REJECTED"):
                break
            time.sleep(1.0)
        seconds = time.perf_counter() - started
    shutil.rmtree(directory)
    print(f"{rows:,} rows, {size / 1e6:.1f} MB through the local stack: {state['status']} {state['counts']}")
    print(f"  upload {uploaded:.1f} s; presigned PUT to DONE {seconds:.1f} s ({rows / seconds:,.0f} rows/s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--local-stack", action="store_true", help="wall time through the local stack instead"
    )
    arguments = parser.parse_args()
    if arguments.local_stack:
        _through_local_stack(arguments.rows)
    else:
        os.environ.update(STUB_ENVIRONMENT)
        for variable in [name for name in os.environ if name.startswith("AWS_ENDPOINT_URL_")]:
            del os.environ[variable]
        _throughput(arguments.rows, arguments.runs)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
