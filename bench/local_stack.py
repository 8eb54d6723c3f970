"""A local stack (`python -m devstack`) on free ports, for the benchmarks that go through HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

PROJECT_DIR = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Stack:
    api: str
    aws_endpoint: str
    directory: Path
    web: str = ""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def local_stack(ready_timeout: float = 90.0) -> Iterator[Stack]:
    directory = Path(tempfile.mkdtemp(prefix="prakerja-bench-"))
    api_port, aws_port, web_port, partners_port = free_port(), free_port(), free_port(), free_port()
    stack = Stack(
        f"http://127.0.0.1:{api_port}",
        f"http://127.0.0.1:{aws_port}",
        directory,
        f"http://127.0.0.1:{web_port}",
    )
    log = (directory / "stack.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "devstack"],
        cwd=PROJECT_DIR,
        env={
            **os.environ,
            "API_PORT": str(api_port),
            "AWS_ENDPOINT_URL": stack.aws_endpoint,
            "WEB_PORT": str(web_port),
            "PARTNERS_PORT": str(partners_port),
            "DEVSTACK_DIR": str(directory / "devstack"),
            "POWERTOOLS_LOG_LEVEL": "WARNING",
        },
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + ready_timeout
        while "ready" not in (directory / "stack.log").read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the local stack did not start; see {directory / 'stack.log'}")
            time.sleep(0.2)
        requests.get(f"{stack.api}/v1/waves", timeout=10).raise_for_status()
        yield stack
    finally:
        process.terminate()
        process.wait(30)
        log.close()
