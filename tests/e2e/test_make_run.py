"""`make run` end to end: `python -m devstack` on free ports, as a developer (and the acceptance
checks) use it: it says `ready`, serves the real app with local tokens and the fake payment
partners on their own port, refuses a second copy of itself, and leaves nothing behind on Ctrl-C."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from devstack import lock

pytestmark = [pytest.mark.slow, pytest.mark.server]

PROJECT_DIR = Path(__file__).resolve().parents[2]
READY_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 30.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class RunningStack:
    process: subprocess.Popen[str]
    environment: dict[str, str]
    api: str
    api_port: int
    aws_port: int
    partners_port: int
    web_port: int
    pid_file: Path
    lines: queue.Queue[str]

    def wait_for(self, text: str, timeout: float) -> None:
        seen: list[str] = []
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                pytest.fail(f"no line with {text!r} within {timeout} s; output:\n{''.join(seen)}")
            seen.append(line)
            if text in line:
                return


def _pump(stream: Iterator[str], lines: queue.Queue[str]) -> None:
    for line in stream:
        lines.put(line)


@pytest.fixture
def running_stack(tmp_path: Path) -> Iterator[RunningStack]:
    api_port, aws_port, partners_port, web_port = free_port(), free_port(), free_port(), free_port()
    environment = {
        **os.environ,
        "API_PORT": str(api_port),
        "PARTNERS_PORT": str(partners_port),
        "WEB_PORT": str(web_port),
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{aws_port}",
        "DEVSTACK_DIR": str(tmp_path / "devstack"),
        "PYTHONUNBUFFERED": "1",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "devstack"],
        cwd=PROJECT_DIR,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None
    threading.Thread(target=_pump, args=(process.stdout, lines), daemon=True).start()
    stack = RunningStack(
        process,
        environment,
        f"http://127.0.0.1:{api_port}",
        api_port,
        aws_port,
        partners_port,
        web_port,
        tmp_path / "devstack" / "run.pid",
        lines,
    )
    try:
        yield stack
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_make_run_serves_the_app_refuses_a_second_copy_and_stops_on_ctrl_c(
    running_stack: RunningStack,
) -> None:
    running_stack.wait_for("ready", READY_TIMEOUT_SECONDS)

    issued = requests.post(
        f"{running_stack.api}/dev/tokens", json={"role": "participant", "sub": "e2e"}, timeout=10
    )
    assert issued.status_code == 200
    waves = requests.get(
        f"{running_stack.api}/v1/waves",
        headers={"Authorization": f"Bearer {issued.json()['token']}"},
        timeout=10,
    )
    assert waves.status_code == 200
    assert waves.json() == {"waves": []}
    ledger = requests.get(f"{running_stack.api}/dev/partners/BNI/ledger", timeout=10)
    assert (ledger.status_code, ledger.json()) == (200, {"transfers": []})
    site = f"http://127.0.0.1:{running_stack.web_port}"
    for page in ("/", "/dashboard"):
        served = requests.get(f"{site}{page}", timeout=10)
        assert (served.status_code, '<html lang="id">' in served.text) == (200, True)
    config = requests.get(f"{site}/config.json", timeout=10).json()
    assert config["api_base_url"] == running_stack.api
    unsigned = requests.get(f"http://127.0.0.1:{running_stack.partners_port}/BNI/transfers/x", timeout=10)
    assert (unsigned.status_code, unsigned.json()["error"]["code"]) == (401, "BAD_SIGNATURE")

    second = subprocess.run(
        [sys.executable, "-m", "devstack"],
        cwd=PROJECT_DIR,
        env=running_stack.environment,
        capture_output=True,
        text=True,
        timeout=STOP_TIMEOUT_SECONDS,
        check=False,
    )
    assert second.returncode == 2
    assert f"a local stack is already running (pid {running_stack.process.pid})" in second.stderr

    running_stack.process.send_signal(signal.SIGINT)
    assert running_stack.process.wait(timeout=STOP_TIMEOUT_SECONDS) == 0
    assert not running_stack.pid_file.exists()
    assert lock.port_is_free("127.0.0.1", running_stack.api_port)
    assert lock.port_is_free("127.0.0.1", running_stack.aws_port)
    assert lock.port_is_free("127.0.0.1", running_stack.partners_port)
    assert lock.port_is_free("127.0.0.1", running_stack.web_port)
