"""The shapes every answer of the API shares: the base of the domains' response models, moments as
the API has always written them, and the contract's error body.

A response model forbids keys it does not name, and in its serialization schema (the OpenAPI
document's) every field it always writes is required: `tests/openapi.py` validates each answer the
integration tests receive against it, so a view and its model cannot drift apart unnoticed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema
from pydantic.json_schema import SkipJsonSchema


class ResponseModel(BaseModel):
    model_config = ConfigDict(
        extra="forbid", defer_build=True, json_schema_serialization_defaults_required=True
    )


# pydantic writes a UTC moment with `Z`; the API has always written `datetime.isoformat()`'s `+00:00`.
Instant = Annotated[
    datetime,
    PlainSerializer(datetime.isoformat, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


def _absent(value: object) -> bool:
    return value is None


# A key left out of the answer rather than written as null: `x: str | Omitted = omitted_when_none()`.
Omitted = SkipJsonSchema[None]


def omitted_when_none(description: str | None = None) -> Any:
    """The default of an `Omitted` field: never written, so its schema has no default."""
    return Field(default=None, exclude_if=_absent, description=description, json_schema_extra=_no_default)


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


class ErrorDetail(ResponseModel):
    code: str = Field(description="Stable, upper case: DUPLICATE_NIK, WAVE_CLOSED, …")
    message: str = Field(description="For people, in Indonesian.")
    fields: dict[str, str] | Omitted = omitted_when_none("What is wrong with each field named, if any.")


class ErrorResponse(ResponseModel):
    """The contract's error body: `{"error": {"code", "message", "fields"}}`."""

    error: ErrorDetail
