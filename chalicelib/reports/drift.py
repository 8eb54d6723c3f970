"""The drift check: every province figure recounted from the source records, and each difference
from what the counters say reported.

The counters move in the transactions that change what they count, so they should never drift;
this is how we know. A pass first reads the participants whose identity check is pending (the
16 shards of their index: what they did before the registry answered counts, their registration
not yet), then each province's decided participants through their index partition
(`registration.service.participants_in_province`), a page at a time, and per person
their audit trail (applications, selections, revocations, expiries), their purchases and their
payments: queries of one person's records, never a scan. The pass's sums and its position are
saved after every page over the version it read (`core.checkpoints`): a run killed mid-page
recounts that page again from the saved sums, and two runs cannot both add the same page.

A figure that moves while its province is being recounted shows as a difference that the next
pass does not repeat: run it when the programme is quiet, and believe a difference two passes
report. Payment failures and survey outcomes are not recounted (a failed move leaves no trace
once the payment is retried; the surveys' own records are not read here).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from chalicelib.core import checkpoints, clock, counters
from chalicelib.core.observability import logger
from chalicelib.core.provinces import province_names
from chalicelib.incentives import service as incentives
from chalicelib.incentives.model import Kind, PaymentStatus
from chalicelib.registration import service as registration
from chalicelib.registration.model import Participant, Status, Verification
from chalicelib.training import service as training
from chalicelib.training.model import PurchaseStatus

JOB, KEY = "STATS#DRIFT", "PASS"
PAGE = 50
EVERY = timedelta(hours=23)
RECOUNTED = (
    "registered",
    "applied",
    "selected",
    "revoked",
    "freed_places",
    "training_purchased",
    "training_spent",
    "training_completed",
    "returned_balance",
    "expired_balance",
    "incentive_paid_amount",
    "survey_paid_amount",
    "payments_paid",
    "payments_paid_amount",
)
_PAID = (PaymentStatus.PAID.value, PaymentStatus.RECONCILED.value)


def recount(participant: Participant) -> tuple[Counter[str], Counter[str]]:
    """One person's part of their province's figures, and of its cohort counts."""
    decided = participant.verification is not Verification.PENDING
    found: Counter[str] = Counter(registered=int(decided))
    for event in registration.events(participant.participant_id):
        if event.action in ("APPLIED", "SELECTED"):
            found[event.action.lower()] += 1
        elif event.action == "REVOKED":
            found["revoked"] += 1
            found["returned_balance"] += int(event.details.get("returned_balance", 0))
            found["freed_places"] += int(event.status_from == Status.SELECTED.value)
        elif event.action == "BALANCE_EXPIRED":
            found["expired_balance"] += int(event.details.get("returned_balance", 0))
    if participant.selected_wave:
        for purchase in training.purchases_of(participant.participant_id):
            found["training_purchased"] += 1
            found["training_spent"] += purchase.price
            found["training_completed"] += int(purchase.status is PurchaseStatus.COMPLETED)
        for payment in incentives.payments_of(participant.participant_id):
            if payment.status.value in _PAID:
                kind = "incentive" if payment.kind is Kind.INCENTIVE else "survey"
                found[f"{kind}_paid_amount"] += payment.amount
                found["payments_paid"] += 1
                found["payments_paid_amount"] += payment.amount
    return found, Counter(participant.cohorts)


def differences(code: str, recounted: dict[str, int], cohorts: dict[str, int]) -> dict[str, dict[str, int]]:
    """Each figure whose counter differs from its recount, with both."""
    counted, groups = counters.totals(counters.province_scope(code), RECOUNTED)
    counted_cohorts = registration.cohorts(groups)
    found = {
        name: {"counted": counted[name], "recounted": recounted.get(name, 0)}
        for name in RECOUNTED
        if counted[name] != recounted.get(name, 0)
    }
    for cohort in sorted(set(counted_cohorts) | set(cohorts)):
        if counted_cohorts.get(cohort, 0) != cohorts.get(cohort, 0):
            found[f"cohort:{cohort}"] = {
                "counted": counted_cohorts.get(cohort, 0),
                "recounted": cohorts.get(cohort, 0),
            }
    return found


def check(has_time: Callable[[], bool]) -> dict[str, Any]:
    """Go on with the pass under way, or start one if the last started `EVERY` ago."""
    state, version = checkpoints.read(JOB, KEY)
    now = clock.now()
    if "province" not in state:
        last = state.get("last_report")
        if last and now - datetime.fromisoformat(last["started_at"]) < EVERY:
            return {"report": last, "more": False}
        state = {"started_at": now.isoformat(), "shard": 0, "province": 0, "after": None, "pending": {}}
        state |= {"sums": {}, "cohorts": {}, "differences": {}, "last_report": last}
    provinces = sorted(province_names())
    try:
        while state["shard"] < registration.VERIFICATION_SHARDS:
            if not has_time():
                return {"shard": state["shard"], "more": True}
            version = _pending_page(state, version)
        while state["province"] < len(provinces):
            if not has_time():
                return {"province": provinces[state["province"]], "more": True}
            version = _page(state, provinces[state["province"]], version)
        report = {"started_at": state["started_at"], "finished_at": now.isoformat()}
        report["differences"] = state["differences"]
        checkpoints.save(JOB, KEY, {"last_report": report}, version)
    except checkpoints.Superseded:
        return {"superseded": True, "more": False}
    return {"report": report, "more": False}


def _pending_page(state: dict[str, Any], version: int) -> int:
    """Recount one page of pending participants into their provinces' opening sums."""
    page, after = registration.participants_pending(state["shard"], state["after"], PAGE)
    for participant in page:
        found, tagged = recount(participant)
        into = state["pending"].setdefault(participant.province_code, {"sums": {}, "cohorts": {}})
        into["sums"] = dict(Counter(into["sums"]) + found)
        into["cohorts"] = dict(Counter(into["cohorts"]) + tagged)
    state["after"] = after
    if after is None:
        state["shard"] += 1
    return checkpoints.save(JOB, KEY, state, version)


def _page(state: dict[str, Any], code: str, version: int) -> int:
    """Recount one page of the province's participants, or compare it once it has none left;
    saved with the pass's position as one checkpoint."""
    if state["after"] is None and not state["sums"] and not state["cohorts"]:
        opening = state["pending"].get(code, {})
        state["sums"], state["cohorts"] = opening.get("sums", {}), opening.get("cohorts", {})
    page, after = registration.participants_in_province(code, state["after"], PAGE)
    sums, cohorts = Counter(state["sums"]), Counter(state["cohorts"])
    for participant in page:
        found, tagged = recount(participant)
        sums.update(found)
        cohorts.update(tagged)
    state["sums"], state["cohorts"], state["after"] = dict(sums), dict(cohorts), after
    if after is None:
        found_differences = differences(code, state["sums"], state["cohorts"])
        if found_differences:
            logger.warning("stats drift", extra={"province_code": code, "differences": found_differences})
            state["differences"][code] = found_differences
        state |= {"province": state["province"] + 1, "sums": {}, "cohorts": {}}
    return checkpoints.save(JOB, KEY, state, version)
