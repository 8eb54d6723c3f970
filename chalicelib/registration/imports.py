"""CSV batches from regional offices and admins: asking to upload one, and following what became of it.

An office imports for its own province only; exclusion lists are national and for admins only.
The upload itself goes straight to S3 through a presigned link, so files never pass through the
API (and its body limit). Processing the uploaded file is the import consumer's work.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from pydantic import ValidationError

from chalicelib import clock, files
from chalicelib.auth import Caller
from chalicelib.errors import DomainError, Forbidden, NotFound, ValidationFailed
from chalicelib.observability import logger, mask
from chalicelib.registration import csvfile, rules, service, store
from chalicelib.registration.model import NATIONAL_UPLOADS, Event, Import, ImportKind, ImportStatus
from chalicelib.registration.provinces import is_province
from chalicelib.registration.schemas import ImportRequest, OfficeRegistration
from chalicelib.settings import programme, settings


class ImportNotFound(NotFound):
    code = "IMPORT_NOT_FOUND"
    message = "Impor tidak ditemukan."


def _province_for(request: ImportRequest, caller: Caller) -> str:
    kind = ImportKind(request.kind)
    if kind is ImportKind.EXCLUSION:
        if caller.role != "admin":
            raise Forbidden("Daftar pengecualian hanya dapat diunggah admin.", code="ADMIN_ONLY")
        return NATIONAL_UPLOADS
    if caller.role == "office":
        if request.province not in (None, caller.province):
            raise Forbidden("Anda hanya berhak atas data provinsi Anda.", code="WRONG_PROVINCE")
        return str(caller.province)
    # An admin imports for any province: the one named in the request, else the token's own.
    province = request.province or caller.province
    if province is None or not is_province(province):
        raise ValidationFailed(fields={"province": "admin harus menyebut kode provinsi yang sah"})
    return province


def request_import(request: ImportRequest, caller: Caller) -> tuple[Import, str]:
    """Record a pending import and give the link to upload its file to."""
    batch = Import(
        import_id=uuid.uuid4().hex,
        kind=ImportKind(request.kind),
        province=_province_for(request, caller),
        filename=request.filename,
        requested_by=caller.sub,
        created_at=clock.now(),
    )
    store.add_import(batch)
    logger.info("import requested", extra={"import_id": batch.import_id, "kind": batch.kind.value})
    return batch, files.upload_link(batch.upload_key)


def import_status(import_id: str, caller: Caller) -> tuple[Import, str | None]:
    """The import with a link to its report once done; offices see only their province's."""
    batch = store.import_batch(import_id)
    if batch is None:
        raise ImportNotFound()
    if caller.role != "admin" and caller.province != batch.province:
        raise Forbidden("Anda hanya berhak atas data provinsi Anda.", code="WRONG_PROVINCE")
    report = files.download_link(batch.report_key) if batch.status is ImportStatus.DONE else None
    return batch, report


# --- processing an uploaded file ----------------------------------------------------------------

CHUNK_ROWS = 200
IMPORTED, DUPLICATE, INVALID, NOT_ELIGIBLE, WRONG_PROVINCE = (
    "IMPORTED",
    "DUPLICATE",
    "INVALID",
    "NOT_ELIGIBLE",
    "WRONG_PROVINCE",
)
_UPLOAD = re.compile(r"^imports/(?P<province>\d{2}|national)/(?P<import_id>[0-9a-f]{32})\.csv$")


class Superseded(Exception):
    """Another run moved the import on first (a duplicate notification): this one stops."""


def process_upload(key: str, has_time: Callable[[], bool]) -> dict[str, Any]:
    """An object arrived under `imports/`: import it if it is the file of a pending import."""
    match = _UPLOAD.match(key)
    batch = store.import_batch(match["import_id"]) if match else None
    if batch is None or match is None or batch.province != match["province"]:
        logger.warning("upload without a pending import ignored", extra={"key": key})
        return {"ignored": key}
    return continue_import(batch.import_id, has_time)


def continue_import(import_id: str, has_time: Callable[[], bool]) -> dict[str, Any]:
    """Import the next chunks from the checkpoint until done or out of time; `more` if not done."""
    batch = store.import_batch(import_id)
    if batch is None or batch.status in (ImportStatus.DONE, ImportStatus.REJECTED):
        return {"import_id": import_id, "skipped": True}
    try:
        if batch.status is ImportStatus.PENDING:
            batch = _save(_inspected(batch), batch)
            if batch.status is ImportStatus.REJECTED:
                return {"import_id": import_id, "status": batch.status.value, "reason": batch.reason}
        first = True
        while batch.status is ImportStatus.RUNNING and (first or has_time()):
            first = False
            batch = _save(_next_chunk(batch), batch)
    except Superseded:
        return {"import_id": import_id, "superseded": True}
    if batch.status is ImportStatus.DONE:
        # Only once DONE is stored: a run killed before that joins the parts again.
        files.delete([batch.part_key(number) for number in range(1, batch.parts + 1)])
    return {
        "import_id": import_id,
        "status": batch.status.value,
        "more": batch.status is ImportStatus.RUNNING,
    }


def _save(updated: Import, read: Import) -> Import:
    try:
        return store.save_import(replace(updated, version=read.version))
    except store.StaleImport as error:
        raise Superseded(read.import_id) from error


def _rejected(batch: Import, reason: str) -> Import:
    logger.info("import rejected", extra={"import_id": batch.import_id, "reason": reason})
    return replace(batch, status=ImportStatus.REJECTED, reason=reason)


def _inspected(batch: Import) -> Import:
    """The whole file is read once before anything is imported: a file that is not a readable CSV
    of this kind is rejected as a whole, with nothing changed."""
    size, upload_version = files.size_and_version(batch.upload_key)
    if size == 0:
        return _rejected(batch, "EMPTY_FILE")
    if size > settings().max_import_bytes:
        return _rejected(batch, "FILE_TOO_LARGE")
    try:
        header = csvfile.header_of(files.lines_from(batch.upload_key, 0, upload_version))
    except csvfile.Unreadable as unreadable:
        return _rejected(batch, unreadable.reason)
    missing = csvfile.missing_columns(batch.kind.value, list(header.columns))
    if missing:
        return _rejected(batch, "MISSING_COLUMNS: " + ", ".join(missing))
    return replace(
        batch,
        status=ImportStatus.RUNNING,
        columns=header.columns,
        delimiter=header.delimiter,
        offset=header.end,
        upload_version=upload_version,
    )


def _next_chunk(batch: Import) -> Import:
    rows: list[csvfile.Record] = []
    consumed = 0
    lines = files.lines_from(batch.upload_key, batch.offset, batch.upload_version)
    for record in csvfile.records(lines, batch.delimiter, len(batch.columns)):
        consumed += record.size
        if not record.blank:
            rows.append(record)
            if len(rows) == CHUNK_ROWS:
                break
    outcomes = _outcomes(batch, rows, first_row=batch.rows + 1)
    counts = Counter(batch.counts) + Counter(outcome for outcome, _ in outcomes)
    lists = set(batch.lists)
    report = []
    for row, (outcome, code) in zip(rows, outcomes, strict=True):
        if batch.kind is ImportKind.EXCLUSION and outcome == IMPORTED:
            lists.add(dict(zip(batch.columns, row.cells, strict=True))["list"].strip().upper())
        report.append(csvfile.csv_line([*_shown(batch, row.cells), outcome, code]))
    if rows:
        files.put(batch.part_key(batch.parts + 1), "".join(report).encode())
    advanced = replace(
        batch,
        offset=batch.offset + consumed,
        rows=batch.rows + len(rows),
        parts=batch.parts + bool(rows),
        counts=dict(counts),
        lists=tuple(sorted(lists)),
    )
    return advanced if len(rows) == CHUNK_ROWS else _finished(advanced)


def _shown(batch: Import, cells: list[str]) -> list[str]:
    """A row as the report shows it: rectangular (a row with too many or too few cells is cut or
    padded), and whole only when its NIK is one of the import's province. The province's office
    reads the report, also of an admin's upload for it, and a row about someone of another
    province may fail before its province is checked (one cell too many, a mistyped NIK), whatever
    its outcome. National uploads are an admin's only, and not about one province."""
    width = len(batch.columns)
    shown = (cells + [""] * width)[:width]
    if batch.province == NATIONAL_UPLOADS:
        return shown
    niks = [cell.strip() for name, cell in zip(batch.columns, shown, strict=True) if name == "nik"]
    if all(rules.sixteen_digits(nik) and nik[:2] == batch.province for nik in niks):
        return shown
    return _withheld(batch.columns, shown)


def _withheld(columns: tuple[str, ...], cells: list[str]) -> list[str]:
    """A row that may be about someone of another province: only the NIK's last four digits stay,
    enough for the uploader to find the row; a NIK cell that is not digits may hold anything (a
    name in the wrong column), so it shows nothing."""
    return [
        mask(cell.strip()) if name == "nik" and _digits(cell.strip()) else ""
        for name, cell in zip(columns, cells, strict=True)
    ]


def _digits(value: str) -> bool:
    return value.isascii() and value.isdigit()


def _outcomes(batch: Import, rows: list[csvfile.Record], first_row: int) -> list[tuple[str, str]]:
    if batch.kind is ImportKind.REGISTRATIONS:
        return _register(batch, rows, first_row)
    if batch.kind is ImportKind.EXCLUSION:
        return _exclude(batch, rows)
    return [_outcome(batch, row) for row in rows]


def _finished(batch: Import) -> Import:
    head = csvfile.csv_line([*batch.columns, "outcome", "error_code"]).encode()
    parts = [batch.part_key(number) for number in range(1, batch.parts + 1)]
    files.concatenate(parts, batch.report_key, head=head)
    if batch.kind is ImportKind.EXCLUSION:
        store.activate_exclusion_lists(set(batch.lists), batch.import_id)
    logger.info(
        "import done", extra={"import_id": batch.import_id, "rows": batch.rows, "counts": batch.counts}
    )
    return replace(batch, status=ImportStatus.DONE)


def _row_of(batch: Import, record: csvfile.Record) -> dict[str, str] | tuple[str, str]:
    """The row by column name, or the outcome of a row that cannot be read as one."""
    if record.error is not None:
        return INVALID, record.error
    if len(record.cells) != len(batch.columns):
        return INVALID, "CELL_COUNT"
    row = dict(zip(batch.columns, record.cells, strict=True))
    if csvfile.scientific(row["nik"]):
        return INVALID, "NIK_SCIENTIFIC_NOTATION"
    return row


def _with_nik(batch: Import, record: csvfile.Record) -> dict[str, str] | tuple[str, str]:
    """A cohort or exclusion row by column name, or the outcome of one without a readable NIK."""
    row = _row_of(batch, record)
    if isinstance(row, tuple):
        return row
    if not rules.sixteen_digits(row["nik"]):
        return INVALID, "INVALID_NIK"
    return row


def _outcome(batch: Import, record: csvfile.Record) -> tuple[str, str]:
    """A cohort row's outcome."""
    row = _with_nik(batch, record)
    if isinstance(row, tuple):
        return row
    return _tag(batch, row["nik"], row["cohort"].strip().upper())


# Cohort and list names end up in keys and public figures: a letter first, and no run of five
# digits or more, so that a NIK, KK, phone or account number typed in the wrong column is refused.
_NAME = re.compile(r"^(?![A-Z0-9_]*[0-9]{5})[A-Z][A-Z0-9_]{0,39}$")


def _tag(batch: Import, nik: str, cohort: str) -> tuple[str, str]:
    """A partner agency's person gets the cohort; a NIK nobody registered is reported, not kept."""
    if nik[:2] != batch.province:
        return WRONG_PROVINCE, "WRONG_PROVINCE"
    if not _NAME.match(cohort):
        return INVALID, "INVALID_COHORT"
    participant_id = store.holder_of("NIK", nik)
    if participant_id is None:
        return INVALID, "NOT_REGISTERED"
    event = Event(
        at=clock.now(),
        actor=batch.requested_by,
        action="COHORT_TAGGED",
        status_from=None,
        status_to=None,
        details={"cohort": cohort, "import_id": batch.import_id},
    )
    service.tag_cohort(participant_id, cohort, event)
    return IMPORTED, ""


def _exclude(batch: Import, rows: list[csvfile.Record]) -> list[tuple[str, str]]:
    """Exclusion lists are national: any province's NIK, registered or not yet. A list the upload
    had not carried before this chunk starts counting it before its first person is written."""
    outcomes, listed = [], []
    for record in rows:
        row = _with_nik(batch, record)
        if isinstance(row, tuple):
            outcomes.append(row)
            continue
        list_name = row["list"].strip().upper()
        if not _NAME.match(list_name):
            outcomes.append((INVALID, "INVALID_LIST"))
            continue
        outcomes.append((IMPORTED, ""))
        listed.append((row["nik"], list_name))
    opened = {list_name for _, list_name in listed} - set(batch.lists)
    if opened:
        store.open_exclusion_lists(opened, batch.import_id)
    for nik, list_name in listed:
        store.add_exclusion(nik, list_name, batch.import_id)
    return outcomes


_CODES = {
    "DUPLICATE_NIK": DUPLICATE,
    "DUPLICATE_EMAIL": DUPLICATE,
    "DUPLICATE_PHONE": DUPLICATE,
    "ALREADY_REGISTERED": DUPLICATE,
    "NOT_ELIGIBLE": NOT_ELIGIBLE,
}


def _register(batch: Import, rows: list[csvfile.Record], first_row: int) -> list[tuple[str, str]]:
    """A chunk's rows through the same rules and uniqueness as an online registration, batched.

    A row's account is the import and its row number: run again after a crash, the row meets its
    own registration and application and is IMPORTED again; a second row for the same person in
    the file, or the same file uploaded twice, meets another account's claims and is a DUPLICATE.
    """
    outcomes: list[tuple[str, str] | None] = []
    requests: list[tuple[OfficeRegistration, str]] = []
    for number, record in enumerate(rows, start=first_row):
        checked = _office_registration(batch, record)
        if isinstance(checked, tuple):
            outcomes.append(checked)
        else:
            outcomes.append(None)
            requests.append((checked, f"office:{batch.import_id}:{number}"))
    registered = iter(service.register_many(requests, channel="OFFICE"))
    accounts = iter(account for _, account in requests)
    settled = []
    for record, outcome in zip(rows, outcomes, strict=True):
        if outcome is not None:
            settled.append(outcome)
            continue
        result, account = next(registered), next(accounts)
        if isinstance(result, DomainError):
            settled.append((_CODES.get(result.code, INVALID), result.code))
        else:
            row = dict(zip(batch.columns, record.cells, strict=True))
            settled.append(_applied(account, row.get("wave_id")))
    return settled


def _office_registration(batch: Import, record: csvfile.Record) -> OfficeRegistration | tuple[str, str]:
    """The row as a registration request, or the outcome that stops it here."""
    row = _row_of(batch, record)
    if isinstance(row, tuple):
        return row
    nik = row["nik"]
    if rules.sixteen_digits(nik) and nik[:2] != batch.province:
        return WRONG_PROVINCE, "WRONG_PROVINCE"
    body = {
        name: row.get(name) or None
        for name in ("nik", "kk_number", "full_name", "gender", "email", "phone", "regency_code", "education")
    } | {
        "birth_date": _iso_date(row["birth_date"]),
        "employment_status": row["employment_status"].upper(),
        "province_code": batch.province,
        "declarations": dict.fromkeys(programme().ineligible_declarations, False),
    }
    try:
        return OfficeRegistration.model_validate(body)
    except ValidationError:
        return INVALID, "VALIDATION_FAILED"


def _applied(account: str, wave_id: str | None) -> tuple[str, str]:
    """An imported row with a wave also applies to it; a refused application is reported, not undone.
    A row run again after a crash reports its own first attempt's application as that attempt did."""
    if wave_id:
        try:
            service.apply_to_wave(account, wave_id)
        except service.AlreadyApplied as error:
            if not service.applied_through(account, wave_id):
                return IMPORTED, error.code
        except DomainError as error:
            return IMPORTED, error.code
    return IMPORTED, ""


def _iso_date(value: str) -> str:
    """`1990-01-05` as it is; `05/01/1990` or `05-01-1990` (day first, as Indonesia writes it) to ISO."""
    day_first = re.match(r"^(\d{1,2})[/-](\d{1,2})[/-](\d{4})$", value)
    return f"{day_first[3]}-{int(day_first[2]):02d}-{int(day_first[1]):02d}" if day_first else value
