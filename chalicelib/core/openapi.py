"""The OpenAPI 3.1 document of the API, built from the app's own route table and what each route
declares (`core.operations`), and served at `GET /v1/openapi.json`.

Built on the first request a container serves and kept for its life: the route table does not
change once `app.py` has wired the app, and a cold start pays nothing for a document that most
containers are never asked for.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

from chalice.app import Blueprint, Response, RouteEntry
from pydantic import BaseModel, ConfigDict
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from chalicelib.core.http import JSON_HEADERS, route
from chalicelib.core.operations import Operation, declared, model_of
from chalicelib.core.schemas import ErrorResponse

OPENAPI_VERSION = "3.1.0"
PATH = "/v1/openapi.json"
SECURITY_SCHEME = "bearer"
_REF = "#/components/schemas/{model}"

# What each error status means on this API (CONTRACT.md, "Conventions").
ERROR_MEANINGS = {
    400: "Malformed JSON or request.",
    401: "Missing or bad token.",
    403: "Valid token, wrong role, province, platform or partner.",
    404: "Not found.",
    409: "Conflict with the current state, or an Idempotency-Key reused with another body.",
    413: "Body too large.",
    415: "The body's Content-Type is not application/json.",
    422: "Validation or rule failure; `fields` names each bad field.",
    429: "Throttled.",
}
_IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "A retry with the same key and body returns the first response and changes nothing; "
    "the same key with another body is refused (409 IDEMPOTENCY_KEY_REUSED).",
    "schema": {"type": "string", "pattern": "^[\\x21-\\x7e]{1,255}$"},
}


class OpenAPIDocument(BaseModel):
    """This document's own answer: its top level, the rest as JSON Schema and OpenAPI say."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    openapi: str
    info: dict[str, Any]
    paths: dict[str, Any]
    components: dict[str, Any]
    tags: list[dict[str, Any]]


def error_statuses(operation: Operation, method: str, path_parameters: Sequence[str]) -> list[int]:
    """The error statuses a route can answer with: those it declares, and those that follow from
    what it takes (see `core.http`: a path parameter over 128 bytes is a 404; Chalice refuses a
    body that is not labelled JSON with a 415)."""
    statuses = {429, *operation.errors}
    if method.upper() in ("POST", "PUT"):
        statuses.add(415)
    if operation.roles:
        statuses |= {401, 403}
    if operation.body is not None:
        statuses |= {400, 413, 422}
    if operation.idempotent:
        statuses |= {400, 409, 413, 422}
    if path_parameters:
        statuses.add(404)
    return sorted(statuses)


LOCAL_STAGE_PATHS = "/dev/"


def build(routes: Mapping[str, Mapping[str, RouteEntry]], title: str, version: str) -> dict[str, Any]:
    """The document of every route in `routes` (a Chalice app's `routes`); a route without a
    declared operation is an error: the document would silently lack it. The local stack's own
    routes (`/dev/…`, `devstack.routes`) are no part of any deployed API, and not of its document."""
    entries = [
        entry
        for methods in routes.values()
        for entry in methods.values()
        if not entry.uri_pattern.startswith(LOCAL_STAGE_PATHS)
    ]
    operations: dict[tuple[str, str], tuple[RouteEntry, Operation]] = {}
    for entry in entries:
        operation = declared(entry.view_function)
        if operation is None:
            raise ValueError(f"{entry.method} {entry.uri_pattern} declares no operation")
        operations[entry.uri_pattern, entry.method.lower()] = (entry, operation)
    refs, schemas = _schemas(operation for _, operation in operations.values())
    paths: dict[str, dict[str, Any]] = {}
    for (path, method), (entry, operation) in sorted(operations.items()):
        paths.setdefault(path, {})[method] = _operation(entry, operation, refs)
    tags = sorted({_tag(entry) for entry, _ in operations.values()})
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                SECURITY_SCHEME: {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "RS256, issued by the Cognito user pool (locally POST /dev/tokens). "
                    "Its `role` claim (or Cognito group) is one of participant, office, pemda, platform, "
                    "partner, admin; `province` binds office and pemda staff to their province.",
                }
            },
        },
        "tags": [{"name": tag} for tag in tags],
    }


Key = tuple[type[BaseModel], JsonSchemaMode]


def _schemas(operations: Iterable[Operation]) -> tuple[dict[Key, dict[str, Any]], dict[str, Any]]:
    """Every model's schema, in `components`: request bodies as they are read, answers as they are
    written (pydantic tells the two apart where they differ)."""
    wanted: dict[Key, None] = {(ErrorResponse, "serialization"): None}
    for operation in operations:
        if operation.body is not None:
            wanted[operation.body, "validation"] = None
        for source in operation.responses.values():
            wanted[model_of(source), "serialization"] = None
    refs, definitions = models_json_schema(list(wanted), ref_template=_REF)
    return cast(dict[Key, dict[str, Any]], refs), definitions.get("$defs", {})


def _tag(entry: RouteEntry) -> str:
    """The domain a route belongs to: the package its view lives in (`chalicelib.<domain>.routes`)."""
    parts = entry.view_function.__module__.split(".")
    return parts[1] if len(parts) > 2 else parts[0]


def _operation(entry: RouteEntry, operation: Operation, refs: Mapping[Key, dict[str, Any]]) -> dict[str, Any]:
    view = entry.view_function
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string", "maxLength": 128}}
        for name in entry.view_args
    ]
    if operation.query is not None:
        parameters += _query_parameters(operation.query)
    if operation.idempotent:
        parameters.append(_IDEMPOTENCY_KEY)
    answers: dict[str, Any] = {
        str(status): {
            "description": "Success.",
            "content": {"application/json": {"schema": refs[model_of(source), "serialization"]}},
        }
        for status, source in sorted(operation.responses.items())
    }
    error = {"application/json": {"schema": refs[ErrorResponse, "serialization"]}}
    for status in error_statuses(operation, entry.method, entry.view_args):
        answers[str(status)] = {"description": ERROR_MEANINGS.get(status, "Error."), "content": error}
    answers["default"] = {"description": "Unexpected error (500, 503).", "content": error}
    document: dict[str, Any] = {
        "operationId": view.__name__,
        "summary": operation.summary,
        "tags": [_tag(entry)],
        "responses": answers,
    }
    if view.__doc__:
        document["description"] = " ".join(view.__doc__.split())
    if parameters:
        document["parameters"] = parameters
    if operation.body is not None:
        document["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[operation.body, "validation"]}},
        }
    if operation.roles:
        document["security"] = [{SECURITY_SCHEME: list(operation.roles)}]
        document["x-roles"] = list(operation.roles)
    else:
        document["security"] = []
    return document


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(mode="validation")
    required = set(schema.get("required", ()))
    return [
        {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": _inline(_never_null(field), schema),
        }
        for name, field in schema["properties"].items()
    ]


def _inline(field: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """A parameter's schema whole: one that names another (an enum) takes it in its place, since
    the document has no `$defs` of the query model for it to point to."""
    if "$ref" not in field:
        return field
    named = schema["$defs"][field["$ref"].rpartition("/")[2]]
    return {**named, **{key: value for key, value in field.items() if key != "$ref"}}


def _never_null(field: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is text or absent, never null: `str | None` is a string, left out."""
    kinds = [kind for kind in field.get("anyOf", ()) if kind != {"type": "null"}]
    if len(kinds) != 1:
        return field
    return {**{key: value for key, value in field.items() if key not in ("anyOf", "default")}, **kinds[0]}


bp = Blueprint(__name__)
_built: dict[int, str] = {}


def document_of(routes: Mapping[str, Mapping[str, RouteEntry]], app_name: str) -> str:
    """The document as JSON, built once per app and container."""
    key = id(routes)
    if key not in _built:
        _built[key] = json.dumps(
            OpenAPIDocument.model_validate(build(routes, title=f"{app_name} API", version="1")).model_dump()
        )
    return _built[key]


@route(
    bp,
    PATH,
    methods=["GET"],
    operation=Operation(summary="This OpenAPI document", responses={200: OpenAPIDocument}),
)
def openapi_document() -> Response:
    app = bp.current_app
    return Response(body=document_of(app.routes, app.app_name), status_code=200, headers={**JSON_HEADERS})
