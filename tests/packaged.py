"""One packaged template per test session, however many workers and modules ask for it.

`chalice package` takes seconds and bytecode for the whole zip many more: the first process to
ask builds `make package STAGE=prod`'s output into the session's shared temporary directory
under a lock, and every other process (parallel workers, the end-of-session policy check) reads it.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import pytest

from infra.package import build, chalice_package

STAGE = "prod"


def session_directory(factory: pytest.TempPathFactory) -> Path:
    """The temporary directory all processes of this session share (workers' parent)."""
    base = factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def package_directory(factory: pytest.TempPathFactory) -> Path:
    """`build/prod` as `make package STAGE=prod` leaves it: sam.json and deployment.zip with bytecode."""
    shared = session_directory(factory)
    out = shared / "package" / STAGE
    with (shared / "package.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (out / "done").exists():
            build(STAGE, out)
            (out / "done").touch()
    return out


def template_path(factory: pytest.TempPathFactory) -> Path:
    """The packaged template alone: the whole package's if a test built it, else just the template
    (a run of a few tests need not wait for the zip's bytecode)."""
    shared = session_directory(factory)
    if (shared / "package" / STAGE / "done").exists():
        return shared / "package" / STAGE / "sam.json"
    out = shared / "template" / STAGE
    with (shared / "package.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (out / "sam.json").exists():
            chalice_package(STAGE, out)
    return out / "sam.json"
