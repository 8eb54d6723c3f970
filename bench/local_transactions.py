"""What a registration transaction costs on the local stack as its tables grow, with and without the patch.

Usage: `python -m bench.local_transactions [--sizes 1000,100000] [--samples 30]
[--large-unpatched-samples 3] [--no-record]`.

Why a script and not a test: it seeds hundreds of thousands of items into two moto servers and
takes minutes. It measures moto, not AWS (on AWS a transaction costs what it writes); what it
shows is whether `devstack/moto_patches.py` keeps the local stack usable at a realistic size.
Both servers run in subprocesses on free ports and receive the same participants from
`devstack.seed`; the transaction has the shape of a registration: a new profile and four new
guard items, each with `attribute_not_exists(pk)`. The figures and the command go into
`docs/BENCHMARKS.md`, section "Local stack: transactions at size".
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from itertools import islice
from pathlib import Path
from typing import Any

from bench.local_stack import free_port
from devstack import seed

PROJECT_DIR = Path(__file__).resolve().parent.parent
BENCHMARKS = PROJECT_DIR / "docs" / "BENCHMARKS.md"
RESOURCES = PROJECT_DIR / "infra" / "resources.json"
HEADER = "# Benchmarks: every measured figure with the command that produced it\n"
SECTION = "## Local stack: transactions at size"
STAGE = "local"
AS_OF = date(2026, 11, 1)

SERVER = """
import sys
if sys.argv[1] == "patched":
    from devstack import moto_patches
    moto_patches.apply()
from moto.server import main
main(["-H", "127.0.0.1", "-p", sys.argv[2]])
"""


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    endpoint: str
    client: Any
    transactions: Any


def _start(name: str) -> Server:
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": str(PROJECT_DIR)}
    process = subprocess.Popen(
        [sys.executable, "-c", SERVER, name, str(port)],
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1):  # noqa: S310 -- our own server
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"the {name} moto server did not start on port {port}") from None
            time.sleep(0.1)
    return Server(name, process, endpoint, seed.dynamodb_client(endpoint), _transaction_client(endpoint))


def _transaction_client(endpoint: str) -> Any:
    """No retries and no read timeout to speak of: an unpatched server at 100,000 participants can
    take over a minute per transaction, and a retry would find its own items and be cancelled."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=seed.REGION,
        config=Config(read_timeout=1800, retries={"total_max_attempts": 1}),
    )


def _table_definitions(tables: seed.Tables) -> list[dict[str, Any]]:
    """Participants and guards exactly as infra/resources.json declares their keys and indexes."""
    resources = json.loads(RESOURCES.read_text(encoding="utf-8"))["Resources"]
    definitions = []
    for resource, name in (("ParticipantsTable", tables.participants), ("GuardsTable", tables.guards)):
        properties = resources[resource]["Properties"]
        definition = {
            "TableName": name,
            "KeySchema": properties["KeySchema"],
            "AttributeDefinitions": properties["AttributeDefinitions"],
            "BillingMode": "PAY_PER_REQUEST",
        }
        if properties.get("GlobalSecondaryIndexes"):
            definition["GlobalSecondaryIndexes"] = properties["GlobalSecondaryIndexes"]
        definitions.append(definition)
    return definitions


def _registration(participant: seed.Participant, tables: seed.Tables) -> list[dict[str, Any]]:
    new = "attribute_not_exists(pk)"
    return [
        {
            "Put": {
                "TableName": tables.participants,
                "Item": seed.profile_item(participant),
                "ConditionExpression": new,
            }
        },
        *(
            {"Put": {"TableName": tables.guards, "Item": item, "ConditionExpression": new}}
            for item in seed.guard_items(participant)
        ),
    ]


def _sample_ms(server: Server, participant: seed.Participant, tables: seed.Tables) -> float:
    items = _registration(participant, tables)
    started = time.perf_counter()
    server.transactions.transact_write_items(TransactItems=items)
    return (time.perf_counter() - started) * 1000


@dataclass(frozen=True)
class Row:
    server: str
    participants: int
    items: int
    samples: int
    median_ms: float


def _seeded_server(name: str, population: list[seed.Participant], tables: seed.Tables) -> tuple[Server, str]:
    server = _start(name)
    for definition in _table_definitions(tables):
        server.client.create_table(**definition)
    started = time.perf_counter()
    written = seed.write(server.client, population, tables)
    seconds = time.perf_counter() - started
    note = (
        f"seeding {len(population):,} participants ({written:,} items) into the {name} server "
        f"for {len(population):,}: "
        f"{seconds:.1f} s ({written / seconds:,.0f} items/s)"
    )
    print(note, flush=True)
    return server, note


def _stop(servers: list[Server]) -> None:
    for server in servers:
        server.process.terminate()
    for server in servers:
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


Config = tuple[str, int]


def _sample(
    servers: dict[Config, Server],
    wanted: dict[Config, int],
    people: Iterator[seed.Participant],
    tables: seed.Tables,
) -> tuple[dict[Config, list[float]], str]:
    """Each round registers the same newcomer on every server still short of samples, in turn.

    Alternating makes a busy machine slow every configuration alike, so the ratios hold even
    when the medians drift with the load.
    """
    timings: dict[Config, list[float]] = {config: [] for config in servers}
    warm_up = next(people)
    for server in servers.values():
        _sample_ms(server, warm_up, tables)
    load = [os.getloadavg()[0]]
    interleaved = max(wanted.values())
    slow = min(wanted.values())
    for participant in islice(people, interleaved):
        for config, server in servers.items():
            if wanted[config] == interleaved or len(timings[config]) < slow:
                timings[config].append(_sample_ms(server, participant, tables))
    load.append(os.getloadavg()[0])
    return timings, ", ".join(f"{value:.2f}" for value in load)


def run(sizes: list[int], samples: int, large_unpatched_samples: int) -> tuple[list[Row], list[str]]:
    """One server per (patch, size), each seeded with the first `size` of the same people."""
    seed.configure_environment(seed.DEFAULT_ENDPOINT, STAGE)
    from chalicelib.core.settings import settings

    tables = seed.Tables(settings().table_name("participants"), settings().table_name("guards"))
    people = seed.generate(None, seed=0, as_of=AS_OF)
    population = list(islice(people, max(sizes)))
    servers: dict[tuple[str, int], Server] = {}
    notes: list[str] = []
    try:
        for size in sorted(sizes):
            for name in ("patched", "unpatched"):
                servers[name, size], note = _seeded_server(name, population[:size], tables)
                notes.append(note)
        wanted = {
            config: large_unpatched_samples if config[0] == "unpatched" and config[1] > 10_000 else samples
            for config in servers
        }
        timings, load = _sample(servers, wanted, people, tables)
        notes.append(f"1-minute load average while sampling: {load} ({os.cpu_count()} CPUs)")
        rows = []
        for (name, size), server in servers.items():
            items = sum(
                server.client.describe_table(TableName=table)["Table"]["ItemCount"]
                for table in (tables.participants, tables.guards)
            )
            rows.append(
                Row(name, size, items, len(timings[name, size]), statistics.median(timings[name, size]))
            )
    finally:
        _stop(list(servers.values()))
    return rows, notes


def _table(rows: list[Row]) -> str:
    lines = [
        "| moto server | participants seeded | items in both tables | samples | median latency (ms) |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {row.server} | {row.participants:,} | {row.items:,} | {row.samples} | {row.median_ms:,.1f} |"
        for row in rows
    ]
    return "\n".join(lines)


def _ratios(rows: list[Row]) -> list[str]:
    by = {(row.server, row.participants): row.median_ms for row in rows}
    sizes = sorted({row.participants for row in rows})
    small, large = sizes[0], sizes[-1]
    lines = [
        f"- patched @ {large:,} / patched @ {small:,}: **{by['patched', large] / by['patched', small]:.2f}**"
    ]
    lines += [
        f"- unpatched / patched @ {size:,}: {by['unpatched', size] / by['patched', size]:,.0f}x"
        for size in sizes
    ]
    return lines


def _section(rows: list[Row], notes: list[str], command: str) -> str:
    import moto

    return "\n".join(
        [
            SECTION,
            "",
            f"Command (from the project root): `{command}`",
            "",
            f"Measured {datetime.now(UTC):%Y-%m-%d} on {os.cpu_count()} CPUs, "
            f"Python {platform.python_version()}, moto {moto.__version__} in server mode, "
            "one sequential boto3 client over HTTP on 127.0.0.1.",
            "The transaction is a registration: a Put of a new profile into",
            "`prakerja-local-participants` and four Puts of new guard items into",
            "`prakerja-local-guards`, each with `attribute_not_exists(pk)`. There is one moto server per",
            "configuration (patched or not, size), each holding the tables of `infra/resources.json`",
            "(GSIs included) seeded by `devstack.seed` with the first N of the same participants (five",
            "items each: profile + NIK, e-mail, phone and account guards). Samples alternate: each round",
            "registers one new participant on every server in turn, so a busy machine slows all alike.",
            '"patched" runs `devstack.moto_patches.apply()` before starting moto; "unpatched" is moto as',
            "shipped, which deep-copies each touched table once per item of the transaction. Above",
            "10,000 participants the unpatched server is sampled only a few times (each sample takes",
            "tens of seconds); its median is of those samples.",
            "",
            _table(rows),
            "",
            *_ratios(rows),
            "",
            *[f"- {note}" for note in notes],
            "",
            "These are moto's costs, not AWS's: on AWS a transaction costs what it writes, whatever",
            "the table size. What matters is that the patched latency stays flat as the tables grow.",
            "",
        ]
    )


def record(section: str, path: Path = BENCHMARKS) -> None:
    """Replace this benchmark's section of docs/BENCHMARKS.md, leaving other sections alone."""
    text = path.read_text(encoding="utf-8") if path.exists() else HEADER
    start = text.find(SECTION)
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + len(SECTION))
        text = text[:start] + section + (text[end + 1 :] if end >= 0 else "")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.rstrip("\n") + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.local_transactions")
    parser.add_argument("--sizes", default="1000,100000", help="participants to measure at, comma-separated")
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument(
        "--large-unpatched-samples", type=int, default=3, help="unpatched samples above 10,000"
    )
    parser.add_argument("--no-record", action="store_true", help=f"do not write {BENCHMARKS.name}")
    arguments = parser.parse_args(argv)
    sizes = [int(size) for size in arguments.sizes.split(",")]
    rows, notes = run(sizes, arguments.samples, arguments.large_unpatched_samples)
    print()
    print(_table(rows))
    print("\n".join(_ratios(rows)))
    if not arguments.no_record:
        python = Path(sys.executable)
        shown = str(python.relative_to(PROJECT_DIR)) if python.is_relative_to(PROJECT_DIR) else "python"
        arguments_given = argv if argv is not None else sys.argv[1:]
        command = " ".join([shown, "-m", "bench.local_transactions", *arguments_given])
        record(_section(rows, notes, command))
        print(f"recorded in {BENCHMARKS.relative_to(PROJECT_DIR)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
