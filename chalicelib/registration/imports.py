"""CSV batches from regional offices and admins: asking to upload one, and following what became of it.

An office imports for its own province only; exclusion lists are national and for admins only.
The upload itself goes straight to S3 through a presigned link, so files never pass through the
API (and its body limit). Processing the uploaded file is the import consumer's work.
"""

from __future__ import annotations

import uuid

from chalicelib import clock, files
from chalicelib.auth import Caller
from chalicelib.errors import Forbidden, NotFound, ValidationFailed
from chalicelib.observability import logger
from chalicelib.registration import store
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
    if request.province is None or not is_province(request.province):
        raise ValidationFailed(fields={"province": "admin harus menyebut kode provinsi yang sah"})
    return request.province


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
