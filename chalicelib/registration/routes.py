"""Registration routes: HTTP in, a domain call, HTTP out."""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib.core.auth import require
from chalicelib.core.http import created, idempotent, parse, respond, route
from chalicelib.core.operations import Operation
from chalicelib.registration import records, service
from chalicelib.registration.imports import upload
from chalicelib.registration.model import Wave
from chalicelib.registration.schemas import (
    Applied,
    ImportRequest,
    ImportRequested,
    ImportView,
    Registered,
    RegistrationRequest,
    SelectionRequested,
    WaveList,
    WaveRequest,
    WaveView,
)

bp = Blueprint(__name__)


def _view(wave: Wave) -> WaveView:
    return WaveView(
        wave_id=wave.wave_id,
        opens_at=wave.opens_at,
        closes_at=wave.closes_at,
        quota=wave.quota,
        province_quotas=wave.province_quotas,
        applications_open=service.applications_open(wave),
    )


@route(
    bp,
    "/v1/waves",
    methods=["GET"],
    cors=True,
    operation=Operation(summary="Waves, and whether each takes applications now", responses={200: WaveList}),
)
def list_waves() -> Response:
    return respond(WaveList(waves=[_view(wave) for wave in service.list_waves()]))


@route(
    bp,
    "/v1/waves",
    methods=["POST"],
    cors=True,
    operation=Operation(
        summary="Create a wave",
        roles=("admin",),
        body=WaveRequest,
        responses={201: WaveView},
        idempotent=True,
    ),
)
def create_wave() -> Response:
    admin = require(bp.current_request.headers, "admin")
    request = parse(WaveRequest, bp.current_request.raw_body)
    return idempotent(bp, admin, lambda: created(_view(service.create_wave(request, admin=admin.sub))))


@route(
    bp,
    "/v1/registrations",
    methods=["POST"],
    cors=True,
    operation=Operation(
        summary="Register (the token's subject becomes the account)",
        roles=("participant",),
        body=RegistrationRequest,
        responses={201: Registered},
        errors=(409, 422),
    ),
)
def register() -> Response:
    caller = require(bp.current_request.headers, "participant")
    request = parse(RegistrationRequest, bp.current_request.raw_body)
    participant = service.register(request, account=caller.sub)
    return created(Registered(participant_id=participant.participant_id, status=participant.status))


@route(
    bp,
    "/v1/participants/me",
    methods=["GET"],
    cors=True,
    operation=Operation(
        summary="The caller's participant record",
        roles=("participant",),
        responses={200: records.record_model},
        errors=(404,),
    ),
)
def own_record() -> Response:
    caller = require(bp.current_request.headers, "participant")
    return respond(records.record(service.own_record(caller.sub)))


@route(
    bp,
    "/v1/waves/{wave_id}/applications",
    methods=["POST"],
    cors=True,
    operation=Operation(
        summary="Apply to a wave",
        roles=("participant",),
        responses={201: Applied},
        errors=(409, 422),
        idempotent=True,
    ),
)
def apply(wave_id: str) -> Response:
    caller = require(bp.current_request.headers, "participant")

    def application() -> Response:
        participant = service.apply_to_wave(caller.sub, wave_id)
        return created(
            Applied(participant_id=participant.participant_id, wave_id=wave_id, status=participant.status)
        )

    return idempotent(bp, caller, application)


@route(
    bp,
    "/v1/waves/{wave_id}/selection",
    methods=["POST"],
    operation=Operation(
        summary="Start a wave's selection (it runs as a job)",
        roles=("admin",),
        responses={202: SelectionRequested},
        errors=(409, 422),
    ),
)
def start_selection(wave_id: str) -> Response:
    admin = require(bp.current_request.headers, "admin")
    wave = service.request_selection(wave_id, admin.sub)
    return respond(SelectionRequested(wave_id=wave.wave_id, selection=wave.selection), status=202)


@route(
    bp,
    "/v1/participants/{participant_id}",
    methods=["GET"],
    operation=Operation(
        summary="A participant's full record with its audit trail",
        roles=("admin", "office", "pemda"),
        responses={200: records.admin_record_model},
    ),
)
def participant_record(participant_id: str) -> Response:
    caller = require(bp.current_request.headers, "admin", "office", "pemda")
    participant, trail, exclusions = service.record_for(participant_id, caller)
    return respond(records.admin_record(participant, trail, exclusions, admin=caller.role == "admin"))


@route(
    bp,
    "/v1/imports",
    methods=["POST"],
    cors=True,
    operation=Operation(
        summary="Ask for a link to upload an import file to",
        roles=("office", "admin"),
        body=ImportRequest,
        responses={201: ImportRequested},
        idempotent=True,
    ),
)
def request_import() -> Response:
    caller = require(bp.current_request.headers, "office", "admin")
    request = parse(ImportRequest, bp.current_request.raw_body)

    def requested() -> Response:
        batch, upload_url = upload.request_import(request, caller)
        return created(ImportRequested(import_id=batch.import_id, upload_url=upload_url, status=batch.status))

    return idempotent(bp, caller, requested)


@route(
    bp,
    "/v1/imports/{import_id}",
    methods=["GET"],
    cors=True,
    operation=Operation(
        summary="An import's state, counts and report link",
        roles=("office", "admin"),
        responses={200: ImportView},
    ),
)
def import_status(import_id: str) -> Response:
    caller = require(bp.current_request.headers, "office", "admin")
    batch, report_url = upload.import_status(import_id, caller)
    return respond(
        ImportView(
            import_id=batch.import_id,
            kind=batch.kind,
            province=batch.province,
            filename=batch.filename,
            status=batch.status,
            counts=batch.counts,
            error_counts=batch.codes,
            reason=batch.reason,
            reason_message=upload.reason_message(batch),
            report_url=report_url,
        )
    )
