"""Peak memory of the import handler on a 1,000,000-row file against a 100,000-row one.

Each file goes through the `import_batches` consumer (as in `bench.import_throughput`, AWS answered
by `bench.aws_stub`) in a fresh interpreter of its own: its maximum resident set size from
`/usr/bin/time -v`. With `--tracemalloc`, each also goes through a second interpreter that
traces Python's own allocations from after a 50-row warm-up import (so the peak counts what
the import of the file holds, not the code and service models loaded once); tracing makes an
import about four times slower. The stub serves the upload from disk by byte range and keeps
report parts on disk, so neither the file nor the report sits in the measured process. The
files are written before the measured interpreters start. A 1,000,000-row file (about 117 MB)
is over the 50 MB an office may upload, so the measured interpreters raise `MAX_IMPORT_BYTES`.

    .venv/bin/python -m bench.import_memory [--small 100000] [--large 1000000] [--tracemalloc]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.import_throughput import STUB_ENVIRONMENT, run_handler, write_file

PROJECT_DIR = Path(__file__).resolve().parent.parent


def _child(source: Path, trace: bool) -> None:
    """Runs in the measured interpreter: one import of `source`, its figures as JSON on stdout."""
    os.environ.update(STUB_ENVIRONMENT)
    from bench.aws_stub import AwsStub

    directory = Path(tempfile.mkdtemp(prefix="prakerja-import-memory-"))
    stub = AwsStub(directory)
    stub.install()
    # A small import first, so that what is loaded once (the app, AWS service models, validators
    # built on first use) is loaded before tracing starts: it is not what grows with a file.
    write_file(directory / "warm-up.csv", 50)
    run_handler(stub, directory / "warm-up.csv")
    if trace:
        import tracemalloc

        tracemalloc.start()
    seconds, counts, invocations = run_handler(stub, source)
    figures: dict[str, Any] = {"seconds": seconds, "counts": counts, "invocations": invocations}
    if trace:
        figures["traced_peak_bytes"] = tracemalloc.get_traced_memory()[1]
    print(json.dumps(figures), flush=True)
    shutil.rmtree(directory)


def _measure(source: Path, trace: bool) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.import_memory", "--child", str(source)]
    if trace:
        command.append("--trace")
    started = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-v", *command], cwd=PROJECT_DIR, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    assert rss is not None, done.stderr
    figures["max_rss_bytes"] = int(rss[1]) * 1024
    figures["wall"] = time.perf_counter() - started
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument(
        "--tracemalloc", action="store_true", help="also trace each file's import (about four times slower)"
    )
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        _child(arguments.child, arguments.trace)
        return
    directory = Path(tempfile.mkdtemp(prefix="prakerja-import-memory-"))
    results: dict[int, dict[str, Any]] = {}
    for rows in (arguments.small, arguments.large):
        source = directory / f"{rows}.csv"
        size = write_file(source, rows)
        results[rows] = _measure(source, trace=False)
        figures = results[rows]
        # Printed at once: the traced run of a 1,000,000-row file takes half an hour or more.
        print(
            f"{rows:,} rows ({size / 1e6:.0f} MB): {figures['counts']} in {figures['seconds']:.0f} s; "
            f"max RSS {figures['max_rss_bytes'] / 2**20:.1f} MiB",
            flush=True,
        )
        if arguments.tracemalloc:
            traced = _measure(source, trace=True)
            figures["traced_peak_bytes"] = traced["traced_peak_bytes"]
            print(
                f"  traced: tracemalloc peak {traced['traced_peak_bytes'] / 2**20:.1f} MiB "
                f"(max RSS with tracing {traced['max_rss_bytes'] / 2**20:.1f} MiB)",
                flush=True,
            )
        source.unlink()
    directory.rmdir()
    small, large = results[arguments.small], results[arguments.large]
    print(f"max RSS ratio {large['max_rss_bytes'] / small['max_rss_bytes']:.2f} (target <= 1.2)")
    if "traced_peak_bytes" in small:
        print(f"tracemalloc peak ratio {large['traced_peak_bytes'] / small['traced_peak_bytes']:.2f}")


if __name__ == "__main__":
    main()
