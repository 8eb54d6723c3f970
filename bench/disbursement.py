"""The incentives' disbursement measured (issue 14): exactly once under faults, what a run reads,
and how fast payments go out when the partners are the bottleneck.

    .venv/bin/python -m bench.disbursement faults [--payments 10000] [--kills 5] [--seed 14]
    .venv/bin/python -m bench.disbursement cost [--due 1000] [--not-due 0 10000]
    .venv/bin/python -m bench.disbursement throughput [--payments 10000] [--concurrency C]
        [--latency-ms 100] [--repeats 3] [--aws-round-trip-ms 0]

`faults` and `cost` run the real app against in-process moto (`bench/exactly_once.py`,
`bench/payment_cost.py`); `throughput` against an in-memory stub of DynamoDB and SQS (no network
time unless a round trip is given), with the fake partners in a process of their own
(`bench/payment_throughput.py`). Each prints its figures and exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import os

import bench.in_process  # noqa: F401  (the environment, before anything reads it)

os.environ["POWERTOOLS_LOG_LEVEL"] = "ERROR"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    faults = commands.add_parser("faults", help="every due payment paid exactly once under faults and kills")
    faults.add_argument("--payments", type=int, default=10_000)
    faults.add_argument("--kills", type=int, default=5)
    faults.add_argument("--seed", type=int, default=14)
    cost = commands.add_parser("cost", help="items read and requests per payment")
    cost.add_argument("--due", type=int, default=1_000)
    cost.add_argument("--not-due", type=int, nargs="+", default=[0, 10_000])
    throughput = commands.add_parser(
        "throughput", help="payments sent per second against the partners' limit"
    )
    throughput.add_argument("--payments", type=int, default=10_000)
    throughput.add_argument(
        "--concurrency", type=int, default=None, help="the template's PartnerConcurrency by default"
    )
    throughput.add_argument("--latency-ms", type=int, default=100)
    throughput.add_argument("--repeats", type=int, default=3, help="runs; the median is the figure")
    throughput.add_argument(
        "--aws-round-trip-ms", type=float, default=0, help="network time each AWS request costs (0: none)"
    )
    arguments = parser.parse_args()
    if arguments.command == "faults":
        from bench import exactly_once

        return exactly_once.main(arguments.payments, arguments.kills, arguments.seed)
    if arguments.command == "cost":
        from bench import payment_cost

        return payment_cost.main(arguments.due, arguments.not_due)
    from bench import memory_aws, payment_throughput

    os.environ[memory_aws.ROUND_TRIP_VARIABLE] = str(arguments.aws_round_trip_ms)

    return payment_throughput.main(
        arguments.payments, arguments.concurrency, arguments.latency_ms, arguments.repeats
    )


if __name__ == "__main__":
    raise SystemExit(main())
