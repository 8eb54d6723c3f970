"""A registration spike through the local HTTP API: 2,000 registrations from 50 concurrent clients.

One in ten reuses another person's NIK, e-mail or phone under a new account. Exactly one of each
clashing pair may succeed (whichever commits first); the other must get the 409 of what they
share; nothing may get a 5xx. Then a retry storm sends every request again: every answer must be
the first one again, and the tables must hold exactly what they held.

    .venv/bin/python -m bench.spike [--registrations 2000] [--clients 50]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import requests

from bench.local_stack import Stack, local_stack
from bench.people import person
from devstack.issuer import LocalIssuer

SHARED = {0: ("nik", "DUPLICATE_NIK"), 1: ("email", "DUPLICATE_EMAIL"), 2: ("phone", "DUPLICATE_PHONE")}
NIK_BOUND = ("nik", "birth_date", "gender", "province_code", "regency_code")

_sessions = threading.local()


def _session() -> requests.Session:
    if not hasattr(_sessions, "session"):
        _sessions.session = requests.Session()
    session: requests.Session = _sessions.session
    return session


def plan(count: int) -> list[dict[str, Any]]:
    """Requests in a shuffled order; a tenth share one value with an earlier, distinct person."""
    duplicates = count // 10
    originals = count - duplicates
    requests_: list[dict[str, Any]] = [
        {"account": f"spike-{i}", "body": person(i), "clash": None} for i in range(originals)
    ]
    for j in range(duplicates):
        victim = j * (originals // duplicates)
        field, code = SHARED[j % 3]
        body = person(originals + j)
        for name in NIK_BOUND if field == "nik" else (field,):
            body[name] = requests_[victim]["body"][name]
        requests_.append({"account": f"spike-dup-{j}", "body": body, "clash": (victim, code)})
    order = list(range(count))
    random.Random(11).shuffle(order)
    return [requests_[index] | {"index": index} for index in order]


def send(stack: Stack, token: str, body: dict[str, Any]) -> tuple[int, str, float]:
    started = time.perf_counter()
    response = _session().post(
        f"{stack.api}/v1/registrations",
        data=json.dumps(body),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        timeout=60,
    )
    elapsed = time.perf_counter() - started
    answer = response.json()
    outcome = answer.get("participant_id") or answer.get("error", {}).get("code", "?")
    return response.status_code, str(outcome), elapsed


def storm(
    stack: Stack, planned: list[dict[str, Any]], tokens: dict[str, str], clients: int
) -> tuple[list[Any], float]:
    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(lambda item: send(stack, tokens[item["account"]], item["body"]), planned))
    return results, time.perf_counter() - started


def table_counts(stack: Stack) -> dict[str, int]:
    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=stack.aws_endpoint,
        region_name="ap-southeast-3",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 (the local endpoint's fake credentials)
    )
    return {
        name: sum(
            page["Count"] for page in dynamodb.get_paginator("scan").paginate(TableName=name, Select="COUNT")
        )
        for name in ("prakerja-local-participants", "prakerja-local-guards")
    }


def check(planned: list[dict[str, Any]], results: list[tuple[int, str, float]]) -> list[str]:
    by_index = {item["index"]: (item, result) for item, result in zip(planned, results, strict=True)}
    problems = [f"{item['account']}: {status}" for item, (status, _, _) in by_index.values() if status >= 500]
    for item, (status, outcome, _) in by_index.values():
        if item["clash"] is None:
            continue
        victim, code = item["clash"]
        victim_status, victim_outcome, _ = by_index[victim][1]
        pair = sorted([(status, outcome), (victim_status, victim_outcome)])
        if pair[0][0] != 201 or pair[1] != (409, code):
            problems.append(f"{item['account']} vs {victim}: {pair}")
    clashing = {item["clash"][0] for item, _ in by_index.values() if item["clash"]}
    for index, (item, (status, _, _)) in by_index.items():
        if item["clash"] is None and index not in clashing and status != 201:
            problems.append(f"{item['account']}: {status}")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--registrations", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=50)
    arguments = parser.parse_args()
    planned = plan(arguments.registrations)
    with local_stack() as stack:
        issuer = LocalIssuer(stack.directory / "devstack" / "keys")
        tokens = {
            item["account"]: issuer.token({"role": "participant", "sub": item["account"]}) for item in planned
        }
        first, seconds = storm(stack, planned, tokens, arguments.clients)
        counts = table_counts(stack)
        again, storm_seconds = storm(stack, planned, tokens, arguments.clients)
        counts_after = table_counts(stack)
    statuses = Counter((status, outcome if status != 201 else "created") for status, outcome, _ in first)
    latencies = sorted(elapsed for _, _, elapsed in first)
    problems = check(planned, first)
    changed = [item["account"] for item, a, b in zip(planned, first, again, strict=True) if a[:2] != b[:2]]
    print(f"{arguments.registrations} registrations from {arguments.clients} clients in {seconds:.1f} s")
    median_ms = statistics.median(latencies) * 1000
    print(f"  {arguments.registrations / seconds:.0f}/s; latency median {median_ms:.0f} ms,")
    print(f"  p95 {latencies[int(len(latencies) * 0.95)] * 1000:.0f} ms; answers {dict(statuses)}")
    errors = sum(status >= 500 for status, _, _ in first)
    print(f"  5xx: {errors}; pair or uniqueness violations: {len(problems)}")
    for problem in problems[:10]:
        print(f"    {problem}")
    print(f"retry storm in {storm_seconds:.1f} s: answers that differ from the first: {len(changed)}")
    verdict = "unchanged" if counts == counts_after else "CHANGED"
    print(f"  items before the storm {counts}, after {counts_after}: {verdict}")


if __name__ == "__main__":
    main()
