"""Versioned checkpoints of jobs that own no domain state (the reports' drift check): a JSON
state in the jobs table, saved only over the version it was read at.

A run that was killed and started again reads the last saved state and goes on from there; two
runs side by side cannot both save over the same version, so the slower one stops instead of
adding its page a second time.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import JSONAttribute, NumberAttribute
from pynamodb.exceptions import PutError

from chalicelib.core.storage import Keyed, table_meta


class _CheckpointRecord(Keyed):
    Meta = table_meta("jobs")
    state = JSONAttribute(default=dict)
    version = NumberAttribute(default=0)


class Superseded(Exception):
    """Another run saved this checkpoint since it was read."""


def read(job: str, key: str) -> tuple[dict[str, Any], int]:
    """The saved state and its version ({} and 0 if never saved)."""
    try:
        record = _CheckpointRecord.get(job, key, consistent_read=True)
    except _CheckpointRecord.DoesNotExist:
        return {}, 0
    return dict(record.state), int(record.version)


def save(job: str, key: str, state: dict[str, Any], version: int) -> int:
    """Save `state` over `version`; the new version. Raises `Superseded` if it moved."""
    condition = (
        _CheckpointRecord.pk.does_not_exist() if version == 0 else _CheckpointRecord.version == version
    )
    try:
        _CheckpointRecord(job, key, state=state, version=version + 1).save(condition=condition)
    except PutError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            raise Superseded(f"{job} {key}") from error
        raise
    return version + 1
