"""Office imports: each one's state and checkpoint, and which are still under way."""

from __future__ import annotations

from dataclasses import replace

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import PutError

from chalicelib.core.storage import Refused, UnitOfWork
from chalicelib.registration.model import Import, ImportKind, ImportStatus
from chalicelib.registration.stores.tables import JobItem


class _ImportRecord(JobItem):
    kind = UnicodeAttribute()
    province = UnicodeAttribute()
    filename = UnicodeAttribute()
    requested_by = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute(null=True)
    status = UnicodeAttribute()
    counts = JSONAttribute(default=dict)
    codes = JSONAttribute(default=dict)
    reason = UnicodeAttribute(null=True)
    columns = JSONAttribute(default=list)
    delimiter = UnicodeAttribute(default=",")
    offset = NumberAttribute(default=0)
    rows = NumberAttribute(default=0)
    parts = NumberAttribute(default=0)
    lists = JSONAttribute(default=list)
    version = NumberAttribute(default=0)
    upload_version = UnicodeAttribute(null=True)


# Imports not yet DONE or REJECTED, one marker each, so that the watchdog reads them alone.
_ACTIVE_IMPORTS = "IMPORTS#ACTIVE"


class _ActiveImportRecord(JobItem):
    pass


def add_import(batch: Import) -> None:
    save_import(batch)


class StaleImport(Exception):
    """The import moved on since it was read (another run of it got there first)."""


def save_import(batch: Import) -> Import:
    """Store the import's new state if nobody else moved it since it was read; raises otherwise.

    The first save marks the import active and the save that finishes it takes the mark away,
    in the same transaction as the state.
    """
    saved = replace(batch, version=batch.version + 1)
    record = _ImportRecord(
        f"IMPORT#{batch.import_id}",
        "STATE",
        kind=batch.kind.value,
        province=batch.province,
        filename=batch.filename,
        requested_by=batch.requested_by,
        created_at=batch.created_at,
        updated_at=batch.updated_at or batch.created_at,
        status=batch.status.value,
        counts=dict(batch.counts),
        codes=dict(batch.codes),
        reason=batch.reason,
        columns=list(batch.columns),
        delimiter=batch.delimiter,
        offset=batch.offset,
        rows=batch.rows,
        parts=batch.parts,
        lists=list(batch.lists),
        version=saved.version,
        upload_version=batch.upload_version,
    )
    first = batch.version == 0
    condition = _ImportRecord.pk.does_not_exist() if first else _ImportRecord.version == batch.version
    marker = _ActiveImportRecord(_ACTIVE_IMPORTS, batch.import_id)
    finished = batch.status in (ImportStatus.DONE, ImportStatus.REJECTED)
    try:
        if not (first or finished):
            record.save(condition=condition)
            return saved
        unit = UnitOfWork()
        unit.put(record, condition=condition)
        if finished:
            unit.delete(marker)
        else:
            unit.put(marker)
        unit.commit()
    except PutError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            raise StaleImport(batch.import_id) from error
        raise
    except Refused as refused:
        raise StaleImport(batch.import_id) from refused
    return saved


def active_imports() -> list[str]:
    """The ids of the imports that are neither DONE nor REJECTED (and, briefly, of some just finished)."""
    return [record.sk for record in _ActiveImportRecord.query(_ACTIVE_IMPORTS, consistent_read=True)]


def forget_active_import(import_id: str) -> None:
    _ActiveImportRecord(_ACTIVE_IMPORTS, import_id).delete()


def import_batch(import_id: str) -> Import | None:
    """Read consistently: each continuation starts from the checkpoint its sender saved just before,
    and a stale one would make its own save stale, ending the import's chain of runs unfinished."""
    try:
        record = _ImportRecord.get(f"IMPORT#{import_id}", "STATE", consistent_read=True)
    except _ImportRecord.DoesNotExist:
        return None
    return Import(
        import_id=import_id,
        kind=ImportKind(record.kind),
        province=record.province,
        filename=record.filename,
        requested_by=record.requested_by,
        created_at=record.created_at,
        updated_at=record.updated_at,
        status=ImportStatus(record.status),
        counts={name: int(count) for name, count in record.counts.items()},
        codes={code: int(count) for code, count in record.codes.items()},
        reason=record.reason,
        columns=tuple(record.columns),
        delimiter=record.delimiter,
        offset=int(record.offset),
        rows=int(record.rows),
        parts=int(record.parts),
        lists=tuple(record.lists),
        version=int(record.version),
        upload_version=record.upload_version,
    )
