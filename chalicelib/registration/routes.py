"""Registration routes: HTTP in, a domain call, HTTP out."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from chalice.app import Blueprint, Response

from chalicelib.core.auth import require
from chalicelib.core.http import created, idempotent, parse, respond, route
from chalicelib.core.observability import mask, scrub
from chalicelib.core.settings import programme
from chalicelib.registration import imports, service
from chalicelib.registration.model import Event, Participant, Wave
from chalicelib.registration.schemas import ImportRequest, RegistrationRequest, WaveRequest, WaveView

bp = Blueprint(__name__)


def _view(wave: Wave) -> dict[str, object]:
    return WaveView(
        wave_id=wave.wave_id,
        opens_at=wave.opens_at,
        closes_at=wave.closes_at,
        quota=wave.quota,
        province_quotas=wave.province_quotas,
        applications_open=service.applications_open(wave),
    ).model_dump(mode="json")


@route(bp, "/v1/waves", methods=["GET"], cors=True)
def list_waves() -> Response:
    return respond({"waves": [_view(wave) for wave in service.list_waves()]})


@route(bp, "/v1/waves", methods=["POST"])
def create_wave() -> Response:
    admin = require(bp.current_request.headers, "admin")
    request = parse(WaveRequest, bp.current_request.raw_body)
    return idempotent(bp, admin, lambda: created(_view(service.create_wave(request, admin=admin.sub))))


# Later stages add their parts of the record (purchases, payments, surveys) here: registration
# must not import them, and the record is still one response.
participant_sections: list[Callable[[Participant], dict[str, object]]] = []


def participant_view(participant: Participant) -> dict[str, object]:
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
    for section in participant_sections:
        view |= section(participant)
    return view


def _local(moment: datetime | None) -> str | None:
    """Deadlines as the programme states them: end of day, Jakarta time."""
    return moment.astimezone(programme().timezone).isoformat() if moment else None


@route(bp, "/v1/registrations", methods=["POST"])
def register() -> Response:
    caller = require(bp.current_request.headers, "participant")
    request = parse(RegistrationRequest, bp.current_request.raw_body)
    participant = service.register(request, account=caller.sub)
    return created({"participant_id": participant.participant_id, "status": participant.status.value})


@route(bp, "/v1/participants/me", methods=["GET"])
def own_record() -> Response:
    caller = require(bp.current_request.headers, "participant")
    return respond(participant_view(service.own_record(caller.sub)))


@route(bp, "/v1/waves/{wave_id}/applications", methods=["POST"])
def apply(wave_id: str) -> Response:
    caller = require(bp.current_request.headers, "participant")

    def application() -> Response:
        participant = service.apply_to_wave(caller.sub, wave_id)
        status = participant.status.value
        return created({"participant_id": participant.participant_id, "wave_id": wave_id, "status": status})

    return idempotent(bp, caller, application)


@route(bp, "/v1/waves/{wave_id}/selection", methods=["POST"])
def start_selection(wave_id: str) -> Response:
    admin = require(bp.current_request.headers, "admin")
    wave = service.request_selection(wave_id, admin.sub)
    return respond({"wave_id": wave.wave_id, "selection": wave.selection.value}, status=202)


@route(bp, "/v1/participants/{participant_id}", methods=["GET"])
def participant_record(participant_id: str) -> Response:
    caller = require(bp.current_request.headers, "admin", "office", "pemda")
    participant, trail, exclusions = service.record_for(participant_id, caller)
    return respond(
        participant_view(participant)
        | {
            "audit_trail": [_event_view(event, admin=caller.role == "admin") for event in trail],
            "exclusions": exclusions,
        }
    )


def _event_view(event: Event, admin: bool) -> dict[str, object]:
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


@route(bp, "/v1/imports", methods=["POST"])
def request_import() -> Response:
    caller = require(bp.current_request.headers, "office", "admin")
    request = parse(ImportRequest, bp.current_request.raw_body)

    def requested() -> Response:
        batch, upload_url = imports.request_import(request, caller)
        return created({"import_id": batch.import_id, "upload_url": upload_url, "status": batch.status.value})

    return idempotent(bp, caller, requested)


@route(bp, "/v1/imports/{import_id}", methods=["GET"])
def import_status(import_id: str) -> Response:
    caller = require(bp.current_request.headers, "office", "admin")
    batch, report_url = imports.import_status(import_id, caller)
    return respond(
        {
            "import_id": batch.import_id,
            "kind": batch.kind.value,
            "province": batch.province,
            "filename": batch.filename,
            "status": batch.status.value,
            "counts": batch.counts,
            "error_counts": batch.codes,
            "reason": batch.reason,
            "reason_message": imports.reason_message(batch),
            "report_url": report_url,
        }
    )
