"""Selection at the programme's size: 100,000 applicants of one wave over every province.

Runs the real selection code (`chalicelib.registration.selection`) against the in-memory store
of `devstack/fakes.py`, which keeps DynamoDB's contract and counts the items selection reads and
writes. Checks: province quotas exact, family cap held, the same seed gives the same set, a run
killed at three random points and resumed gives the same set, and items read per applicant.

    .venv/bin/python -m bench.selection [--applicants 100000] [--seed 7]
"""

from __future__ import annotations

import argparse
import os
import random
import time
from collections import Counter
from datetime import UTC, date, datetime

os.environ.setdefault("STAGE", "local")
os.environ.setdefault("HASH_KEY", "bench")

from chalicelib.core.provinces import province_names
from chalicelib.core.settings import programme
from chalicelib.registration import selection
from chalicelib.registration.model import Participant, Status, Verification, Wave
from chalicelib.registration.service import rank_in
from devstack.fakes import InMemorySelectionStore


def applicants(count: int, rng: random.Random) -> list[Participant]:
    provinces = [code for code, name in province_names().items() if code < "93"]
    weights = [30 if code in {"31", "32", "35", "33"} else 3 for code in provinces]
    people = []
    families = [f"{rng.choice(provinces)}{index:014d}" for index in range(count // 3)]
    for index in range(count):
        province = rng.choices(provinces, weights)[0]
        people.append(
            Participant(
                participant_id=f"{rng.getrandbits(128):032x}",
                nik=f"{province}{index:014d}",
                kk_number=rng.choice(families) if rng.random() < 0.3 else f"K{index}",
                full_name="-",
                birth_date=date(1990, 1, 1),
                gender="M",
                email=None,
                phone="-",
                province_code=province,
                regency_code=province + "01",
                education="SMA",
                employment_status="UNEMPLOYED",
                declarations={},
                registered_at=datetime(2021, 5, 1, tzinfo=UTC),
                registered_by="bench",
                channel="ONLINE",
                fingerprint="-",
                status=Status.APPLIED,
                verification=Verification.NIK_VERIFIED if rng.random() < 0.95 else Verification.PENDING,
                wave_id="W1",
                cohorts=("PURNA_PMI",) if rng.random() < 0.05 else (),
            )
        )
    return people


def make_store(wave: Wave, people: list[Participant]) -> InMemorySelectionStore:
    ranks = {person.participant_id: rank_in(wave, person.participant_id) for person in people}
    priority = {person.participant_id for person in people if person.cohorts}
    return InMemorySelectionStore(wave, people, ranks, priority)


def run(store: InMemorySelectionStore, wave: Wave, kills: list[int] | None = None) -> None:
    pending = sorted(kills or [])
    for pool in wave.pools():
        while True:
            store.fail_after = pending[0] if pending else None
            try:
                if selection.select_pool(store, wave, pool).done:
                    break
            except KeyboardInterrupt:
                pending.pop(0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applicants", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    arguments = parser.parse_args()
    rng = random.Random(arguments.seed)
    people = applicants(arguments.applicants, rng)
    per_province = Counter(person.province_code for person in people)
    quotas = {code: count * 3 // 10 for code, count in per_province.items()}
    wave = Wave(
        "W1",
        datetime(2021, 6, 1, tzinfo=UTC),
        datetime(2021, 6, 4, tzinfo=UTC),
        sum(quotas.values()),
        quotas,
        seed="a1" * 16,
    )

    started = time.perf_counter()
    first = make_store(wave, people)
    run(first, wave)
    seconds = time.perf_counter() - started
    chosen = first.selected()
    by_province = Counter(first.people[pid].province_code for pid in chosen)
    exact = all(by_province[code] == quota for code, quota in quotas.items())
    families = Counter(first.people[pid].kk_number for pid in chosen)
    cap_held = max(families.values()) <= programme().family_cap
    unverified = sum(first.people[pid].verification is not Verification.NIK_VERIFIED for pid in chosen)

    again = make_store(wave, people)
    run(again, wave)
    other_seed = make_store(Wave(**{**wave.__dict__, "seed": "b2" * 16}), people)
    run(other_seed, Wave(**{**wave.__dict__, "seed": "b2" * 16}))
    kills = sorted(rng.sample(range(1, len(people)), 3))
    killed = make_store(wave, people)
    run(killed, wave, kills)

    print(
        f"applicants {len(people):,} in {len(quotas)} provinces; selected {len(chosen):,} in {seconds:.1f} s"
    )
    largest = max(families.values())
    print(f"province quotas exact: {exact}; family cap held: {cap_held} (largest family {largest})")
    print(f"unverified selected: {unverified}")
    print(f"same seed, same set: {again.selected() == chosen}")
    print(f"another seed, another set: {other_seed.selected() != chosen}")
    print(f"killed after decisions {kills} and resumed, same set: {killed.selected() == chosen}")
    print(f"items read {first.items_read:,} = {first.items_read / len(people):.2f} per applicant of the wave")
    print(f"items written {first.items_written:,} = {first.items_written / len(people):.2f} per applicant")


if __name__ == "__main__":
    main()
