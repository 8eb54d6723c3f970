"""Daily reconciliation: each partner's settlement file of a finished day, matched line by line to
the payment records (docs/PARTNERS.md, "Settlement files").

A line that agrees with a paid payment makes it RECONCILED. A line that tells what the programme
had not heard yet (a transfer the partner completed or failed whose callback never came) is
applied as that partner's answer would be, under the same rules. Everything else is a mismatch,
listed for admins and in a report file: paid by the partner but not recorded, recorded but not in
the file, an amount or status that differs, a reversal. Reconciliation never sends anything.

A file is first checked whole (a malformed one is rejected with its reason and changes nothing),
then applied from a byte offset kept after every page of lines, so a run that is stopped anywhere
goes on where it stopped; applying a line twice changes nothing the second time.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from chalicelib.core import clock, files
from chalicelib.core.observability import count, logger
from chalicelib.core.storage import Refused, UnitOfWork
from chalicelib.incentives import disbursement, figures, transitions
from chalicelib.incentives.model import (
    Attempt,
    AttemptState,
    Payment,
    PaymentStatus,
    payment_of_attempt,
)
from chalicelib.incentives.partners import PARTNERS
from chalicelib.incentives.stores import mismatches, payments, settlements
from chalicelib.incentives.stores.settlements import Reconciliation, Stage
from chalicelib.registration import service as registration

HEADER = ("reference", "transfer_id", "amount", "currency", "status", "settled_at")
STATUSES = frozenset({"COMPLETED", "FAILED", "REVERSED"})
PAGE = 200
_FILE = re.compile(r"^settlements/(?P<partner>[A-Z]+)/(?P<day>\d{4}-\d{2}-\d{2})\.csv$")
_REFERENCE = re.compile(r"^[0-9A-Za-z-]{1,64}-(INCENTIVE|SURVEY)-[0-9]{1,2}-A[0-9]{1,3}$")


class Malformed(ValueError):
    """The file is not a settlement file as the protocol writes it: `code`, and where and why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


@dataclass(frozen=True)
class Line:
    reference: str
    transfer_id: str
    amount: int
    currency: str
    status: str
    settled_at: datetime


def settlement_key(partner_id: str, day: date) -> str:
    return f"settlements/{partner_id}/{day.isoformat()}.csv"


def report_key(partner_id: str, day: date) -> str:
    return f"reconciliation/{partner_id}/{day.isoformat()}.csv"


def reconcile(has_time: Callable[[], bool]) -> dict[str, Any]:
    """Reconcile every settlement file of a day before today that is new or was rewritten since."""
    today = registration.programme_today()
    done: dict[str, int] = {"files": 0, "rejected": 0, "reconciled": 0, "mismatches": 0}
    for partner_id in PARTNERS:
        for key, etag in sorted(files.listing(f"settlements/{partner_id}/").items()):
            match = _FILE.match(key)
            if match is None or match["partner"] != partner_id:
                continue
            day = date.fromisoformat(match["day"])
            if day >= today:
                continue  # the partner still writes it
            found = settlements.state(partner_id, day)
            if found is not None and found.etag == etag and found.finished:
                continue
            if found is None or found.etag != etag:
                found = Reconciliation(partner_id, day, etag)
            result = _reconcile_file(found, has_time)
            if not result.finished:
                return {**done, "more": True}
            done["files"] += 1
            done["rejected"] += result.stage is Stage.REJECTED
            done["reconciled"] += result.counts.get("reconciled", 0)
            done["mismatches"] += result.counts.get("mismatches", 0)
    count("SettlementFilesReconciled", done["files"])
    return done


def _reconcile_file(state: Reconciliation, has_time: Callable[[], bool]) -> Reconciliation:
    key = settlement_key(state.partner_id, state.day)
    if state.stage is Stage.CHECKING:
        try:
            for _ in _lines(key, 0):
                pass
        except Malformed as malformed:
            logger.warning("settlement file rejected", extra={"key": key, "reason": malformed.code})
            rejected = replace(state, stage=Stage.REJECTED, reason=str(malformed))
            settlements.save(rejected)
            return rejected
        state = replace(state, stage=Stage.APPLYING, offset=0)
        settlements.save(state)
    counts = dict(state.counts)
    for applied, (line, end) in enumerate(_lines(key, state.offset), start=1):
        outcome = _apply(state.partner_id, state.day, line)
        counts[outcome] = counts.get(outcome, 0) + 1
        if applied % PAGE == 0:
            state = replace(state, offset=end, counts=counts)
            settlements.save(state)
            if not has_time():
                return state
    counts["not_in_file"] = _recorded_not_in_file(state.partner_id, state.day)
    counts["mismatches"] = len(mismatches.of_day(state.day, state.partner_id))
    _write_report(state.partner_id, state.day)
    done = replace(state, stage=Stage.DONE, offset=0, counts=counts)
    settlements.save(done)
    logger.info("settlement file reconciled", extra={"key": key, **counts})
    return done


def _lines(key: str, offset: int) -> Iterator[tuple[Line, int]]:
    """The file's lines from byte `offset` (0: the header first), each with the offset after it."""
    position = offset
    number = 0
    for raw in files.lines_from(key, offset):
        position += len(raw)
        number += 1
        try:
            text = raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError as error:
            raise Malformed("NOT_TEXT", f"baris {number}: bukan teks UTF-8") from error
        if not text:
            continue
        fields = next(csv.reader(io.StringIO(text)))
        if offset == 0 and number == 1:
            if tuple(fields) != HEADER:
                raise Malformed("BAD_HEADER", f"baris judul harus {','.join(HEADER)}")
            continue
        yield _line(fields, number), position
    if offset == 0 and number == 0:
        raise Malformed("EMPTY", "berkas kosong, tanpa baris judul")


def _line(fields: list[str], number: int) -> Line:
    if len(fields) != len(HEADER):
        raise Malformed("BAD_LINE", f"baris {number}: {len(fields)} kolom, seharusnya {len(HEADER)}")
    reference, transfer_id, amount, currency, status, settled_at = fields
    if not reference or not transfer_id:
        raise Malformed("BAD_LINE", f"baris {number}: reference dan transfer_id wajib diisi")
    if not re.fullmatch(r"[0-9]{1,12}", amount):
        raise Malformed("BAD_AMOUNT", f"baris {number}: amount harus bilangan bulat Rupiah")
    if status not in STATUSES:
        raise Malformed("BAD_STATUS", f"baris {number}: status harus salah satu dari {sorted(STATUSES)}")
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise Malformed("BAD_CURRENCY", f"baris {number}: currency harus kode tiga huruf")
    try:
        moment = datetime.fromisoformat(settled_at)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise Malformed("BAD_TIME", f"baris {number}: settled_at harus waktu ISO 8601 dengan zona")
    return Line(reference, transfer_id, int(amount), currency, status, moment)


def _apply(partner_id: str, day: date, line: Line) -> str:
    """One settlement line against the records; the outcome's name, counted per file."""
    payment_id = payment_of_attempt(line.reference) if _REFERENCE.match(line.reference) else ""
    payment, attempts = payments.payment(payment_id) if payment_id else (None, {})
    attempt = attempts.get(line.reference)
    details: dict[str, object] = {
        "transfer_id": line.transfer_id,
        "amount": line.amount,
        "status": line.status,
    }
    differs = _differs(partner_id, line, payment, attempt)
    if differs is not None:
        return _mismatch(day, partner_id, line.reference, differs, details)
    assert payment is not None and attempt is not None
    if attempt.state is not _STATE_OF[line.status]:
        # What the partner did and the programme has not heard yet: applied as its answer.
        outcome = disbursement.record_answer(
            payment,
            attempt,
            line.status,
            None,
            line.amount,
            line.transfer_id,
            actor="reconciliation",
            settled_at=line.settled_at,
        )
        if outcome == "EXCEPTION":
            return "mismatch"
        payment, _ = payments.payment(payment_id)
    if line.status == "FAILED":
        return "failed"
    if payment is None or payment.status is PaymentStatus.RECONCILED:
        return "reconciled"
    if payment.status is not PaymentStatus.PAID or payment.current_attempt != line.reference:
        return _mismatch(
            day, partner_id, line.reference, "NOT_PAID_HERE", {**details, "recorded": payment.status}
        )
    return "reconciled" if _reconciled(payment, day) else "moved"


_STATE_OF = {"COMPLETED": AttemptState.SUCCEEDED, "FAILED": AttemptState.FAILED}


def _differs(partner_id: str, line: Line, payment: Payment | None, attempt: Attempt | None) -> str | None:
    """Why the line cannot be applied to the records at all, or None."""
    if payment is None or attempt is None:
        return "NOT_RECORDED"
    if attempt.partner_id != partner_id:
        return "OTHER_PARTNER"
    if line.amount != attempt.amount or line.currency != "IDR":
        return "AMOUNT_DIFFERS"
    if line.status == "REVERSED":
        return "REVERSED"
    return None


def _reconciled(payment: Payment, day: date) -> bool:
    to = transitions.reconciled(payment)
    now = clock.now()
    unit = UnitOfWork()
    payments.move(unit, payment, to)
    payments.add_history(unit, payment, to.status, now, "reconciliation", {"day": day.isoformat()})
    figures.step(unit, day, payment.partner_id or "NONE", "reconciled", payment.amount, payment.payment_id)
    try:
        unit.commit()
    except Refused:
        return False
    return True


def _recorded_not_in_file(partner_id: str, day: date) -> int:
    """Payments recorded as paid through the partner that day and neither reconciled nor listed
    once its whole file was applied: each is a mismatch."""
    listed = {mismatch.reference for mismatch in mismatches.of_day(day, partner_id)}
    missing = 0
    for shard in range(payments.SHARDS):
        for payment in payments.paid_unreconciled(partner_id, day, shard):
            if payment.current_attempt in listed:
                continue  # its line is in the file, and differs: listed already
            details: dict[str, object] = {"payment_id": payment.payment_id, "amount": payment.amount}
            _mismatch(day, partner_id, payment.current_attempt or payment.payment_id, "NOT_IN_FILE", details)
            missing += 1
    return missing


def _mismatch(day: date, partner_id: str, reference: str, kind: str, details: dict[str, object]) -> str:
    mismatches.add(day, partner_id, reference, kind, details, clock.now())
    count("ReconciliationMismatches")
    return "mismatch"


def _write_report(partner_id: str, day: date) -> None:
    """The day's mismatches for the partner, as a CSV for whoever settles them with the partner."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("reference", "kind", "details", "found_at"))
    for found in mismatches.of_day(day, partner_id):
        writer.writerow((found.reference, found.kind, _details(found.details), found.found_at.isoformat()))
    files.put(report_key(partner_id, day), buffer.getvalue().encode())


def _details(details: dict[str, object]) -> str:
    return ";".join(f"{name}={value}" for name, value in sorted(details.items()))
