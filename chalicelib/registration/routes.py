"""Registration routes: HTTP in, a domain call, HTTP out."""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib.core.auth import require
from chalicelib.core.http import created, idempotent, parse, respond, route
from chalicelib.registration import records, service
from chalicelib.registration.imports import upload
from chalicelib.registration.model import Wave
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


@route(bp, "/v1/waves", methods=["POST"], cors=True)
def create_wave() -> Response:
    admin = require(bp.current_request.headers, "admin")
    request = parse(WaveRequest, bp.current_request.raw_body)
    return idempotent(bp, admin, lambda: created(_view(service.create_wave(request, admin=admin.sub))))


@route(bp, "/v1/registrations", methods=["POST"], cors=True)
def register() -> Response:
    caller = require(bp.current_request.headers, "participant")
    request = parse(RegistrationRequest, bp.current_request.raw_body)
    participant = service.register(request, account=caller.sub)
    return created({"participant_id": participant.participant_id, "status": participant.status.value})


@route(bp, "/v1/participants/me", methods=["GET"], cors=True)
def own_record() -> Response:
    caller = require(bp.current_request.headers, "participant")
    return respond(records.record(service.own_record(caller.sub)))


@route(bp, "/v1/waves/{wave_id}/applications", methods=["POST"], cors=True)
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
        records.record(participant)
        | {
            "audit_trail": [records.event_view(event, admin=caller.role == "admin") for event in trail],
            "exclusions": exclusions,
        }
    )


@route(bp, "/v1/imports", methods=["POST"], cors=True)
def request_import() -> Response:
    caller = require(bp.current_request.headers, "office", "admin")
    request = parse(ImportRequest, bp.current_request.raw_body)

    def requested() -> Response:
        batch, upload_url = upload.request_import(request, caller)
        return created({"import_id": batch.import_id, "upload_url": upload_url, "status": batch.status.value})

    return idempotent(bp, caller, requested)


@route(bp, "/v1/imports/{import_id}", methods=["GET"], cors=True)
def import_status(import_id: str) -> Response:
    caller = require(bp.current_request.headers, "office", "admin")
    batch, report_url = upload.import_status(import_id, caller)
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
            "reason_message": upload.reason_message(batch),
            "report_url": report_url,
        }
    )
