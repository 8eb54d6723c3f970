"""The API describes itself: `GET /v1/openapi.json` is the document of every route of the app,
built once per container, and what it says about who may call a route is what the route does."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from chalice.app import Blueprint, Chalice
from chalice.test import Client

from chalicelib.core import http, openapi
from chalicelib.core.operations import Operation
from chalicelib.registration import routes as registration_routes
from chalicelib.registration.schemas import WaveList
from tests.conftest import TokenFactory
from tests.openapi import AnswerMismatch, app_document

ROLES = ("participant", "office", "pemda", "platform", "partner", "admin")
# Whatever a role's own routes need of a token beyond the role, so that only the role decides.
CLAIMS = {"province": "31", "platform_id": "PLATFORM-1", "partner_id": "BNI"}


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in app_document()["paths"].items()
        for method, operation in item.items()
    ]


def test_every_route_of_the_app_has_exactly_one_operation_and_the_document_no_other() -> None:
    from app import app

    routes = sorted((path, method.lower()) for path, methods in app.routes.items() for method in methods)
    documented = sorted((path, method) for path, method, _ in _operations())
    assert documented == routes
    assert ("/v1/openapi.json", "get") in documented
    assert len({operation["operationId"] for _, _, operation in _operations()}) == len(documented)


def test_a_route_that_declares_no_operation_stops_the_document() -> None:
    app = Chalice(app_name="undeclared")
    bp = Blueprint(__name__)

    @http.route(bp, "/v1/declared", methods=["GET"], operation=Operation("x", responses={200: WaveList}))
    def declared() -> Any:
        return http.respond({})

    @http.route(bp, "/v1/forgotten", methods=["GET"])
    def forgotten() -> Any:
        return http.respond({})

    app.register_blueprint(bp)
    with pytest.raises(ValueError, match="GET /v1/forgotten declares no operation"):
        openapi.build(app.routes, "undeclared", "1")


def test_the_local_stacks_own_routes_are_no_part_of_the_document() -> None:
    """`make run` adds `/dev/tokens` and the other local-stage routes to the app it serves."""
    app = Chalice(app_name="local")
    bp = Blueprint(__name__)

    @http.route(bp, "/v1/declared", methods=["GET"], operation=Operation("x", responses={200: WaveList}))
    def declared() -> Any:
        return http.respond({})

    @bp.route("/dev/tokens", methods=["POST"])
    def local_tokens() -> Any:
        return http.respond({})

    app.register_blueprint(bp)
    assert list(openapi.build(app.routes, "local", "1")["paths"]) == ["/v1/declared"]


def test_the_document_is_served_to_anyone_built_once(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[int] = []
    build = openapi.build

    def counted(*args: Any, **kwargs: Any) -> dict[str, Any]:
        built.append(1)
        return build(*args, **kwargs)

    monkeypatch.setattr(openapi, "_built", {})
    monkeypatch.setattr(openapi, "build", counted)
    first = client.http.get("/v1/openapi.json")
    second = client.http.get("/v1/openapi.json")
    assert first.status_code == second.status_code == 200
    assert first.headers["Content-Type"] == "application/json"
    assert json.loads(first.body) == json.loads(second.body) == app_document()
    assert built == [1]


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "X1", path)


def _call(client: Client, method: str, path: str, headers: dict[str, str]) -> tuple[int, str]:
    body = b"{}" if method in ("post", "put") else b""
    response = client.http.request(method.upper(), _concrete(path), headers=headers, body=body)
    return response.status_code, json.loads(response.body).get("error", {}).get("code", "")


def test_who_the_document_lets_call_each_route_is_who_the_route_lets_in(
    client: Client, auth: TokenFactory
) -> None:
    anonymous = {"Content-Type": "application/json"}
    for path, method, operation in _operations():
        roles = operation.get("x-roles", [])
        if not roles:
            assert operation["security"] == []
            assert _call(client, method, path, anonymous)[0] not in (401, 403), (method, path)
            continue
        assert operation["security"] == [{"bearer": roles}]
        assert _call(client, method, path, anonymous) == (401, "UNAUTHENTICATED"), (method, path)
        for role in ROLES:
            status, code = _call(client, method, path, auth(role, **CLAIMS))
            if role in roles:
                assert code not in ("FORBIDDEN", "UNAUTHENTICATED"), (method, path, role, status)
            else:
                assert (status, code) == (403, "FORBIDDEN"), (method, path, role)


def test_an_answer_its_model_does_not_describe_fails_the_test_that_received_it(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    def hand_built(body: Any, status: int = 200, headers: Any = None) -> Any:
        return http.respond({**body.model_dump(mode="json"), "total": 0}, status, headers)

    monkeypatch.setattr(registration_routes, "respond", hand_built)
    with pytest.raises(AnswerMismatch, match=r"GET /v1/waves answered 200 .*'total' was unexpected"):
        client.http.get("/v1/waves")
