"""The local stage's own routes (CONTRACT.md, "Running locally" and "Local fakes"): tokens, the clock,
jobs on demand, the fake payment partners' faults and ledgers, the messages sent to a participant.

Registered on the app by the local stack only, so no deployed stage can have them. Built from the
app object at registration time rather than by importing `app`, which keeps `app.py` free of any
knowledge of the local stack.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from chalice.app import Blueprint, Chalice, Response

from chalicelib.core import clock
from chalicelib.core.cors import site_cors
from devstack.declarations import LOCAL_JOBS, Declarations, job_function_names
from devstack.issuer import LocalIssuer
from devstack.jobs import Runtime
from devstack.partners import FakePartners, FaultsInvalid, UnknownPartnerId

log = logging.getLogger("devstack.routes")

ROLES = ("participant", "office", "pemda", "platform", "partner", "admin")
OPTIONAL_CLAIMS = ("province", "platform_id", "partner_id")
# `curl -d` sends a form content type; these routes read JSON whatever the label says.
CONTENT_TYPES = ["application/json", "application/x-www-form-urlencoded", "text/plain"]


def dev_blueprint(app: Chalice, runtime: Runtime) -> Blueprint:
    declarations = Declarations.of(app)
    bp = Blueprint(__name__)

    # The pages sign in here locally (web/assets/auth.js), from the site's origin.
    @bp.route("/dev/tokens", methods=["POST"], content_types=CONTENT_TYPES, cors=site_cors())
    def devstack_tokens() -> Response:
        return _answer(lambda: issue_token(runtime.issuer, _json_object(bp.current_request.raw_body)))

    @bp.route("/dev/clock", methods=["POST"], content_types=CONTENT_TYPES)
    def devstack_clock() -> Response:
        return _answer(lambda: move_clock(_json_object(bp.current_request.raw_body)))

    @bp.route("/dev/jobs/{job}", methods=["POST"], content_types=CONTENT_TYPES)
    def devstack_jobs(job: str) -> Response:
        return _answer(lambda: run_job(job, declarations, runtime))

    @bp.route("/dev/partners/{partner_id}/faults", methods=["POST"], content_types=CONTENT_TYPES)
    def devstack_partner_faults(partner_id: str) -> Response:
        raw = bp.current_request.raw_body
        return _answer(lambda: set_partner_faults(runtime.partners, partner_id, _json_object(raw)))

    @bp.route("/dev/messages", methods=["GET"])
    def devstack_messages() -> Response:
        query = bp.current_request.query_params
        participant_id = query.get("participant_id") if query else None
        return _answer(lambda: list_messages(participant_id))

    @bp.route("/dev/partners/{partner_id}/ledger", methods=["GET"])
    def devstack_partner_ledger(partner_id: str) -> Response:
        return _answer(lambda: _partner(runtime.partners, partner_id).ledger(partner_id))

    return bp


def issue_token(issuer: LocalIssuer, body: dict[str, Any]) -> dict[str, Any]:
    fields: dict[str, str] = {}
    if body.get("role") not in ROLES:
        fields["role"] = f"Harus salah satu dari: {', '.join(ROLES)}."
    if not isinstance(body.get("sub"), str) or not body["sub"].strip():
        fields["sub"] = "Wajib diisi."
    for name in OPTIONAL_CLAIMS:
        if body.get(name) is not None and not isinstance(body[name], str):
            fields[name] = "Harus berupa teks."
    if fields:
        raise Refused(422, "VALIDATION_FAILED", "Data token tidak valid.", fields)
    return {"token": issuer.token({name: body.get(name) for name in ("role", "sub", *OPTIONAL_CLAIMS)})}


def move_clock(body: dict[str, Any]) -> dict[str, Any]:
    if "now" not in body:
        raise Refused(422, "VALIDATION_FAILED", "Waktu tidak valid.", {"now": "Wajib ada (boleh null)."})
    moment = None if body["now"] is None else _aware_time(body["now"])
    clock.set_now(moment)
    log.info("clock %s", moment.isoformat() if moment else "back to real time")
    return {"now": moment.isoformat() if moment else None}


def run_job(job: str, declarations: Declarations, runtime: Runtime) -> dict[str, Any]:
    declared = declarations.job(job)
    # Beyond these, any scheduled function by its own name (`incentive_events`): a check or a demo
    # need not wait for its next minute.
    own_schedule = declared is not None and declared.scheduled is not None and declared.scheduled.name == job
    if job not in LOCAL_JOBS and not own_schedule:
        raise Refused(404, "UNKNOWN_JOB", f"Job tidak dikenal; pilih salah satu: {', '.join(LOCAL_JOBS)}.")
    if declared is None:
        names = ", ".join(job_function_names(job))
        message = f"Aplikasi belum mendeklarasikan job {job} (fungsi terjadwal bernama {names})."
        raise Refused(404, "JOB_NOT_DEPLOYED", message)
    try:
        return runtime.run_job(declared)
    except Exception as error:
        log.exception("job %s failed", job)
        raise Refused(500, "JOB_FAILED", f"Job {job} gagal: {type(error).__name__}: {error}") from error


def list_messages(participant_id: str | None) -> dict[str, Any]:
    if not participant_id:
        raise Refused(
            422, "VALIDATION_FAILED", "participant_id wajib diisi.", {"participant_id": "Wajib diisi."}
        )
    from chalicelib.surveys.notify import messages

    return {"messages": messages.sent_to(participant_id)}


def set_partner_faults(
    partners: FakePartners | None, partner_id: str, body: dict[str, Any]
) -> dict[str, Any]:
    try:
        return _partner(partners, partner_id).set_faults(partner_id, body)
    except FaultsInvalid as invalid:
        raise Refused(422, "VALIDATION_FAILED", "Pengaturan gangguan tidak valid.", invalid.fields) from None


def _partner(partners: FakePartners | None, partner_id: str) -> FakePartners:
    if partners is None:
        raise Refused(404, "PARTNERS_NOT_RUNNING", "Mitra pembayaran tiruan tidak berjalan di sini.")
    try:
        partners.partner(partner_id)
    except UnknownPartnerId:
        known = ", ".join(partners.partners)
        raise Refused(
            404, "UNKNOWN_PARTNER", f"Mitra pembayaran tidak dikenal; pilih salah satu: {known}."
        ) from None
    return partners


class Refused(Exception):
    """A request answered with the contract's error body instead of a result."""

    def __init__(self, status: int, code: str, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(code)
        self.response = Response(
            body={"error": {"code": code, "message": message, "fields": fields or {}}}, status_code=status
        )


def _answer(action: Callable[[], dict[str, Any]]) -> Response:
    try:
        return Response(body=action(), status_code=200)
    except Refused as refused:
        return refused.response


def _aware_time(value: Any) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        fields = {"now": "Harus waktu ISO 8601 dengan zona waktu, mis. 2021-03-01T00:00:00+07:00."}
        raise Refused(422, "VALIDATION_FAILED", "Waktu tidak valid.", fields)
    return moment


def _json_object(raw: str | bytes | None) -> dict[str, Any]:
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        raise Refused(400, "MALFORMED_JSON", "Isi permintaan bukan JSON yang sah.") from None
    if not isinstance(body, dict):
        raise Refused(400, "MALFORMED_JSON", "Isi permintaan harus objek JSON.")
    return body
