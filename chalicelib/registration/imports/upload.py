"""CSV batches from regional offices and admins: asking to upload one, and following what became of it.

An office imports for its own province only; exclusion lists are national and for admins only.
The upload itself goes straight to S3 through a presigned link, so files never pass through the
API (and its body limit). Processing the uploaded file is the import consumer's work.
"""

from __future__ import annotations

import uuid

from chalicelib.core import clock, files
from chalicelib.core.auth import Caller, ensure_province
from chalicelib.core.errors import Forbidden, ValidationFailed
from chalicelib.core.observability import logger
from chalicelib.core.provinces import is_province
from chalicelib.registration.errors import ImportNotFound
from chalicelib.registration.imports import reasons
from chalicelib.registration.model import NATIONAL_UPLOADS, Import, ImportKind, ImportStatus
from chalicelib.registration.schemas import ImportRequest
from chalicelib.registration.stores import imports as store


def _province_for(request: ImportRequest, caller: Caller) -> str:
    kind = ImportKind(request.kind)
    if kind is ImportKind.EXCLUSION:
        if caller.role != "admin":
            raise Forbidden("Daftar pengecualian hanya dapat diunggah admin.", code="ADMIN_ONLY")
        return NATIONAL_UPLOADS
    # An office imports for its own province; an admin for any: the one named, else the token's own.
    province = request.province or caller.province
    ensure_province(caller, province)
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
    return reasons.file_reason(batch.reason) if batch.reason else None


def import_status(import_id: str, caller: Caller) -> tuple[Import, str | None]:
    """The import with a link to its report once done; offices see only their province's."""
    batch = store.import_batch(import_id)
    if batch is None:
        raise ImportNotFound()
    ensure_province(caller, batch.province)
    report = files.download_link(batch.report_key) if batch.status is ImportStatus.DONE else None
    return batch, report
