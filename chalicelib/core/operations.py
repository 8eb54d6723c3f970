"""What a route promises, declared beside it (`route(..., operation=Operation(...))`): who may
call it, what it reads, what it answers with which status. `core.openapi` turns the app's route
table and these declarations into the OpenAPI document; nothing else reads them at run time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from pydantic import BaseModel

from chalicelib.core.auth import Role

# A response model, or what gives it when the document is built: the participant record is
# composed of every stage's section, known only once `app.py` has wired them.
ModelSource = type[BaseModel] | Callable[[], type[BaseModel]]


@dataclass(frozen=True)
class Operation:
    summary: str
    # Success status → the model of its body.
    responses: Mapping[int, ModelSource]
    # Who may call it; none: anyone, without a token.
    roles: tuple[Role, ...] = ()
    body: type[BaseModel] | None = None
    # Each field one query parameter; the model documents, the view reads the parameters itself.
    query: type[BaseModel] | None = None
    # Error statuses beyond those that follow from the rest (a token, a body, a path parameter,
    # an Idempotency-Key, throttling).
    errors: tuple[int, ...] = ()
    # The route honours an `Idempotency-Key` header (`core.http.idempotent`).
    idempotent: bool = False


def model_of(source: ModelSource) -> type[BaseModel]:
    if isinstance(source, type) and issubclass(source, BaseModel):
        return source
    return cast(Callable[[], type[BaseModel]], source)()


_declared: dict[Callable[..., Any], Operation] = {}


def declare(view: Callable[..., Any], operation: Operation) -> None:
    _declared[view] = operation


def declared(view: Callable[..., Any]) -> Operation | None:
    """The operation declared for a view function of the route table, if any."""
    return _declared.get(view)
