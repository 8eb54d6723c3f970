"""Run benchmark scripts: `python -m bench [name ...]`; without names, the ones that take minutes
at most. The long ones (`size`, `local_transactions`: a 100,000-participant local stack) run by name."""

from __future__ import annotations

import subprocess
import sys

QUICK = ("cold_start", "registration", "selection", "spike", "imports")
ALL = (*QUICK, "size", "local_transactions")


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
