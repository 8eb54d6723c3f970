"""The participant record of the contract: registration's part of it, and the parts later stages add.

`GET /v1/participants/me` is one response, but purchases, payments and surveys belong to later
stages, which registration must not import: `app.py` hands each stage's section to
`add_section` when it wires the app together.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from chalicelib.core.observability import mask, scrub
from chalicelib.core.settings import programme
from chalicelib.registration.model import Event, Participant

Section = Callable[[Participant], dict[str, object]]
_sections: list[Section] = []


def add_section(section: Section) -> None:
    """A later stage's part of the record (its purchases, its payments), added after registration's."""
    if section not in _sections:
        _sections.append(section)


def record(participant: Participant) -> dict[str, object]:
    """The contract's participant record; identity numbers masked to their last four digits."""
    view: dict[str, object] = {
        "participant_id": participant.participant_id,
        "status": participant.status.value,
        "verification": participant.verification.value,
        "nik": mask(participant.nik),
        "kk_number": mask(participant.kk_number),
        "full_name": participant.full_name,
        "province_code": participant.province_code,
        "regency_code": participant.regency_code,
        "cohorts": list(participant.cohorts),
        "wave_id": participant.wave_id,
        "registered_at": participant.registered_at.isoformat(),
        # The record has one shape whatever the stage: null until selection gives a value.
        "selected_wave": participant.selected_wave,
        "balance": participant.balance,
        "purchase_deadline": _local(participant.purchase_deadline),
        "balance_expires_at": _local(participant.balance_expires_at),
    }
    if participant.revocation_reason:
        view["revocation_reason"] = participant.revocation_reason
    for section in _sections:
        view |= section(participant)
    return view


def _local(moment: datetime | None) -> str | None:
    """Deadlines as the programme states them: end of day, Jakarta time."""
    return moment.astimezone(programme().timezone).isoformat() if moment else None


def event_view(event: Event, admin: bool) -> dict[str, object]:
    """An audit event as its reader may see it: an admin's note is for admins only, and masked."""
    details = dict(event.details)
    note = details.pop("note", None)
    view: dict[str, object] = {
        "at": event.at.isoformat(),
        "actor": event.actor,
        "action": event.action,
        "status_from": event.status_from,
        "status_to": event.status_to,
        "reason": event.reason,
        "details": details,
    }
    if admin and note is not None:
        view["note"] = scrub(str(note))
    return view
