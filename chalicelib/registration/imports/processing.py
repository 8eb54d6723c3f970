"""Processing an uploaded file: read whole once to reject it if it cannot be imported, then
imported a chunk at a time from a byte-offset checkpoint, each chunk's report part written as it
goes; and the watchdog that ends imports that stopped moving."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

from chalicelib.core import clock, files
from chalicelib.core.observability import count, logger
from chalicelib.core.settings import settings
from chalicelib.registration.imports import csvfile, report, rows, spreadsheets
from chalicelib.registration.imports.rows import IMPORTED
from chalicelib.registration.model import Import, ImportKind, ImportStatus
from chalicelib.registration.stores import imports as store
from chalicelib.registration.stores import lists

CHUNK_ROWS = 200
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
        count("ImportsStalled")
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
    chunk: list[csvfile.Record] = []
    consumed = 0
    lines = files.lines_from(batch.upload_key, batch.offset, batch.upload_version)
    for record in csvfile.records(lines, batch.delimiter, len(batch.columns)):
        consumed += record.size
        if not record.blank:
            chunk.append(record)
            if len(chunk) == CHUNK_ROWS:
                break
    outcomes = rows.outcomes(batch, chunk, first_row=batch.rows + 1)
    counted = Counter(outcome.outcome for outcome in outcomes)
    for outcome, number in counted.items():
        count(f"ImportRows{outcome.title().replace('_', '')}", number)
    carried = set(batch.lists)
    if batch.kind is ImportKind.EXCLUSION:
        carried |= {
            dict(zip(batch.columns, row.cells, strict=True))["list"].strip().upper()
            for row, outcome in zip(chunk, outcomes, strict=True)
            if outcome.outcome == IMPORTED
        }
    if chunk:
        files.put(batch.part_key(batch.parts + 1), report.lines(batch, chunk, outcomes))
    advanced = replace(
        batch,
        offset=batch.offset + consumed,
        rows=batch.rows + len(chunk),
        parts=batch.parts + bool(chunk),
        counts=dict(Counter(batch.counts) + counted),
        codes=dict(Counter(batch.codes) + Counter(outcome.code for outcome in outcomes if outcome.code)),
        lists=tuple(sorted(carried)),
    )
    return advanced if len(chunk) == CHUNK_ROWS else _finished(advanced)


def _finished(batch: Import) -> Import:
    report.join(batch)
    if batch.kind is ImportKind.EXCLUSION:
        lists.activate_exclusion_lists(set(batch.lists), batch.import_id)
    logger.info(
        "import done", extra={"import_id": batch.import_id, "rows": batch.rows, "counts": batch.counts}
    )
    return replace(batch, status=ImportStatus.DONE)
