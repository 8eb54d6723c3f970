"""An import's rows, a chunk at a time: each row of a registrations, cohort or exclusion file gets
its outcome, with a specific code and a message the clerk can act on (`reasons`)."""

from __future__ import annotations

import re
from typing import NamedTuple

from pydantic import ValidationError

from chalicelib.core import clock
from chalicelib.core.errors import DomainError
from chalicelib.core.settings import programme
from chalicelib.core.validation import field_problems
from chalicelib.registration import rules
from chalicelib.registration.applications import applied_through, apply_to_wave, tag_cohort
from chalicelib.registration.errors import AlreadyApplied
from chalicelib.registration.imports import csvfile, reasons, spreadsheets
from chalicelib.registration.imports.reasons import RowProblem
from chalicelib.registration.model import Account, Event, Import, ImportKind, OfficeRow
from chalicelib.registration.registrations import register_many
from chalicelib.registration.schemas import OfficeRegistration
from chalicelib.registration.stores import lists, participants

IMPORTED, DUPLICATE, INVALID, NOT_ELIGIBLE, WRONG_PROVINCE = (
    "IMPORTED",
    "DUPLICATE",
    "INVALID",
    "NOT_ELIGIBLE",
    "WRONG_PROVINCE",
)


class Outcome(NamedTuple):
    outcome: str
    code: str = ""
    message: str = ""

    @classmethod
    def of(cls, outcome: str, problem: RowProblem) -> Outcome:
        return cls(outcome, problem.code, problem.message)


def _invalid(code: str) -> Outcome:
    return Outcome.of(INVALID, reasons.row_problem(code))


def outcomes(batch: Import, rows: list[csvfile.Record], first_row: int) -> list[Outcome]:
    if batch.kind is ImportKind.REGISTRATIONS:
        return _register(batch, rows, first_row)
    if batch.kind is ImportKind.EXCLUSION:
        return _exclude(batch, rows)
    return [_cohort_outcome(batch, row) for row in rows]


def _row_of(batch: Import, record: csvfile.Record) -> dict[str, str] | Outcome:
    """The row by column name, or the outcome of a row that cannot be read as one."""
    if record.error is not None:
        return _invalid(record.error)
    if len(record.cells) != len(batch.columns):
        return _invalid("CELL_COUNT")
    return dict(zip(batch.columns, record.cells, strict=True))


def _with_nik(batch: Import, record: csvfile.Record) -> dict[str, str] | Outcome:
    """A cohort or exclusion row by column name, or the outcome of one without a readable NIK."""
    row = _row_of(batch, record)
    if isinstance(row, Outcome):
        return row
    if not rules.sixteen_digits(row["nik"]):
        return Outcome.of(INVALID, reasons.field_problem({"nik": "NIK harus 16 angka"}, batch.columns))
    return row


# Cohort and list names end up in keys and public figures: a letter first, and no run of five
# digits or more, so that a NIK, KK, phone or account number typed in the wrong column is refused.
_NAME = re.compile(r"^(?![A-Z0-9_]*[0-9]{5})[A-Z][A-Z0-9_]{0,39}$")


def _cohort_outcome(batch: Import, record: csvfile.Record) -> Outcome:
    """A partner agency's person gets the cohort; a NIK nobody registered is reported, not kept."""
    row = _with_nik(batch, record)
    if isinstance(row, Outcome):
        return row
    nik, cohort = row["nik"], row["cohort"].strip().upper()
    if nik[:2] != batch.province:
        return Outcome.of(WRONG_PROVINCE, reasons.row_problem(WRONG_PROVINCE))
    if not _NAME.match(cohort):
        return _invalid("INVALID_COHORT")
    participant_id = participants.holder_of("NIK", nik)
    if participant_id is None:
        return _invalid("NOT_REGISTERED")
    event = Event(
        at=clock.now(),
        actor=batch.requested_by,
        action="COHORT_TAGGED",
        status_from=None,
        status_to=None,
        details={"cohort": cohort, "import_id": batch.import_id},
    )
    tag_cohort(participant_id, cohort, event)
    return Outcome(IMPORTED)


# The lists an upload carries are kept in the import's state item, which DynamoDB caps at 400 KB.
MAX_LISTS_PER_UPLOAD = 20


def _exclude(batch: Import, rows: list[csvfile.Record]) -> list[Outcome]:
    """Exclusion lists are national: any province's NIK, registered or not yet. A list the upload
    had not carried before this chunk starts counting it before its first person is written."""
    settled, listed = [], []
    carried = set(batch.lists)
    for record in rows:
        row = _with_nik(batch, record)
        if isinstance(row, Outcome):
            settled.append(row)
            continue
        list_name = row["list"].strip().upper()
        if not _NAME.match(list_name):
            settled.append(_invalid("INVALID_LIST"))
            continue
        if list_name not in carried and len(carried) == MAX_LISTS_PER_UPLOAD:
            settled.append(_invalid("TOO_MANY_LISTS"))
            continue
        carried.add(list_name)
        settled.append(Outcome(IMPORTED))
        listed.append((row["nik"], list_name))
    opened = {list_name for _, list_name in listed} - set(batch.lists)
    if opened:
        lists.open_exclusion_lists(opened, batch.import_id)
    for nik, list_name in listed:
        lists.add_exclusion(nik, list_name, batch.import_id)
    return settled


_OUTCOMES = {
    "DUPLICATE_NIK": DUPLICATE,
    "DUPLICATE_EMAIL": DUPLICATE,
    "DUPLICATE_PHONE": DUPLICATE,
    "ALREADY_REGISTERED": DUPLICATE,
    "NOT_ELIGIBLE": NOT_ELIGIBLE,
}


def _register(batch: Import, rows: list[csvfile.Record], first_row: int) -> list[Outcome]:
    """A chunk's rows through the same rules and uniqueness as an online registration, batched.

    A row's account is the import and its row number: run again after a crash, the row meets its
    own registration and application and is IMPORTED again; a second row for the same person in
    the file, or the same file uploaded twice, meets another account's claims and is a DUPLICATE.
    """
    settled: list[Outcome | None] = []
    requests: list[tuple[OfficeRegistration, Account]] = []
    for number, record in enumerate(rows, start=first_row):
        checked = _office_registration(batch, record)
        if isinstance(checked, Outcome):
            settled.append(checked)
        else:
            settled.append(None)
            requests.append((checked, row_account(batch.import_id, number)))
    registered = iter(register_many(requests, channel="OFFICE"))
    accounts = iter(account for _, account in requests)
    final = []
    for record, outcome in zip(rows, settled, strict=True):
        if outcome is not None:
            final.append(outcome)
            continue
        result, account = next(registered), next(accounts)
        if isinstance(result, DomainError):
            problem = reasons.of_error(result, batch.columns)
            final.append(Outcome.of(_OUTCOMES.get(result.code, INVALID), problem))
        else:
            row = dict(zip(batch.columns, record.cells, strict=True))
            final.append(_applied(account, row.get("wave_id")))
    return final


def row_account(import_id: str, row_number: int) -> OfficeRow:
    """The account an imported row registers under: the import and the row's number."""
    return OfficeRow(import_id, row_number)


_FIELDS = ("nik", "kk_number", "full_name", "gender", "email", "phone", "regency_code")


def _office_registration(batch: Import, record: csvfile.Record) -> OfficeRegistration | Outcome:
    """The row as a registration request, read as an office's spreadsheet writes it, or the
    outcome that stops it here."""
    row = _row_of(batch, record)
    if isinstance(row, Outcome):
        return row
    nik = row["nik"]
    if rules.sixteen_digits(nik) and nik[:2] != batch.province:
        return Outcome.of(WRONG_PROVINCE, reasons.row_problem(WRONG_PROVINCE))
    try:
        birth_date = spreadsheets.office_date(row["birth_date"])
    except spreadsheets.AmbiguousYear:
        return _invalid("AMBIGUOUS_YEAR")
    body = {name: row.get(name) or None for name in _FIELDS} | {
        "gender": spreadsheets.office_gender(row["gender"]) or None,
        "birth_date": birth_date or None,
        "education": row["education"].upper() or None,
        "employment_status": row["employment_status"].upper() or None,
        "province_code": batch.province,
        "declarations": dict.fromkeys(programme().ineligible_declarations, False),
    }
    try:
        return OfficeRegistration.model_validate(body)
    except ValidationError as error:
        problems = field_problems(error)
        # An empty cell is "required", whatever type pydantic found None not to be.
        for name, value in body.items():
            if value is None and name in problems:
                problems[name] = "wajib diisi"
        return Outcome.of(INVALID, reasons.field_problem(problems, batch.columns))


def _applied(account: Account, wave_id: str | None) -> Outcome:
    """An imported row with a wave also applies to it; a refused application is reported, not undone.
    A row run again after a crash reports its own first attempt's application as that attempt did."""
    if wave_id:
        try:
            apply_to_wave(account, wave_id)
        except AlreadyApplied as error:
            if not applied_through(account, wave_id):
                return _applied_but(error)
        except DomainError as error:
            return _applied_but(error)
    return Outcome(IMPORTED)


def _applied_but(error: DomainError) -> Outcome:
    reason = f"peserta terdaftar, tetapi tidak dapat mendaftar gelombang ini ({error.message.rstrip('.')})"
    return Outcome(IMPORTED, error.code, reasons.about("wave_id", reason))
