"""Concurrent purchases through the local HTTP API: a balance that covers 3 courses, 20 at once.

Each participant is taken through the programme as it really happens (registration, identity
check, application, selection) on a local stack, then fires `--concurrent` purchases of
different courses at the same moment, each costing `--price`. Exactly `balance // price` may
succeed, every other one must be refused with `INSUFFICIENT_BALANCE`, and the balance must end
at `balance - successes × price`, never below zero.

    .venv/bin/python -m bench.purchases [--participants 10] [--concurrent 20] [--price 300000]
"""

from __future__ import annotations

import argparse
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import requests

from bench.local_stack import Stack, local_stack
from bench.people import person

BALANCE = 1_000_000
PLATFORM = "BENCH_PLATFORM"


def call(stack: Stack, method: str, path: str, token: str | None = None, **options: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.request(method, f"{stack.api}{path}", headers=headers, timeout=60, **options)


def token(stack: Stack, role: str, sub: str, **claims: str) -> str:
    response = call(stack, "POST", "/dev/tokens", json={"role": role, "sub": sub, **claims})
    response.raise_for_status()
    return str(response.json()["token"])


def set_clock(stack: Stack, now: str | None) -> None:
    call(stack, "POST", "/dev/clock", json={"now": now}).raise_for_status()


def run_job(stack: Stack, job: str) -> dict[str, Any]:
    response = call(stack, "POST", f"/dev/jobs/{job}")
    response.raise_for_status()
    summary: dict[str, Any] = response.json()
    return summary


def selected_participants(stack: Stack, count: int, wave_id: str = "BENCH-W1") -> list[str]:
    """`count` people registered, verified, applied and selected in a wave of their own; their tokens."""
    admin = token(stack, "admin", "bench-admin")
    set_clock(stack, "2021-05-30T10:00:00+07:00")
    wave = {
        "wave_id": wave_id,
        "opens_at": "2021-06-01T00:00:00+07:00",
        "closes_at": "2021-06-04T00:00:00+07:00",
        "quota": count,
        "province_quotas": {},
    }
    call(stack, "POST", "/v1/waves", admin, json=wave).raise_for_status()
    tokens = [token(stack, "participant", f"buyer-{index}") for index in range(count)]
    for index, participant in enumerate(tokens):
        call(stack, "POST", "/v1/registrations", participant, json=person(index)).raise_for_status()
    run_job(stack, "verification")
    set_clock(stack, "2021-06-02T10:00:00+07:00")
    for participant in tokens:
        call(stack, "POST", f"/v1/waves/{wave_id}/applications", participant).raise_for_status()
    set_clock(stack, "2021-06-05T10:00:00+07:00")
    call(stack, "POST", f"/v1/waves/{wave_id}/selection", admin).raise_for_status()
    run_job(stack, "selection")
    for participant in tokens:
        assert call(stack, "GET", "/v1/participants/me", participant).json()["status"] == "SELECTED"
    return tokens


def publish_courses(stack: Stack, count: int, price: int) -> list[str]:
    platform = token(stack, "platform", "bench-platform", platform_id=PLATFORM)
    course = {
        "title": "Kursus Uji Beban",
        "institution": "Lembaga Uji",
        "category": "UMUM",
        "price": price,
        "hours": 4,
    }
    ids = [f"BENCH-{index:03d}" for index in range(count)]
    for course_id in ids:
        call(stack, "PUT", f"/v1/platform/courses/{course_id}", platform, json=course).raise_for_status()
    return ids


@dataclass(frozen=True)
class Outcome:
    answers: Counter[str]
    balance: int
    purchases: int


def buy_at_once(stack: Stack, participant: str, course_ids: list[str]) -> Outcome:
    """Every course at the same moment, at the price the catalogue shows (a barrier releases all
    requests together)."""
    barrier = threading.Barrier(len(course_ids))

    shown = {
        course_id: call(stack, "GET", f"/v1/courses/{course_id}").json()["price"] for course_id in course_ids
    }

    def buy(course_id: str) -> str:
        barrier.wait()
        order = {"course_id": course_id, "price": shown[course_id]}
        response = call(stack, "POST", "/v1/purchases", participant, json=order)
        return (
            str(response.status_code)
            if response.ok
            else f"{response.status_code} {response.json()['error']['code']}"
        )

    with ThreadPoolExecutor(len(course_ids)) as pool:
        answers = Counter(pool.map(buy, course_ids))
    record = call(stack, "GET", "/v1/participants/me", participant).json()
    return Outcome(answers, record["balance"], len(record["purchases"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=10)
    parser.add_argument("--concurrent", type=int, default=20)
    parser.add_argument("--price", type=int, default=300_000)
    arguments = parser.parse_args()
    allowed = BALANCE // arguments.price
    with local_stack() as stack:
        tokens = selected_participants(stack, arguments.participants)
        course_ids = publish_courses(stack, arguments.concurrent, arguments.price)
        outcomes = [buy_at_once(stack, participant, course_ids) for participant in tokens]
    wrong = [
        outcome
        for outcome in outcomes
        if outcome.answers["201"] != allowed
        or outcome.answers["409 INSUFFICIENT_BALANCE"] != arguments.concurrent - allowed
        or outcome.balance != BALANCE - allowed * arguments.price
        or outcome.purchases != allowed
    ]
    print(f"{arguments.participants} participants × {arguments.concurrent} concurrent purchases")
    print(f"each course {arguments.price:,}; balance {BALANCE:,} covers {allowed}")
    print(f"answers per participant: {dict(outcomes[0].answers)}")
    print(f"lowest final balance: {min(outcome.balance for outcome in outcomes):,}")
    print(f"participants with other than exactly {allowed} purchases and the right balance: {len(wrong)}")
    if wrong:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
