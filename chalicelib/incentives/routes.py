"""Incentives routes: the participant's payment account, partners' status callbacks, the admins'
disbursement view, and re-payments that a second admin approves."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from chalice.app import Blueprint, Response

from chalicelib.core.auth import require
from chalicelib.core.errors import Forbidden, ValidationFailed
from chalicelib.core.http import idempotent, parse, respond, route
from chalicelib.incentives import accounts, callbacks, repayments, views
from chalicelib.incentives.schemas import AccountRequest, DecisionRequest
from chalicelib.incentives.stores.approvals import ApprovalStatus
from chalicelib.registration import service as registration

bp = Blueprint(__name__)


@route(bp, "/v1/participants/me/payment-account", methods=["PUT"])
def link_account() -> Response:
    caller = require(bp.current_request.headers, "participant")
    request = parse(AccountRequest, bp.current_request.raw_body)
    return respond(accounts.link_account(caller.sub, request))


@route(bp, "/v1/partner/payments/{payment_id}/status", methods=["POST"])
def payment_status(payment_id: str) -> Response:
    partner = require(bp.current_request.headers, "partner")
    if not partner.partner_id:
        raise Forbidden("Token mitra tanpa partner_id.", code="PARTNER_ID_MISSING")
    request = bp.current_request
    given = request.raw_body or b""
    raw = given.encode() if isinstance(given, str) else given
    return respond(callbacks.receive(partner.partner_id, payment_id, request.headers, raw))


@route(bp, "/v1/disbursements", methods=["GET"])
def disbursement() -> Response:
    require(bp.current_request.headers, "admin")
    params: Mapping[str, str] = bp.current_request.query_params or {}
    given = params.get("date")
    try:
        day = date.fromisoformat(given) if given else registration.programme_today()
    except ValueError:
        raise ValidationFailed(fields={"date": "format YYYY-MM-DD"}) from None
    return respond(views.disbursement(day))


@route(bp, "/v1/payments/{payment_id}/repayment", methods=["POST"])
def ask_repayment(payment_id: str) -> Response:
    admin = require(bp.current_request.headers, "admin")
    return respond(views.approval(repayments.request(payment_id, admin.sub)), status=202)


@route(bp, "/v1/approvals", methods=["GET"])
def list_approvals() -> Response:
    require(bp.current_request.headers, "admin")
    params: Mapping[str, str] = bp.current_request.query_params or {}
    try:
        status = ApprovalStatus(params.get("status", ApprovalStatus.PENDING.value))
    except ValueError:
        raise ValidationFailed(fields={"status": "PENDING, APPROVED atau REJECTED"}) from None
    return respond({"approvals": [views.approval(asked) for asked in repayments.pending(status)]})


@route(bp, "/v1/approvals/{approval_id}", methods=["POST"])
def decide(approval_id: str) -> Response:
    admin = require(bp.current_request.headers, "admin")
    request = parse(DecisionRequest, bp.current_request.raw_body)

    def decision() -> Response:
        decided = repayments.decide(approval_id, admin.sub, approve=request.decision == "APPROVE")
        return respond(views.approval(decided))

    return idempotent(bp, admin, decision)
