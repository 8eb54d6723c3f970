"""Local stack only: a path no route has is answered as the deployed API answers it.

Chalice's local gateway imitates API Gateway's own answer to such a path, 403 `{"message":
"Missing Authentication Token"}`, which with a bearer token even echoes the whole Authorization
header back. Deployed, the template's gateway response for MISSING_AUTHENTICATION_TOKEN
(`infra/resources.json`, `RestAPI`) turns it into the contract's 404; this gives the local stack
the same answer, read from that same template.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from chalice.local import ForbiddenError, LocalGateway, LocalGatewayException

_MARK = "_devstack_answers_missing_routes"


class RouteNotFound(LocalGatewayException):
    CODE = 404


def missing_route_body(template_path: Path) -> bytes:
    """The body the deployed API answers a path no route has with."""
    template = json.loads(template_path.read_text(encoding="utf-8"))
    responses = template["Resources"]["RestAPI"]["Properties"]["GatewayResponses"]
    return str(responses["MISSING_AUTHENTICATION_TOKEN"]["ResponseTemplates"]["application/json"]).encode()


def answer_missing_routes(template_path: Path) -> Callable[[], None]:
    """Patch Chalice's local gateway in this process (again, it changes nothing); returns the undo."""
    original = getattr(LocalGateway.handle_request, _MARK, LocalGateway.handle_request)
    answer = missing_route_body(template_path)

    def handle_request(
        self: LocalGateway, method: str, path: str, headers: dict[str, Any], body: bytes | None
    ) -> dict[str, Any]:
        try:
            return original(self, method, path, headers, body)
        except ForbiddenError as error:
            # The app declares no Chalice authorizer: the local gateway forbids only unknown paths.
            raise RouteNotFound({"Content-Type": "application/json"}, answer) from error

    setattr(handle_request, _MARK, original)
    LocalGateway.handle_request = handle_request  # type: ignore[method-assign]

    def undo() -> None:
        LocalGateway.handle_request = original  # type: ignore[method-assign]

    return undo
