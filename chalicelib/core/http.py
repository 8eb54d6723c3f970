"""The view layer's shared pieces: parse a request, map domain errors to the contract, respond.

Chalice middleware never sees an exception raised inside a view (Chalice has already turned it
into its own 500), so the mapping from `DomainError` to the contract's JSON lives here, in the
`route` decorator that every blueprint uses instead of `Blueprint.route`.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from chalice.app import Blueprint, Request, Response
from pydantic import BaseModel, ValidationError

from chalicelib.core.auth import Caller
from chalicelib.core.cors import site_cors
from chalicelib.core.errors import (
    Conflict,
    DomainError,
    Forbidden,
    MalformedRequest,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    Throttled,
    Unauthenticated,
    ValidationFailed,
)
from chalicelib.core.idempotency import run_once
from chalicelib.core.observability import logger
from chalicelib.core.operations import Operation, declare
from chalicelib.core.schemas import ErrorDetail, ErrorResponse
from chalicelib.core.settings import settings
from chalicelib.core.validation import field_problems

Model = TypeVar("Model", bound=BaseModel)
View = Callable[..., Response]

# No answer of this API may be kept by a browser or a proxy: most carry personal data, and the
# rest are cheap to ask again.
JSON_HEADERS = {"Content-Type": "application/json", "Cache-Control": "no-store"}


def respond(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    """`body` as JSON: a response model (the route's declared one) or what JSON can hold."""
    if isinstance(body, BaseModel):
        body = body.model_dump(mode="json", by_alias=True)
    return Response(body=json.dumps(body), status_code=status, headers={**JSON_HEADERS, **(headers or {})})


def created(body: Any) -> Response:
    return respond(body, status=201)


# The one mapping from a kind of domain error to the contract's HTTP status.
_STATUS: dict[type[DomainError], int] = {
    MalformedRequest: 400,
    Unauthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    PayloadTooLarge: 413,
    ValidationFailed: 422,
    Throttled: 429,
    ServiceUnavailable: 503,
}


def status_of(error: DomainError) -> int:
    """The status of the error's nearest kind (a `DuplicateNik` is a `Conflict`: 409)."""
    return next((_STATUS[kind] for kind in type(error).__mro__ if kind in _STATUS), 400)


def error_response(error: DomainError, status: int | None = None) -> Response:
    detail = ErrorDetail(code=error.code, message=error.message, fields=error.fields or None)
    return respond(ErrorResponse(error=detail), status=status or status_of(error))


def _bounded(raw: str | bytes | None) -> bytes:
    """The body's bytes, refused if over the configured limit (413) or empty (400)."""
    if isinstance(raw, str):
        raw = raw.encode()
    if raw is not None and len(raw) > settings().max_body_bytes:
        raise PayloadTooLarge()
    if not raw:
        raise MalformedRequest("Isi permintaan kosong.")
    return raw


def json_body(raw: str | bytes | None) -> Any:
    try:
        return json.loads(_bounded(raw))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise MalformedRequest() from error


def parse(model: type[Model], raw: str | bytes | None) -> Model:
    """The body as `model`: 413 over the limit, 400 if not JSON, 422 naming each bad field."""
    body = _bounded(raw)
    try:
        # pydantic parses and validates in one pass, in Rust: cheaper than json.loads and then validating.
        return model.model_validate_json(body)
    except ValidationError as error:
        if any(problem["type"] == "json_invalid" for problem in error.errors(include_input=False)):
            raise MalformedRequest() from error
        raise ValidationFailed(fields=field_problems(error)) from error


_CHALICE_ERRORS: dict[str, tuple[DomainError, int]] = {
    "MethodNotAllowedError": (
        DomainError("Metode ini tidak tersedia untuk alamat ini.", code="METHOD_NOT_ALLOWED"),
        405,
    ),
    "UnsupportedMediaType": (
        DomainError(
            "Isi permintaan harus JSON, dengan Content-Type: application/json.", code="UNSUPPORTED_MEDIA_TYPE"
        ),
        415,
    ),
}


def contract_errors(request: Request, get_response: Callable[[Request], Response]) -> Response:
    """Chalice refuses a method a path does not take, or a body that is not JSON, before any view
    runs, in its own `{"Code", "Message"}` shape: answered in the contract's error JSON instead."""
    response = get_response(request)
    if response.status_code >= 400 and isinstance(response.body, dict):
        known = _CHALICE_ERRORS.get(str(response.body.get("Code")))
        if known is not None:
            reshaped = error_response(*known)
            response.body = reshaped.body
            response.headers = {**response.headers, **reshaped.headers}
    return response


# No identifier of ours is longer than 64 characters. DynamoDB refuses a key over 1,024 bytes with
# a ValidationException (moto does not), which would answer an absurd path with a 500.
_LONGEST_ID = 128


def route(
    bp: Blueprint, path: str, *, operation: Operation | None = None, **options: Any
) -> Callable[[View], View]:
    """`bp.route`, with domain errors answered in the contract's format and nothing else leaking.

    `operation` is what the route promises (roles, body, answers), for the OpenAPI document;
    `cors=True` allows the programme's site alone (`core.cors`), never Chalice's `*`."""

    def register(view: View) -> View:
        @functools.wraps(view)
        def handled(**params: Any) -> Response:
            request = bp.current_request
            logger.set_correlation_id(request.context.get("requestId"))
            try:
                if any(len(value.encode()) > _LONGEST_ID for value in params.values()):
                    raise NotFound()
                return view(**params)
            except DomainError as error:
                logger.info("request refused", extra={"code": error.code, "status": status_of(error)})
                return error_response(error)
            except Exception:
                logger.exception("request failed", extra={"path": path})
                return error_response(_INTERNAL, 500)

        if operation is not None:
            declare(handled, operation)
        if options.get("cors") is True:
            options["cors"] = site_cors()
        bp.route(path, **options)(handled)
        return view

    return register


_INTERNAL = DomainError("Terjadi kesalahan pada sistem; silakan coba lagi.", code="INTERNAL_ERROR")


def idempotent(bp: Blueprint, caller: Caller, action: Callable[[], Response]) -> Response:
    """Run a view's work once per `Idempotency-Key` (see `chalicelib.core.idempotency`).

    A key is the caller's own on this route: its scope is the route and the caller as a whole (role,
    province, platform, partner and subject), so two callers that share a subject (an office token
    of each of two provinces) never replay each other's answers.
    """
    request = bp.current_request

    def outcome() -> dict[str, Any]:
        response = action()
        return {"status": response.status_code, "body": response.body, "headers": response.headers}

    route_path = request.context.get("resourcePath", request.path)
    who = (caller.role, caller.province, caller.platform_id, caller.partner_id, caller.sub)
    scope = json.dumps([route_path, *who], separators=(",", ":"))
    # The path's parameters belong to the request as much as its body: the same key sent for
    # another participant is another request, refused as a reused key, not answered with the first.
    payload = {"path": request.uri_params, "body": json_body(request.raw_body) if request.raw_body else None}
    result = run_once(
        scope,
        request.headers.get("idempotency-key"),
        payload,
        outcome,
        context=getattr(bp, "lambda_context", None),
    )
    return Response(body=result["body"], status_code=result["status"], headers=result["headers"])
