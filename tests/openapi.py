"""The OpenAPI document as the tests use it: which operation a request (or a page's API call) is,
and whether an answer is what the document promises for its status.

`validate_answers` wraps the Chalice test client of `tests/conftest.py`, so every JSON answer the
integration tests receive from the app is checked against its operation's schema: a view that
writes what its model does not say fails the test that made it answer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator

Document = Mapping[str, Any]
Found = tuple[str, Mapping[str, Any]]


@cache
def app_document() -> Document:
    """The app's document, as `GET /v1/openapi.json` serves it."""
    from app import app
    from chalicelib.core import openapi

    document: Document = json.loads(openapi.document_of(app.routes, app.app_name))
    return document


def operation_for(document: Document, method: str, path: str) -> Found | None:
    """The (path template, operation) of `document` that `method` on a concrete `path` (its query
    string ignored) calls, or None. A literal segment wins over a parameter, as API Gateway routes:
    `/v1/participants/me` is not `/v1/participants/{participant_id}`."""
    segments = path.partition("?")[0].strip("/").split("/")
    matches: list[tuple[int, str]] = []
    for template, item in document["paths"].items():
        if method.lower() not in item:
            continue
        parts = template.strip("/").split("/")
        if len(parts) != len(segments):
            continue
        pairs = zip(parts, segments, strict=True)
        if all(part == segment or (_parameter(part) and segment) for part, segment in pairs):
            matches.append((sum(_parameter(part) for part in parts), template))
    if not matches:
        return None
    template = min(matches)[1]
    return template, document["paths"][template][method.lower()]


def _parameter(part: str) -> bool:
    return part.startswith("{") and part.endswith("}")


class AnswerMismatch(AssertionError):
    """An answer the document does not describe."""


def check_answer(document: Document, method: str, path: str, status: int, body: bytes | str) -> None:
    """Fail unless the answer is one the document promises: a declared status (any 5xx falls to
    `default`), and a JSON body that its schema accepts. Paths and methods the document lacks are
    not its business (the app answers them 404 and 405 in the contract's error JSON)."""
    found = operation_for(document, method, path)
    if found is None:
        return
    template, operation = found
    declared = operation["responses"]
    key = str(status) if str(status) in declared else "default" if status >= 500 else None
    if key is None:
        raise AnswerMismatch(f"{method} {template} answered {status}, which the document does not declare")
    try:
        answer = json.loads(body)
    except ValueError as error:
        raise AnswerMismatch(f"{method} {template} answered {status} with a body that is not JSON") from error
    errors = sorted(_validator(document, method.lower(), template, key).iter_errors(answer), key=str)
    if errors:
        where = "/".join(str(part) for part in errors[0].absolute_path)
        raise AnswerMismatch(
            f"{method} {template} answered {status} against its schema at `{where}`: {errors[0].message}"
        )


# One compiled validator per answer of an operation; the document's components travel with it so
# that its `$ref`s resolve.
_validators: dict[tuple[int, str, str, str], Draft202012Validator] = {}


def _validator(document: Document, method: str, template: str, key: str) -> Draft202012Validator:
    cached = (id(document), method, template, key)
    if cached not in _validators:
        answer = document["paths"][template][method]["responses"][key]
        schema = answer["content"]["application/json"]["schema"]
        _validators[cached] = Draft202012Validator({**schema, "components": document["components"]})
    return _validators[cached]


def validate_answers(http: Any) -> None:
    """Check every answer of a Chalice `TestHTTPClient` against the app's document."""
    request = http.request

    def checked(method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b"") -> Any:
        response = request(method, path, headers=headers, body=body)
        check_answer(app_document(), method, path, response.status_code, response.body)
        return response

    http.request = checked
