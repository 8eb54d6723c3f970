"""Incentives routes: the participant's payment account, partners' status callbacks, the admins'
disbursement view, and re-payments that a second admin approves."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from chalice.app import Blueprint, Response

from chalicelib.core.auth import require
from chalicelib.core.errors import Forbidden, ValidationFailed
from chalicelib.core.http import idempotent, parse, respond, route
from chalicelib.core.operations import Operation
from chalicelib.incentives import accounts, callbacks, repayments, views
from chalicelib.incentives.schemas import (
    AccountRequest,
    AccountView,
    ApprovalList,
    ApprovalQuery,
    ApprovalView,
    CallbackBody,
    DecisionRequest,
    DisbursementQuery,
    DisbursementView,
    PaymentState,
)
from chalicelib.incentives.stores.approvals import ApprovalStatus
from chalicelib.registration import service as registration

bp = Blueprint(__name__)


@route(
    bp,
    "/v1/participants/me/payment-account",
    methods=["PUT"],
    cors=True,
    operation=Operation(
        summary="Link the account incentives are paid to, verified with its partner",
        roles=("participant",),
        body=AccountRequest,
        responses={200: AccountView},
        errors=(404, 409),
    ),
)
def link_account() -> Response:
    caller = require(bp.current_request.headers, "participant")
    request = parse(AccountRequest, bp.current_request.raw_body)
    return respond(AccountView.model_validate(accounts.link_account(caller.sub, request)))


@route(
    bp,
    "/v1/partner/payments/{payment_id}/status",
    methods=["POST"],
    operation=Operation(
        summary="A payment partner's status callback (signed by the partner)",
        roles=("partner",),
        body=CallbackBody,
        responses={200: PaymentState},
        errors=(404, 409, 422),
    ),
)
def payment_status(payment_id: str) -> Response:
    partner = require(bp.current_request.headers, "partner")
    if not partner.partner_id:
        raise Forbidden("Token mitra tanpa partner_id.", code="PARTNER_ID_MISSING")
    request = bp.current_request
    given = request.raw_body or b""
    raw = given.encode() if isinstance(given, str) else given
    return respond(
        PaymentState.model_validate(callbacks.receive(partner.partner_id, payment_id, request.headers, raw))
    )


@route(
    bp,
    "/v1/disbursements",
    methods=["GET"],
    operation=Operation(
        summary="A day's disbursement per partner, and the mismatches found",
        roles=("admin",),
        query=DisbursementQuery,
        responses={200: DisbursementView},
        errors=(422,),
    ),
)
def disbursement() -> Response:
    require(bp.current_request.headers, "admin")
    params: Mapping[str, str] = bp.current_request.query_params or {}
    given = params.get("date")
    try:
        day = date.fromisoformat(given) if given else registration.programme_today()
    except ValueError:
        raise ValidationFailed(fields={"date": "format YYYY-MM-DD"}) from None
    return respond(views.disbursement(day))


@route(
    bp,
    "/v1/payments/{payment_id}/repayment",
    methods=["POST"],
    operation=Operation(
        summary="Ask for a stopped payment to be sent again; a second admin approves",
        roles=("admin",),
        responses={202: ApprovalView},
        errors=(409,),
    ),
)
def ask_repayment(payment_id: str) -> Response:
    admin = require(bp.current_request.headers, "admin")
    return respond(views.approval(repayments.request(payment_id, admin.sub)), status=202)


@route(
    bp,
    "/v1/approvals",
    methods=["GET"],
    operation=Operation(
        summary="Requests waiting for (or decided by) a second admin",
        roles=("admin",),
        query=ApprovalQuery,
        responses={200: ApprovalList},
        errors=(422,),
    ),
)
def list_approvals() -> Response:
    require(bp.current_request.headers, "admin")
    params: Mapping[str, str] = bp.current_request.query_params or {}
    try:
        status = ApprovalStatus(params.get("status", ApprovalStatus.PENDING.value))
    except ValueError:
        raise ValidationFailed(fields={"status": "PENDING, APPROVED atau REJECTED"}) from None
    return respond(ApprovalList(approvals=[views.approval(asked) for asked in repayments.pending(status)]))


@route(
    bp,
    "/v1/approvals/{approval_id}",
    methods=["POST"],
    operation=Operation(
        summary="Approve or reject a request of another admin",
        roles=("admin",),
        body=DecisionRequest,
        responses={200: ApprovalView},
        errors=(409,),
        idempotent=True,
    ),
)
def decide(approval_id: str) -> Response:
    admin = require(bp.current_request.headers, "admin")
    request = parse(DecisionRequest, bp.current_request.raw_body)

    def decision() -> Response:
        decided = repayments.decide(approval_id, admin.sub, approve=request.decision == "APPROVE")
        return respond(views.approval(decided))

    return idempotent(bp, admin, decision)
