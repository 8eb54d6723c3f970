"""The house's rules (`[tool.importlinter]` in pyproject.toml) hold, and break when someone breaks
them: each case puts one forbidden import into a copy of the code and runs `lint-imports` on it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache"],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the packages the contracts cover, and their configuration."""
    copy = tmp_path_factory.mktemp("house")
    for package in ("chalicelib", "devstack", "tests", "bench", "prakerja_cli"):
        shutil.copytree(PROJECT / package, copy / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(PROJECT / "pyproject.toml", copy / "pyproject.toml")
    return copy


def test_the_house_keeps_every_contract(tree: Path) -> None:
    answer = lint(tree)
    assert answer.returncode == 0, answer.stdout
    assert "0 broken" in answer.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        (
            "chalicelib/core/_probe.py",
            "from chalicelib.registration import service",
            "The shared core knows no domain",
        ),
        (
            "chalicelib/training/_probe.py",
            "from chalicelib.registration.stores import participants",
            "Registration is entered through its service and its model only",
        ),
        (
            "chalicelib/training/_probe.py",
            "from chalicelib.registration import routes",
            "Registration is entered through its service and its model only",
        ),
        (
            "chalicelib/registration/_probe.py",
            "from chalicelib.training import service",
            "The stages are layers, the last on top, over the shared core",
        ),
        (
            "chalicelib/_probe.py",
            "import tests.conftest",
            "Deployed code imports neither the app, the local stack, the tests nor the benchmarks",
        ),
        (
            "chalicelib/training/_probe.py",
            "import app",
            "Deployed code imports neither the app, the local stack, the tests nor the benchmarks",
        ),
        (
            "chalicelib/training/_probe.py",
            "from chalicelib.reports import routes",
            "No domain imports the reports",
        ),
        (
            "chalicelib/reports/_probe.py",
            "from chalicelib.core.storage import UnitOfWork",
            "Reports write nothing: no unit of work, outbox, queue or file",
        ),
        (
            "chalicelib/core/_probe.py",
            "from prakerja_cli.text import rupiah",
            "Deployed code does not import the operator CLI",
        ),
        (
            "chalicelib/reports/_probe.py",
            "import rich.table",
            "Deployed code does not import the operator CLI",
        ),
        (
            "prakerja_cli/_probe.py",
            "from chalicelib.core.provinces import province_names",
            "The operator CLI talks to the API over HTTP only",
        ),
        (
            "prakerja_cli/_probe.py",
            "import boto3",
            "The operator CLI talks to the API over HTTP only",
        ),
    ],
)
def test_a_forbidden_import_breaks_its_contract(tree: Path, module: str, line: str, contract: str) -> None:
    probe = tree / module
    probe.write_text(f"{line}  # noqa\n", encoding="utf-8")
    try:
        answer = lint(tree)
    finally:
        probe.unlink()
    assert answer.returncode != 0
    verdicts = " ".join(answer.stdout.split())
    assert f"{contract} BROKEN" in verdicts, answer.stdout
