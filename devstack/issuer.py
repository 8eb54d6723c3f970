"""The local token issuer: plays Cognito for the local stack and the tests.

It signs RS256 tokens with a key pair kept in a directory and publishes the public half as a
JWKS document over HTTP on loopback, so the app verifies local tokens exactly as it verifies
Cognito's: by fetching the JWKS URL in its settings (PyJWT fetches only http and https).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ISSUER = "prakerja-local"
TOKEN_LIFETIME_SECONDS = 12 * 3600


class LocalIssuer:
    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        key_path = directory / "signing-key.pem"
        if key_path.exists():
            loaded = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
            assert isinstance(loaded, rsa.RSAPrivateKey)
            self._key = loaded
        else:
            self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            key_path.write_bytes(
                self._key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
            key_path.chmod(0o600)
        public_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self._key.public_key()))
        self.kid = "local-" + hashlib.sha256(public_jwk["n"].encode()).hexdigest()[:12]
        self.jwks_path = directory / "jwks.json"
        self.jwks_path.write_text(
            json.dumps({"keys": [{**public_jwk, "kid": self.kid, "alg": "RS256", "use": "sig"}]}),
            encoding="utf-8",
        )

        self._server: ThreadingHTTPServer | None = None

    @property
    def jwks_url(self) -> str:
        """The JWKS document's URL, served from a daemon thread started on first use."""
        if self._server is None:
            self._server = _serve(self.jwks_path.read_bytes())
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/.well-known/jwks.json"

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def token(self, claims: dict[str, Any], lifetime_seconds: int = TOKEN_LIFETIME_SECONDS) -> str:
        issued = int(time.time())
        payload = {
            "iss": ISSUER,
            "iat": issued,
            "exp": issued + lifetime_seconds,
            "jti": uuid.uuid4().hex,
            **{name: value for name, value in claims.items() if value is not None},
        }
        return self.sign(payload)

    def sign(self, payload: dict[str, Any]) -> str:
        """`payload` signed as it is, with nothing added."""
        return jwt.encode(payload, self._key, algorithm="RS256", headers={"kid": self.kid})


def _serve(document: bytes) -> ThreadingHTTPServer:
    class JwksHandler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(document)))
            self.end_headers()
            self.wfile.write(document)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the local stack's console is for the operator."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), JwksHandler)
    threading.Thread(target=server.serve_forever, name="local-jwks", daemon=True).start()
    return server
