"""The web pages (`web/`) on `WEB_PORT`: the public site at `/`, the dashboard at `/dashboard`.

They are static files; what differs between the local stack and AWS is only where the API is and
how one signs in, which `/config.json` tells them (in AWS the same file is deployed beside them,
naming the API's URL and Cognito's hosted sign-in). Nothing is built or downloaded to serve them.
"""

from __future__ import annotations

import io
import json
import os
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
CONFIG_PATH = "/config.json"
# Paths without their `index.html`, as the contract names them.
PAGES = {"/": "/index.html", "/dashboard": "/dashboard/index.html", "/dashboard/": "/dashboard/index.html"}


def site_config(api_url: str) -> dict[str, Any]:
    return {"api_base_url": api_url, "sign_in": "local"}


def content_security_policy(api_url: str, upload_origin: str) -> str:
    """Only our own scripts and styles, and calls to the API (and an office's file to the upload
    bucket) alone: a page that shows personal data must not be able to load, or send it, anywhere else."""
    return (
        f"default-src 'self'; connect-src 'self' {api_url} {upload_origin}; img-src 'self' data:; "
        "style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )


class WebServer:
    def __init__(self, host: str, port: int, api_url: str, upload_origin: str, root: Path = WEB_DIR) -> None:
        config = json.dumps(site_config(api_url)).encode()
        policy = content_security_policy(api_url, upload_origin)
        handler = partial(_PagesHandler, config, policy, directory=str(root))
        self._server = ThreadingHTTPServer((host, port), handler)
        self.url = f"http://{host}:{port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="web", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class _PagesHandler(SimpleHTTPRequestHandler):
    def __init__(self, config: bytes, policy: str, *args: Any, **kwargs: Any) -> None:
        self._config = config
        self._policy = policy
        super().__init__(*args, **kwargs)

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == CONFIG_PATH:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(self._config)))
            self.end_headers()
            self.wfile.write(self._config)
            return
        self.path = PAGES.get(path, self.path)
        super().do_GET()

    def end_headers(self) -> None:
        # Served fresh on every load: a developer's edit shows at once; files are small and local.
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Content-Security-Policy", self._policy)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        super().end_headers()

    def list_directory(self, path: str | os.PathLike[str]) -> io.BytesIO | None:
        """No listings: only the pages are served, not a view of the folder."""
        self.send_error(404)
        return None

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the local stack's console is for the operator."""
