"""AWS requests an office's registrations file costs per 1,000 rows, and a killed import's resume.

The real import code (`chalicelib.registration.imports`) runs against in-process moto (with the
local stack's transaction patch, so moto's table size does not dominate), on a file of N distinct
people with one row in twenty a duplicate of an earlier one. Every AWS call is counted by service
and operation as botocore issues it. With `--kills K`, the same file is then imported again on a
fresh moto, killed after K random chunks' work (before their checkpoints) and resumed each time;
its report and the participants it created must equal the uninterrupted run's.

    .venv/bin/python -m bench.imports [--rows 5000] [--kills 3]
"""

from __future__ import annotations

import argparse
import os
import random
import time
from collections import Counter
from typing import Any

import boto3
import botocore.client
from moto import mock_aws

import bench.in_process  # noqa: F401  (the environment, before anything reads it)
from bench.people import OFFICE_COLUMNS, person
from devstack import moto_patches
from devstack.tables import create_queues, create_tables

calls: Counter[str] = Counter()
_original = botocore.client.BaseClient._make_api_call


def _counting(self: Any, operation: str, params: dict[str, Any]) -> Any:
    calls[f"{self.meta.service_model.service_name}:{operation}"] += 1
    return _original(self, operation, params)


def content(rows: int) -> bytes:
    lines = [";".join(OFFICE_COLUMNS)]
    for index in range(rows):
        source = person(index - 1 if index % 20 == 19 else index)
        lines.append(";".join(source[column] for column in OFFICE_COLUMNS))
    return ("\r\n".join(lines) + "\r\n").encode()


def run_import(data: bytes, kills: set[int]) -> tuple[dict[str, int], list[str], int, float]:
    """Import `data` on a fresh moto; killed after the chunks numbered in `kills`, then resumed."""
    with mock_aws():
        create_tables(boto3.client("dynamodb"))
        create_queues(boto3.client("sqs"))
        s3 = boto3.client("s3")
        s3.create_bucket(
            Bucket=os.environ["UPLOAD_BUCKET"],
            CreateBucketConfiguration={"LocationConstraint": "ap-southeast-3"},
        )
        from chalicelib.core.auth import Caller
        from chalicelib.registration.imports import processing as imports
        from chalicelib.registration.imports import upload
        from chalicelib.registration.schemas import ImportRequest
        from chalicelib.registration.stores import imports as store

        batch, _ = upload.request_import(
            ImportRequest(kind="registrations", filename="bench.csv"),
            Caller(sub="dinas", role="office", province="31"),
        )
        s3.put_object(Bucket=os.environ["UPLOAD_BUCKET"], Key=batch.upload_key, Body=data)
        original, chunks = imports._next_chunk, [0]

        def killable(current: Any) -> Any:
            result = original(current)
            chunks[0] += 1
            if chunks[0] in kills:
                raise KeyboardInterrupt(f"killed after chunk {chunks[0]}")
            return result

        imports._next_chunk = killable  # type: ignore[assignment]
        botocore.client.BaseClient._make_api_call = _counting
        started = time.perf_counter()
        try:
            while True:
                try:
                    imports.continue_import(batch.import_id, lambda: True)
                    break
                except KeyboardInterrupt:
                    continue
        finally:
            seconds = time.perf_counter() - started
            botocore.client.BaseClient._make_api_call = _original
            imports._next_chunk = original
        state = store.import_batch(batch.import_id)
        assert state is not None
        report = s3.get_object(Bucket=os.environ["UPLOAD_BUCKET"], Key=state.report_key)["Body"].read()
        pages = (
            boto3.client("dynamodb")
            .get_paginator("scan")
            .paginate(TableName="prakerja-local-participants", Select="COUNT")
        )
        return state.counts, report.decode().splitlines(), sum(page["Count"] for page in pages), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--kills", type=int, default=0)
    arguments = parser.parse_args()
    moto_patches.apply()
    data = content(arguments.rows)
    counts, report, participants, seconds = run_import(data, set())
    dynamodb = sum(count for name, count in calls.items() if name.startswith("dynamodb:"))
    print(f"{arguments.rows:,} rows: outcomes {counts}, {participants:,} participants, {seconds:.1f} s")
    per_thousand = dynamodb * 1000 / arguments.rows
    print(f"DynamoDB requests: {dynamodb} = {per_thousand:.0f} per 1,000 rows (target <= 120)")
    for name, count in sorted(calls.items()):
        print(f"  {name}: {count}")
    if arguments.kills:
        from chalicelib.registration.imports import processing as imports

        chunk_count = -(-arguments.rows // imports.CHUNK_ROWS)
        kills = set(random.Random(5).sample(range(1, chunk_count), arguments.kills))
        killed = run_import(data, kills)
        same = killed[0] == counts and killed[1] == report and killed[2] == participants
        print(f"killed after chunks {sorted(kills)} and resumed: {killed[0]}, {killed[2]:,} participants")
        print(f"  same outcomes, same report, same participants as the uninterrupted run: {same}")


if __name__ == "__main__":
    main()
