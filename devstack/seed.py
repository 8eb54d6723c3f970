"""Fill the running local stack with registered participants, so it is tried at a realistic size.

Usage: `python -m devstack.seed --participants N [--endpoint URL] [--stage local] [--seed S]`.

Each participant is what registration leaves behind: a profile in the participants table and
one guard item per unique personal value (NIK, e-mail, phone, account subject) in the guards
table, keyed by `chalicelib.core.storage.pii_key` exactly as the app keys them, so a registration
attempted against seeded data collides where it should. Items go in by BatchWriteItem (25 a
request, from a few threads): writing them one by one through the API would take hours at
the sizes the local stack must be tried at.

The same `--seed` (and `--as-of` date) always produces the same people, so a problem seen on
seeded data can be reproduced; seed a stack once, or again with the same seed. The benchmark
(`bench/local_transactions.py`) reuses the generator and the writer.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from itertools import islice
from pathlib import Path
from typing import Any

DESCRIPTION = "Fill the running local stack with registered participants."
PROJECT_DIR = Path(__file__).resolve().parent.parent
PROVINCES_CSV = PROJECT_DIR / "chalicelib" / "core" / "provinces.csv"
CHALICE_CONFIG = PROJECT_DIR / ".chalice" / "config.json"
DEFAULT_ENDPOINT = "http://127.0.0.1:5000"
REGION = "ap-southeast-3"
BATCH_SIZE = 25
GUARD_KINDS = ("NIK", "EMAIL", "PHONE")
ITEMS_PER_PARTICIPANT = 1 + len(GUARD_KINDS)
PARTICIPANTS_PER_BATCH = BATCH_SIZE // ITEMS_PER_PARTICIPANT

Item = dict[str, Any]

MALE_NAMES = (
    "Agus", "Ahmad", "Andi", "Arif", "Bambang", "Budi", "Dedi", "Dimas", "Eko", "Fajar", "Hendra",
    "Ilham", "Joko", "Made", "Muhammad", "Nyoman", "Putu", "Rahmat", "Rizky", "Slamet", "Sutrisno",
    "Taufik", "Teguh", "Wahyu", "Yusuf",
)  # fmt: skip
FEMALE_NAMES = (
    "Ani", "Ayu", "Dewi", "Dian", "Eka", "Fitri", "Indah", "Kadek", "Lestari", "Maya", "Nur",
    "Putri", "Rina", "Sari", "Siti", "Sri", "Tuti", "Wati", "Wulan", "Yuni", "Ratna", "Nurul",
    "Kartika", "Lina", "Mega",
)  # fmt: skip
FAMILY_NAMES = (
    "Hidayat", "Kurniawan", "Lubis", "Nasution", "Pratama", "Purnomo", "Saputra", "Setiawan",
    "Siregar", "Simanjuntak", "Sinaga", "Susanto", "Wibowo", "Wijaya", "Gunawan", "Hasibuan",
    "Harahap", "Rahayu", "Utami", "Permata", "Maharani", "Syahputra", "Nugroho", "Firmansyah",
    "Hakim", "Sitompul", "Manurung", "Pohan", "Ramadhan", "Wardhani",
)  # fmt: skip
MAIL_DOMAINS = ("gmail.com", "yahoo.co.id", "yahoo.com", "outlook.com", "ymail.com")
MOBILE_PREFIXES = ("811", "812", "813", "821", "822", "823", "852", "853", "857", "858", "877", "878",
                   "881", "882", "895", "896", "897", "898")  # fmt: skip
EDUCATION = (("SD", 10), ("SMP", 15), ("SMA", 35), ("SMK", 20), ("D3", 6), ("S1", 13), ("S2", 1))
EMPLOYMENT = (("UNEMPLOYED", 45), ("LAID_OFF", 20), ("EMPLOYED", 20), ("SELF_EMPLOYED", 15))


@dataclass(frozen=True)
class Participant:
    index: int
    nik: str
    kk_number: str
    full_name: str
    birth_date: date
    gender: str
    email: str
    phone: str
    province_code: str
    regency_code: str
    education: str
    employment_status: str
    created_at: datetime
    account_subject: str


def provinces(path: Path = PROVINCES_CSV) -> list[str]:
    """Province codes a NIK can start with: the provinces of 2020-2021, without the 2022 splits."""
    with path.open(encoding="utf-8", newline="") as source:
        return [row["code"] for row in csv.DictReader(source) if not (row.get("since") or "").strip()]


@dataclass
class _Unique:
    """Values already issued in this run: NIK, phone and e-mail must each belong to one person."""

    niks: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)
    emails: set[str] = field(default_factory=set)


def _weighted(rng: random.Random, choices: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([value for value, _ in choices], weights=[weight for _, weight in choices])[0]


def _nik(rng: random.Random, region: str, birth_date: date, female: bool, issued: set[str]) -> str:
    """Dukcapil layout: region (6) + DDMMYY, day + 40 for women (6) + serial (4)."""
    day = birth_date.day + (40 if female else 0)
    stem = f"{region}{day:02d}{birth_date:%m%y}"
    serial = rng.randint(1, 9999)
    for _ in range(9999):
        nik = f"{stem}{serial:04d}"
        if nik not in issued:
            issued.add(nik)
            return nik
        serial = serial % 9999 + 1
    raise RuntimeError(f"every serial of {stem} is taken")


def _phone(rng: random.Random, issued: set[str]) -> str:
    while True:
        digits = rng.randint(7, 8)
        phone = f"+62{rng.choice(MOBILE_PREFIXES)}{rng.randrange(10 ** (digits - 1), 10**digits)}"
        if phone not in issued:
            issued.add(phone)
            return phone


def _email(rng: random.Random, first: str, last: str, issued: set[str]) -> str:
    while True:
        local = rng.choice((f"{first}.{last}", f"{first}{last}", f"{first}_{last}", f"{last}.{first}"))
        email = f"{local}{rng.randint(1, 9999)}@{rng.choice(MAIL_DOMAINS)}".lower()
        if email not in issued:
            issued.add(email)
            return email


def _participant(
    rng: random.Random, index: int, seed: int, as_of: date, codes: list[str], unique: _Unique
) -> Participant:
    female = rng.random() < 0.5
    first = rng.choice(FEMALE_NAMES if female else MALE_NAMES)
    last = rng.choice(FAMILY_NAMES)
    province = rng.choice(codes)
    regency = f"{province}{rng.randint(71, 79) if rng.random() < 0.2 else rng.randint(1, 30):02d}"
    region = f"{regency}{rng.randint(1, 40):02d}"
    birth_date = as_of - timedelta(days=rng.randint(18 * 366, 64 * 365))
    issued = as_of - timedelta(days=rng.randint(400, 8000))
    registered = datetime.combine(as_of, clock_time(), UTC) - timedelta(seconds=rng.randint(60, 180 * 86400))
    return Participant(
        index=index,
        nik=_nik(rng, region, birth_date, female, unique.niks),
        kk_number=f"{region}{issued:%d%m%y}{rng.randint(1, 9999):04d}",
        full_name=f"{first} {last}" if rng.random() < 0.85 else first,
        birth_date=birth_date,
        gender="F" if female else "M",
        email=_email(rng, first, last, unique.emails),
        phone=_phone(rng, unique.phones),
        province_code=province,
        regency_code=regency,
        education=_weighted(rng, EDUCATION),
        employment_status=_weighted(rng, EMPLOYMENT),
        created_at=registered,
        account_subject=f"seed-{seed}-{index}",
    )


def generate(count: int | None = None, seed: int = 0, as_of: date | None = None) -> Iterator[Participant]:
    """The same people for the same seed and date, in the same order; endless when count is None."""
    rng = random.Random(seed)  # noqa: S311 -- reproducible on purpose; nothing secret is drawn
    moment = as_of or datetime.now(UTC).date()
    codes = provinces()
    unique = _Unique()
    index = 0
    while count is None or index < count:
        yield _participant(rng, index, seed, moment, codes, unique)
        index += 1


def registration(participant: Participant) -> Any:
    """The seeded person as the app's own participant, so the items are exactly what it writes.

    The participant id is derived from the account subject as online registration derives it, so
    a local token for `seed-<seed>-<i>` is that participant's own. Seeded people are already
    NIK-verified: a loaded stack is one whose registry checks are done, not 100,000 lookups due.
    """
    from chalicelib.core.settings import programme
    from chalicelib.core.storage import pii_key
    from chalicelib.registration.model import Participant as Registered
    from chalicelib.registration.model import Verification
    from chalicelib.registration.service import participant_id_for

    return Registered(
        participant_id=participant_id_for(participant.account_subject),
        nik=participant.nik,
        kk_number=participant.kk_number,
        full_name=participant.full_name,
        birth_date=participant.birth_date,
        gender=participant.gender,
        email=participant.email.lower(),
        phone=participant.phone,
        province_code=participant.province_code,
        regency_code=participant.regency_code,
        education=participant.education,
        employment_status=participant.employment_status,
        declarations=dict.fromkeys(programme().ineligible_declarations, False),
        registered_at=participant.created_at,
        registered_by=participant.account_subject,
        channel="SEED",
        fingerprint=pii_key("SEED", participant.account_subject),
        verification=Verification.NIK_VERIFIED,
    )


def profile_item(participant: Participant) -> Item:
    from chalicelib.registration.stores.participants import registration_items

    item: Item = registration_items(registration(participant))[0].serialize()
    return item


def guard_items(participant: Participant) -> list[Item]:
    from chalicelib.registration.stores.participants import registration_items

    return [guard.serialize() for guard in registration_items(registration(participant))[1:]]


@dataclass(frozen=True)
class Tables:
    participants: str
    guards: str


def _write_batch(client: Any, request: dict[str, list[dict[str, Any]]]) -> None:
    for attempt in range(8):
        unprocessed = client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
        if not unprocessed:
            return
        request = unprocessed
        time.sleep(0.05 * 2**attempt)
    raise RuntimeError(f"BatchWriteItem left {sum(len(v) for v in request.values())} items unprocessed")


def _batches(
    participants: Iterable[Participant], tables: Tables
) -> Iterator[dict[str, list[dict[str, Any]]]]:
    iterator = iter(participants)
    while chunk := list(islice(iterator, PARTICIPANTS_PER_BATCH)):
        yield {
            tables.participants: [{"PutRequest": {"Item": profile_item(p)}} for p in chunk],
            tables.guards: [{"PutRequest": {"Item": item}} for p in chunk for item in guard_items(p)],
        }


def write(client: Any, participants: Iterable[Participant], tables: Tables, threads: int = 4) -> int:
    """Write profiles and guards with BatchWriteItem; returns the number of items written."""
    written = 0
    pending: dict[Future[None], int] = {}
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for request in _batches(participants, tables):
            if len(pending) >= threads * 4:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    future.result()
                    written += pending.pop(future)
            pending[pool.submit(_write_batch, client, request)] = sum(len(v) for v in request.values())
        for future in list(pending):
            future.result()
            written += pending.pop(future)
    return written


def write_figures(client: Any, participants: Iterable[Participant], stats_table: str, seed: int) -> int:
    """The seeded people's `registered` figure per province, and per hour in the series (docs/STATS.md),
    as the app's own writes would have left them: one item per province and per hour for this
    seed, written whole (`PutItem`), so that seeding again with the same seed counts nobody twice.
    The figure is read like any other province item (`ROLLUP`-like, an `sk` of its own), the
    series' hour like one of its parts; returns the number of items written."""
    per_province: dict[str, int] = {}
    per_hour: dict[tuple[str, str], int] = {}
    for participant in participants:
        code = participant.province_code
        hour = participant.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H")
        per_province[code] = per_province.get(code, 0) + 1
        for scope in (f"PROVINCE#{code}", "NATIONAL"):
            per_hour[(scope, hour)] = per_hour.get((scope, hour), 0) + 1
    items = [
        {"pk": {"S": f"PROVINCE#{code}"}, "sk": {"S": f"SEED#{seed}"}, "registered": {"N": str(count)}}
        for code, count in per_province.items()
    ] + [
        {
            "pk": {"S": f"SERIES#{scope}"},
            "sk": {"S": f"HOUR#{hour}#PART#SEED{seed}"},
            "registered": {"N": str(count)},
        }
        for (scope, hour), count in per_hour.items()
    ]
    for start in range(0, len(items), BATCH_SIZE):
        batch = [{"PutRequest": {"Item": item}} for item in items[start : start + BATCH_SIZE]]
        _write_batch(client, {stats_table: batch})
    return len(items)


def configure_environment(endpoint: str, stage: str = "local") -> None:
    """Point botocore and the app's settings at the local stack before chalicelib is imported.

    Credentials are fake on purpose: the seeder must never write to a real account.
    """
    config = json.loads(CHALICE_CONFIG.read_text(encoding="utf-8"))
    hash_key = config["stages"].get(stage, {}).get("environment_variables", {}).get("HASH_KEY")
    if not hash_key:
        raise SystemExit(
            f"stage {stage!r} has no HASH_KEY in {CHALICE_CONFIG}: only local stages can be seeded"
        )
    os.environ.update(
        {
            "STAGE": stage,
            "HASH_KEY": hash_key,
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
        }
    )


def dynamodb_client(endpoint: str, threads: int = 4) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 -- fake, so nothing can reach a real account
        aws_session_token="testing",  # noqa: S106
        config=Config(max_pool_connections=max(threads, 10), retries={"mode": "standard"}),
    )


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m devstack.seed", description=DESCRIPTION)
    parser.add_argument("--participants", type=int, required=True, metavar="N")
    parser.add_argument("--endpoint", default=os.environ.get("AWS_ENDPOINT_URL") or DEFAULT_ENDPOINT)
    parser.add_argument("--stage", default="local")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--as-of", type=date.fromisoformat, default=None, help="YYYY-MM-DD; default today (UTC)"
    )
    parser.add_argument("--threads", type=int, default=4)
    arguments = parser.parse_args(argv)
    if arguments.participants < 0 or arguments.threads < 1:
        parser.error("--participants must be >= 0 and --threads >= 1")
    return arguments


def main(argv: list[str] | None = None) -> int:
    arguments = _arguments(argv)
    configure_environment(arguments.endpoint, arguments.stage)
    from chalicelib.core.settings import settings

    tables = Tables(
        participants=settings().table_name("participants"), guards=settings().table_name("guards")
    )
    client = dynamodb_client(arguments.endpoint, arguments.threads)
    started = time.perf_counter()
    written = write(
        client,
        generate(arguments.participants, arguments.seed, arguments.as_of),
        tables,
        arguments.threads,
    )
    figures = write_figures(
        client,
        generate(arguments.participants, arguments.seed, arguments.as_of),
        settings().table_name("stats"),
        arguments.seed,
    )
    seconds = time.perf_counter() - started
    rate = written / max(seconds, 1e-9)
    print(
        f"wrote {written} items ({arguments.participants} participants) to {tables.participants} and "
        f"{tables.guards} at {arguments.endpoint} in {seconds:.1f} s ({rate:.0f} items/s); "
        f"{figures} figure items"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
