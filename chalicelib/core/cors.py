"""Which browser origin may call the API: the programme's own site (`web/`), and no other.

Chalice turns a route's `CORSConfig` into the `Access-Control-*` headers of its answers and, for
API Gateway, into a generated `OPTIONS` route per path; one config, read once per container, keeps
every route the pages call allowing the same origin and the same request headers.
"""

from __future__ import annotations

from functools import cache

from chalice.app import CORSConfig

from chalicelib.core.settings import settings

# Chalice allows Authorization and Content-Type already; a POST that moves money carries its key.
REQUEST_HEADERS = ("Authorization", "Content-Type", "Idempotency-Key")
PREFLIGHT_SECONDS = 600


@cache
def site_cors() -> CORSConfig:
    return CORSConfig(
        allow_origin=settings().web_origin,
        allow_headers=list(REQUEST_HEADERS),
        max_age=PREFLIGHT_SECONDS,
    )
