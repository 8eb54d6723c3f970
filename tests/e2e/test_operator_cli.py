"""The `prakerja` console script that `make install` puts in the virtual environment, run as an
operator runs it against `make run` on free ports: a token, a wave, a registrations file uploaded and
its report awaited, the verification job, the province's figures, and a route the server lacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from bench.local_stack import free_port

pytestmark = [pytest.mark.slow, pytest.mark.server]

PROJECT_DIR = Path(__file__).resolve().parents[2]
PRAKERJA = Path(sys.executable).parent / "prakerja"
READY_TIMEOUT_SECONDS = 90.0
HEADER = "nik,kk_number,full_name,birth_date,gender,phone,email,regency_code,education,employment_status"
ROWS = [
    "3171234501900001,3171230101090001,Siti Rahayu,1990-01-05,F,081234567890,siti@x.id,3171,SMA,UNEMPLOYED",
    "3171230203850002,3171230101090002,Budi Santoso,02/03/1985,L,81298765432,,3171,SMK,laid_off",
    "3171230404880003,3171230101090003,Ani,04-04-1988,X,081211112222,,3171,SMA,UNEMPLOYED",
]


@dataclass(frozen=True)
class Stack:
    api: str
    log: Path


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    api = f"http://127.0.0.1:{free_port()}"
    log = tmp_path / "stack.log"
    environment = {
        **os.environ,
        "API_PORT": api.rpartition(":")[2],
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}",
        "PARTNERS_PORT": str(free_port()),
        "WEB_PORT": str(free_port()),
        "DEVSTACK_DIR": str(tmp_path / "devstack"),
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "devstack"], cwd=PROJECT_DIR, env=environment, stdout=output, stderr=output
        )
        try:
            deadline = time.monotonic() + READY_TIMEOUT_SECONDS
            while "ready" not in log.read_text():
                assert process.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
            yield Stack(api, log)
        finally:
            process.terminate()
            process.wait(30)


def prakerja(stack: Stack, *args: str, token: str | None = None) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PRAKERJA_API_URL": stack.api, "COLUMNS": "200"}
    environment.pop("PRAKERJA_TOKEN", None)
    if token:
        environment["PRAKERJA_TOKEN"] = token
    return subprocess.run([PRAKERJA, *args], env=environment, capture_output=True, text=True, timeout=120)


def test_an_operator_runs_a_day_of_the_programme_from_the_command_line(stack: Stack, tmp_path: Path) -> None:
    minted = prakerja(stack, "token", "--role", "admin", "--sub", "e2e-admin")
    assert minted.returncode == 0, minted.stderr
    admin = minted.stdout.strip()
    assert minted.stdout == f"{admin}\n" and admin.count(".") == 2
    office = prakerja(stack, "token", "--role", "office", "--sub", "clerk", "--province", "31").stdout.strip()

    created = prakerja(stack, "waves", "create", "CLI-W1", "--opens-at", "2030-01-01T00:00:00+07:00",
                       "--closes-at", "2030-01-10T00:00:00+07:00", "--quota", "1000",
                       "--province-quota", "31=400", token=admin)  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert "Gelombang CLI-W1 dibuat." in created.stdout
    listed = prakerja(stack, "waves", "list", token=office)
    assert "CLI-W1" in listed.stdout and "31=400" in listed.stdout

    file = tmp_path / "pendaftaran-31.csv"
    file.write_text("\n".join([HEADER, *ROWS]) + "\n")
    uploaded = prakerja(stack, "imports", "upload", str(file), "--kind", "registrations", token=office)
    assert uploaded.returncode == 0, uploaded.stdout + uploaded.stderr
    assert "DONE" in uploaded.stdout
    assert _row(uploaded.stdout, "IMPORTED") == "2" and _row(uploaded.stdout, "INVALID") == "1"
    assert _row(uploaded.stdout, "INVALID_GENDER") == "1"
    [report_url] = [line for line in uploaded.stdout.splitlines() if line.startswith("http")]
    report = requests.get(report_url, timeout=10).text
    assert "INVALID_GENDER" in report.splitlines()[3]
    assert "3171234501900001" not in uploaded.stdout + uploaded.stderr

    ran = prakerja(stack, "jobs", "run", "verification", token=admin)
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)

    figures = prakerja(stack, "stats", "31")
    assert figures.returncode == 0, figures.stderr
    assert _row(figures.stdout, "Terdaftar") == "2"
    assert _row(figures.stdout, "Insentif dibayar") == "Rp0"

    approvals = prakerja(stack, "approvals", "list", token=admin)
    assert approvals.returncode == 0, approvals.stderr
    assert "Persetujuan PENDING" in approvals.stdout


def _row(table: str, label: str) -> str:
    """The value beside `label` in a two-column Rich table."""
    for line in table.splitlines():
        cells = [cell.strip() for cell in line.strip("│┃ ").split("│")]
        if len(cells) == 2 and cells[0] == label:
            return cells[1]
    raise AssertionError(f"no row {label!r} in:\n{table}")
