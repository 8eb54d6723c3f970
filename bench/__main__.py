"""Run benchmark scripts: `python -m bench [name ...]`; without names, the ones that take minutes
at most. The long ones run by name: `size` and `local_transactions` (a 100,000-participant local
stack), `import_throughput` (a 100,000-row import three times over) and `import_memory`
(100,000- and 1,000,000-row imports, a quarter of an hour), `sweep` (the revocation sweep over
100,000 selected participants, about 25 minutes against in-process moto), `notifications` (10,000
notifications sent with the sender killed twice, and the reminders' reads: about 6 minutes),
`stats` (the stats' reads at two sizes and a spike's writes: about 9 minutes), `dashboard` (the
dashboard's first view in chromium over a 100,000-participant local stack)."""

from __future__ import annotations

import subprocess
import sys

QUICK = ("cold_start", "registration", "selection", "spike", "imports", "purchases", "nik_false_alarm")
ALL = (
    *QUICK,
    "size",
    "local_transactions",
    "import_throughput",
    "import_memory",
    "sweep",
    "notifications",
    "stats",
    "dashboard",
)


def main() -> int:
    names = sys.argv[1:] or list(QUICK)
    unknown = [name for name in names if name not in ALL]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(ALL)}", file=sys.stderr)
        return 2
    for name in names:
        print(f"== bench.{name}", flush=True)
        subprocess.run([sys.executable, "-m", f"bench.{name}"], check=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
