"""The participant record of the contract: registration's part of it, and the parts later stages add.

`GET /v1/participants/me` is one response, but purchases, payments and surveys belong to later
stages, which registration must not import: `app.py` hands each stage's section to
`add_section` when it wires the app together. The record's response model is composed of
registration's and every section's, so the OpenAPI document describes the whole record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from pydantic import BaseModel, Field, create_model

from chalicelib.core.observability import mask, scrub
from chalicelib.core.schemas import ResponseModel
from chalicelib.core.settings import programme
from chalicelib.registration.model import Event, Participant
from chalicelib.registration.schemas import AuditEvent, ParticipantRecord


@dataclass(frozen=True)
class Section:
    """A later stage's part of the record: its model, and how to build it for a participant."""

    model: type[BaseModel]
    build: Callable[[Participant], BaseModel]


_sections: list[Section] = []


def add_section(section: Section) -> None:
    """A later stage's part of the record (its purchases, its payments), added after registration's."""
    if section not in _sections:
        _sections.append(section)


def record(participant: Participant) -> BaseModel:
    """The contract's participant record; identity numbers masked to their last four digits."""
    own = ParticipantRecord(
        participant_id=participant.participant_id,
        status=participant.status,
        verification=participant.verification,
        nik=mask(participant.nik),
        kk_number=mask(participant.kk_number),
        full_name=participant.full_name,
        province_code=participant.province_code,
        regency_code=participant.regency_code,
        cohorts=list(participant.cohorts),
        wave_id=participant.wave_id,
        registered_at=participant.registered_at,
        selected_wave=participant.selected_wave,
        balance=participant.balance,
        purchase_deadline=_local(participant.purchase_deadline),
        balance_expires_at=_local(participant.balance_expires_at),
        revocation_reason=participant.revocation_reason or None,
    )
    return _whole(record_model(), own, *(section.build(participant) for section in _sections))


def admin_record(
    participant: Participant, trail: list[Event], exclusions: dict[str, str], admin: bool
) -> BaseModel:
    """The record with its audit trail and the exclusion lists the person is on, for staff."""
    staff = _StaffPart(audit_trail=[event_view(event, admin) for event in trail], exclusions=exclusions)
    return _whole(admin_record_model(), record(participant), staff)


def _whole(model: type[BaseModel], *parts: BaseModel) -> BaseModel:
    """One answer of parts each already validated by its own model."""
    values: dict[str, Any] = {}
    for part in parts:
        values |= {name: getattr(part, name) for name in type(part).model_fields}
    return model.model_construct(**values)


def record_model() -> type[BaseModel]:
    """The whole record's model, registration's fields first, then each section's."""
    return _composed("ParticipantRecord", ParticipantRecord, tuple(section.model for section in _sections))


def admin_record_model() -> type[BaseModel]:
    return _composed("StaffParticipantRecord", record_model(), (_StaffPart,))


@cache
def _composed(name: str, base: type[BaseModel], parts: tuple[type[BaseModel], ...]) -> type[BaseModel]:
    fields: dict[str, Any] = {
        field: (info.annotation, info) for part in parts for field, info in part.model_fields.items()
    }
    return create_model(name, __base__=base, __module__=__name__, **fields)


def _local(moment: datetime | None) -> datetime | None:
    """Deadlines as the programme states them: end of day, Jakarta time."""
    return moment.astimezone(programme().timezone) if moment else None


class _StaffPart(ResponseModel):
    audit_trail: list[AuditEvent]
    exclusions: dict[str, str] = Field(description="Exclusion lists the person is on → the import of each.")


def event_view(event: Event, admin: bool) -> AuditEvent:
    """An audit event as its reader may see it: an admin's note is for admins only, and masked."""
    details = dict(event.details)
    note = details.pop("note", None)
    return AuditEvent(
        at=event.at,
        actor=event.actor,
        action=event.action,
        status_from=event.status_from,
        status_to=event.status_to,
        reason=event.reason,
        details=details,
        note=scrub(str(note)) if admin and note is not None else None,
    )
