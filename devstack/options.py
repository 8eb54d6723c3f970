"""Where the local stack listens and keeps its state, from the environment (CONTRACT.md, "Running locally").

The AWS endpoint is started by the stack itself, so its URL must point at this machine; only the
port is taken from it. `DEVSTACK_DIR` moves the state directory (pid file, logs, signing keys, the
fake partners' ledgers), so that a test can run a second stack beside a developer's.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

HOST = "127.0.0.1"
STAGE = "local"
DEFAULT_API_PORT = 8000
DEFAULT_AWS_ENDPOINT_URL = "http://127.0.0.1:5000"
DEFAULT_PARTNERS_PORT = 8090
DEFAULT_WEB_PORT = 8080
PROJECT_DIR = Path(__file__).resolve().parent.parent
LOCAL_HOSTNAMES = frozenset({"127.0.0.1", "localhost"})


class OptionsError(ValueError):
    """The environment asks for a stack this machine cannot start."""


@dataclass(frozen=True)
class StackOptions:
    api_port: int
    aws_endpoint_url: str
    state_dir: Path
    partners_port: int = DEFAULT_PARTNERS_PORT
    web_port: int = DEFAULT_WEB_PORT
    project_dir: Path = PROJECT_DIR

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> StackOptions:
        endpoint_url = (environ.get("AWS_ENDPOINT_URL") or DEFAULT_AWS_ENDPOINT_URL).rstrip("/")
        aws_port(endpoint_url)
        return cls(
            api_port=_port(environ.get("API_PORT") or str(DEFAULT_API_PORT), "API_PORT"),
            aws_endpoint_url=endpoint_url,
            state_dir=Path(environ.get("DEVSTACK_DIR") or PROJECT_DIR / ".devstack").resolve(),
            partners_port=_port(environ.get("PARTNERS_PORT") or str(DEFAULT_PARTNERS_PORT), "PARTNERS_PORT"),
            web_port=_port(environ.get("WEB_PORT") or str(DEFAULT_WEB_PORT), "WEB_PORT"),
        )

    @property
    def aws_port(self) -> int:
        return aws_port(self.aws_endpoint_url)

    @property
    def pid_file(self) -> Path:
        return self.state_dir / "run.pid"

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def keys_dir(self) -> Path:
        return self.state_dir / "keys"

    @property
    def partners_dir(self) -> Path:
        """The fake payment partners' ledgers: kept across restarts, as a partner's books are."""
        return self.state_dir / "partners"

    @property
    def api_url(self) -> str:
        return f"http://{HOST}:{self.api_port}"

    @property
    def web_url(self) -> str:
        return f"http://{HOST}:{self.web_port}"


def aws_port(endpoint_url: str) -> int:
    """The port of a local endpoint URL; anything not on this machine is refused."""
    parts = urlsplit(endpoint_url)
    if parts.scheme != "http" or parts.hostname not in LOCAL_HOSTNAMES:
        raise OptionsError(
            f"AWS_ENDPOINT_URL={endpoint_url} must be http://127.0.0.1:<port>: the stack starts that endpoint"
        )
    return parts.port or 80


def _port(value: str, name: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise OptionsError(f"{name}={value} is not a port number") from None
    if not 0 < port < 65536:
        raise OptionsError(f"{name}={value} is not a port number")
    return port
