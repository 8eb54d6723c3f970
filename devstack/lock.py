"""One local stack per state directory, and ports checked before anything starts.

A second `make run` would otherwise fail halfway (moto cannot bind, or the API port is taken) with a
traceback that hides the cause; the pid file lets it name the running instance instead.
"""

from __future__ import annotations

import contextlib
import os
import socket
from pathlib import Path


class AlreadyRunning(Exception):
    def __init__(self, pid: int) -> None:
        super().__init__(pid)
        self.pid = pid


def acquire(pid_file: Path) -> None:
    """Write our pid, atomically; a pid file left by a dead process is taken over."""
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(3):
        try:
            descriptor = os.open(pid_file, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            holder = _read_pid(pid_file)
            if holder is not None and _is_stack(holder):
                raise AlreadyRunning(holder) from None
            pid_file.unlink(missing_ok=True)
            continue
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(f"{os.getpid()}\n")
        return
    raise AlreadyRunning(_read_pid(pid_file) or 0)


def release(pid_file: Path) -> None:
    if _read_pid(pid_file) == os.getpid():
        pid_file.unlink(missing_ok=True)


def port_is_free(host: str, port: int) -> bool:
    """Binds the way the servers will (SO_REUSEADDR), so a port in TIME_WAIT counts as free."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _read_pid(pid_file: Path) -> int | None:
    with contextlib.suppress(OSError, ValueError):
        return int(pid_file.read_text(encoding="ascii").strip())
    return None


def _is_stack(pid: int) -> bool:
    """Alive and, where /proc tells, still a devstack: pids are reused after a crash or reboot."""
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    cmdline = Path(f"/proc/{pid}/cmdline")
    if not cmdline.exists():
        return True
    with contextlib.suppress(OSError):
        return b"devstack" in cmdline.read_bytes()
    return True
