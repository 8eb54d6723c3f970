"""The local AWS endpoint: moto in server mode, in a process of its own.

A separate process keeps moto's 240 MB and its request threads away from the app's, and lets the
stack stop it cleanly. Run alone with `python -m devstack.aws_endpoint`; the port comes from
AWS_ENDPOINT_URL. It exits when its parent does, so a killed stack does not leave the port taken.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import signal
import sys
import threading
from types import FrameType
from typing import TYPE_CHECKING

from devstack.options import DEFAULT_AWS_ENDPOINT_URL, HOST, OptionsError, aws_port

if TYPE_CHECKING:
    from werkzeug.serving import BaseWSGIServer

PATCHES_MODULE = "devstack.moto_patches"
PARENT_CHECK_SECONDS = 1.0


def main() -> int:
    try:
        port = aws_port(os.environ.get("AWS_ENDPOINT_URL") or DEFAULT_AWS_ENDPOINT_URL)
    except OptionsError as error:
        print(error, file=sys.stderr)
        return 2
    os.environ.setdefault("MOTO_PORT", str(port))
    apply_patches()
    server = _make_server(port)
    threading.Thread(target=server.serve_forever, name="moto", daemon=True).start()
    print(f"aws endpoint serving on http://{HOST}:{port}", flush=True)
    _wait_for_stop()
    server.shutdown()
    return 0


def apply_patches() -> None:
    """Moto fixes that another module provides, when it is there (DynamoDB transaction rollback cost)."""
    if importlib.util.find_spec(PATCHES_MODULE) is not None:
        importlib.import_module(PATCHES_MODULE).apply()
        print(f"applied {PATCHES_MODULE}", flush=True)


def _make_server(port: int) -> BaseWSGIServer:
    """Built in the calling thread, unlike ThreadedMotoServer, so a taken port fails loudly here."""
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    application = DomainDispatcherApplication(create_backend_app)
    server: BaseWSGIServer = make_server(
        HOST, port, application, threaded=True, request_handler=MotoRequestHandler
    )
    return server


def _wait_for_stop() -> None:
    stop = threading.Event()

    def request_stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    parent = os.getppid()
    while not stop.wait(PARENT_CHECK_SECONDS):
        if os.getppid() != parent:
            return


if __name__ == "__main__":
    raise SystemExit(main())
