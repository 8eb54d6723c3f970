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

from chalice.app import Blueprint, Response
from pydantic import BaseModel, ValidationError

from chalicelib.errors import DomainError, MalformedRequest, PayloadTooLarge, ValidationFailed
from chalicelib.idempotency import run_once
from chalicelib.observability import logger
from chalicelib.settings import settings

Model = TypeVar("Model", bound=BaseModel)
View = Callable[..., Response]

JSON_HEADERS = {"Content-Type": "application/json"}


def respond(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(body=json.dumps(body), status_code=status, headers={**JSON_HEADERS, **(headers or {})})


def created(body: Any) -> Response:
    return respond(body, status=201)


def error_response(error: DomainError) -> Response:
    body: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.fields:
        body["fields"] = error.fields
    return respond({"error": body}, status=error.status)


def json_body(raw: str | bytes | None) -> Any:
    """The request's JSON, refusing bodies over the configured limit before parsing them."""
    if isinstance(raw, str):
        raw = raw.encode()
    if raw is not None and len(raw) > settings().max_body_bytes:
        raise PayloadTooLarge()
    if not raw:
        raise MalformedRequest("Isi permintaan kosong.")
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise MalformedRequest() from error


def validated(model: type[Model], data: Any) -> Model:
    """`data` as `model`, or a 422 naming each bad field (never echoing what was sent)."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        fields = {
            ".".join(str(part) for part in problem["loc"]) or "body": problem["msg"]
            for problem in error.errors(include_input=False, include_url=False)
        }
        raise ValidationFailed(fields=fields) from error


def parse(model: type[Model], raw: str | bytes | None) -> Model:
    return validated(model, json_body(raw))


def route(bp: Blueprint, path: str, **options: Any) -> Callable[[View], View]:
    """`bp.route`, with domain errors answered in the contract's format and nothing else leaking."""

    def register(view: View) -> View:
        @functools.wraps(view)
        def handled(**params: Any) -> Response:
            request = bp.current_request
            logger.set_correlation_id(request.context.get("requestId"))
            try:
                return view(**params)
            except DomainError as error:
                logger.info("request refused", extra={"code": error.code, "status": error.status})
                return error_response(error)
            except Exception:
                logger.exception("request failed", extra={"path": path})
                return error_response(_Internal())

        bp.route(path, **options)(handled)
        return view

    return register


class _Internal(DomainError):
    status = 500
    code = "INTERNAL_ERROR"
    message = "Terjadi kesalahan pada sistem; silakan coba lagi."


def idempotent(bp: Blueprint, scope: str, action: Callable[[], Response]) -> Response:
    """Run a view's work once per `Idempotency-Key` (see `chalicelib.idempotency`).

    `scope` names the operation and the caller, e.g. `purchase:<sub>`.
    """
    request = bp.current_request

    def outcome() -> dict[str, Any]:
        response = action()
        return {"status": response.status_code, "body": response.body, "headers": response.headers}

    result = run_once(
        scope,
        request.headers.get("idempotency-key"),
        json_body(request.raw_body) if request.raw_body else None,
        outcome,
        context=getattr(bp, "lambda_context", None),
    )
    return Response(body=result["body"], status_code=result["status"], headers=result["headers"])
