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
from datetime import timedelta
from typing import Any

from chalicelib.core import clock, files
from chalicelib.core.auth import Caller
from chalicelib.core.errors import Forbidden, NotFound, ValidationFailed
from chalicelib.core.observability import logger, mask
from chalicelib.core.settings import settings
from chalicelib.registration import csvfile, import_reasons, import_rows, rules, spreadsheets, store
from chalicelib.registration.import_rows import IMPORTED
from chalicelib.registration.model import NATIONAL_UPLOADS, Import, ImportKind, ImportStatus
from chalicelib.registration.provinces import is_province
from chalicelib.registration.schemas import ImportRequest


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


def reason_message(batch: Import) -> str | None:
    """Why the file was rejected, in words that say how to mend it."""
    return import_reasons.file_reason(batch.reason) if batch.reason else None


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
# What the report adds to the input's columns, for every row.
REPORT_COLUMNS = ("outcome", "error_code", "error_message")
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
        return store.save_import(replace(updated, version=read.version, updated_at=clock.now()))
    except store.StaleImport as error:
        raise Superseded(read.import_id) from error


def watch() -> dict[str, Any]:
    """End every import whose state has not moved for `IMPORT_STALL_MINUTES`, with a reason.

    Whatever stopped it (a file never uploaded, a consumer failing on every delivery until its
    message went to the dead-letter queue, a continuation lost), an office must never be left
    with an import PENDING or RUNNING for ever. Rows imported before the stall stay imported:
    uploading the file again reports them DUPLICATE and imports the rest.
    """
    cutoff = clock.now() - timedelta(minutes=settings().import_stall_minutes)
    stalled = []
    for import_id in store.active_imports():
        batch = store.import_batch(import_id)
        if batch is None or batch.status in (ImportStatus.DONE, ImportStatus.REJECTED):
            store.forget_active_import(import_id)
            continue
        if (batch.updated_at or batch.created_at) > cutoff:
            continue
        reason = "NOT_UPLOADED" if batch.status is ImportStatus.PENDING else "STALLED"
        try:
            _save(_rejected(batch, reason), batch)
        except Superseded:
            continue
        logger.error("import stalled", extra={"import_id": import_id, "reason": reason, "rows": batch.rows})
        stalled.append(import_id)
    return {"stalled": stalled}


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
        header, rows = csvfile.opened(files.lines_from(batch.upload_key, 0, upload_version))
        damaged = spreadsheets.damaged_identity_column(
            header.columns, rows, with_kk=batch.kind is ImportKind.REGISTRATIONS
        )
    except csvfile.Unreadable as unreadable:
        return _rejected(batch, unreadable.reason)
    missing = csvfile.missing_columns(batch.kind.value, list(header.columns))
    if missing:
        return _rejected(batch, "MISSING_COLUMNS: " + ", ".join(missing))
    if damaged is not None:
        return _rejected(batch, damaged)
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
    outcomes = import_rows.outcomes(batch, rows, first_row=batch.rows + 1)
    counts = Counter(batch.counts) + Counter(outcome.outcome for outcome in outcomes)
    codes = Counter(batch.codes) + Counter(outcome.code for outcome in outcomes if outcome.code)
    lists = set(batch.lists)
    report = []
    for row, outcome in zip(rows, outcomes, strict=True):
        if batch.kind is ImportKind.EXCLUSION and outcome.outcome == IMPORTED:
            lists.add(dict(zip(batch.columns, row.cells, strict=True))["list"].strip().upper())
        report.append(csvfile.csv_line([*_shown(batch, row.cells), *outcome]))
    if rows:
        files.put(batch.part_key(batch.parts + 1), "".join(report).encode())
    advanced = replace(
        batch,
        offset=batch.offset + consumed,
        rows=batch.rows + len(rows),
        parts=batch.parts + bool(rows),
        counts=dict(counts),
        codes=dict(codes),
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


def _finished(batch: Import) -> Import:
    head = csvfile.csv_line([*batch.columns, *REPORT_COLUMNS]).encode()
    parts = [batch.part_key(number) for number in range(1, batch.parts + 1)]
    files.concatenate(parts, batch.report_key, head=head)
    if batch.kind is ImportKind.EXCLUSION:
        store.activate_exclusion_lists(set(batch.lists), batch.import_id)
    logger.info(
        "import done", extra={"import_id": batch.import_id, "rows": batch.rows, "counts": batch.counts}
    )
    return replace(batch, status=ImportStatus.DONE)
