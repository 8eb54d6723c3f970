"""Selection's storage: applications read through the waves index, decisions written as transactions
(see `registration.selection`, whose tests use an in-memory fake of this store)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute

from chalicelib.core import outbox
from chalicelib.core.storage import Refused, UnitOfWork, pii_key
from chalicelib.registration import figures
from chalicelib.registration.model import Participant, Status
from chalicelib.registration.selection import PARTITIONS, Checkpoint, Decision, StaleParticipant
from chalicelib.registration.stores import ledger, lists
from chalicelib.registration.stores.balance import deadline_key
from chalicelib.registration.stores.participants import ProfileRecord, participants, profile
from chalicelib.registration.stores.tables import GuardItem, JobItem
from chalicelib.registration.stores.waves import ApplicationRecord, applicants_key


class _CheckpointRecord(JobItem):
    version = NumberAttribute()
    partition = NumberAttribute()
    start_key = UnicodeAttribute(null=True)
    selected = NumberAttribute()
    examined = NumberAttribute()


class _FamilyRecord(GuardItem):
    recipients = NumberAttribute(null=True)


def _decided_in(participant: Participant, wave_id: str) -> Any:
    return (
        (ProfileRecord.version == participant.version)
        & (ProfileRecord.status == Status.APPLIED.value)
        & (ProfileRecord.wave_id == wave_id)
    )


class DynamoSelectionStore:
    """Selection's storage: applications through the waves index, decisions as transactions."""

    def checkpoint(self, wave_id: str, pool: str) -> Checkpoint | None:
        """Read consistently, as every checkpoint here: a continuation starts right after the save of
        the run that sent it, and an eventually consistent read could still return the state before
        it, whose save would then be refused as stale."""
        try:
            record = _CheckpointRecord.get(f"SELECTION#{wave_id}", f"POOL#{pool}", consistent_read=True)
        except _CheckpointRecord.DoesNotExist:
            return None
        return Checkpoint(
            wave_id,
            pool,
            int(record.partition),
            record.start_key,
            int(record.selected),
            int(record.examined),
            int(record.version),
        )

    def save_checkpoint(self, checkpoint: Checkpoint) -> Checkpoint:
        saved = replace(checkpoint, version=checkpoint.version + 1)
        record = _CheckpointRecord(
            f"SELECTION#{checkpoint.wave_id}",
            f"POOL#{checkpoint.pool}",
            version=saved.version,
            partition=checkpoint.partition,
            start_key=checkpoint.start_key,
            selected=checkpoint.selected,
            examined=checkpoint.examined,
        )
        first = checkpoint.version == 0
        record.save(
            condition=_CheckpointRecord.pk.does_not_exist()
            if first
            else _CheckpointRecord.version == checkpoint.version
        )
        return saved

    def pools_done(self, wave_id: str, pools: int) -> bool:
        """Each pool asks after saving its last checkpoint: of two that finish at once, the later
        one's consistent read sees both, where eventually consistent ones could leave the wave
        RUNNING for good."""
        done = [
            record
            for record in _CheckpointRecord.query(f"SELECTION#{wave_id}", consistent_read=True)
            if int(record.partition) >= len(PARTITIONS)
        ]
        return len(done) >= pools

    def applicants(
        self, wave_id: str, pool: str, partition: tuple[bool, str], start_key: str | None, limit: int
    ) -> tuple[list[str], str | None]:
        priority, digit = partition
        results = ApplicationRecord.gsi1.query(
            applicants_key(wave_id, pool, priority, digit),
            limit=limit,
            last_evaluated_key=json.loads(start_key) if start_key else None,
        )
        ids = [record.participant_id for record in results]
        last = results.last_evaluated_key
        return ids, json.dumps(last) if last else None

    def participants(self, participant_ids: list[str]) -> dict[str, Participant]:
        return participants(participant_ids)

    def excluded(self, people: list[Participant]) -> set[str]:
        return lists.excluded(people)

    def record_selection(self, decision: Decision, family_cap: int) -> bool:
        participant, deadline = decision.participant, decision.purchase_deadline
        expires = decision.balance_expires_at
        assert deadline is not None and expires is not None
        wave_id = str(decision.event.details["wave_id"])
        unit = UnitOfWork()
        unit.update(
            profile(participant.participant_id),
            actions=[
                ProfileRecord.status.set(Status.SELECTED.value),
                ProfileRecord.selected_wave.set(wave_id),
                ProfileRecord.balance.set(decision.balance),
                ProfileRecord.purchase_deadline.set(deadline),
                ProfileRecord.balance_expires_at.set(expires),
                ProfileRecord.gsi1pk.set(deadline_key(deadline, participant.participant_id)),
                ProfileRecord.gsi1sk.set(participant.participant_id),
                ProfileRecord.version.add(1),
            ],
            condition=_decided_in(participant, wave_id),
            label="participant",
        )
        unit.update(
            _FamilyRecord(pii_key("KK", participant.kk_number)),
            actions=[_FamilyRecord.recipients.add(1)],
            condition=_FamilyRecord.recipients.does_not_exist() | (_FamilyRecord.recipients < family_cap),
            label="family",
        )
        ledger.record(unit, participant.participant_id, decision.event)
        figures.count(
            unit, participant.province_code, participant.participant_id, wave_id=wave_id, selected=1
        )
        outbox.add(
            unit,
            participant.participant_id,
            "SELECTED",
            f"WAVE#{wave_id}",
            {"wave_id": wave_id},
            decision.event.at,
        )
        try:
            unit.commit()
        except Refused as refused:
            if refused.labels == {"family"}:
                return False
            raise StaleParticipant(participant.participant_id) from refused
        return True

    def record_rejection(self, decision: Decision) -> None:
        participant = decision.participant
        wave_id = str(decision.event.details["wave_id"])
        unit = UnitOfWork()
        unit.update(
            profile(participant.participant_id),
            actions=[ProfileRecord.status.set(Status.NOT_SELECTED.value), ProfileRecord.version.add(1)],
            condition=_decided_in(participant, wave_id),
        )
        ledger.record(unit, participant.participant_id, decision.event)
        outbox.add(
            unit,
            participant.participant_id,
            "NOT_SELECTED",
            f"WAVE#{wave_id}",
            {"wave_id": wave_id, "reason": decision.reason or ""},
            decision.event.at,
        )
        try:
            unit.commit()
        except Refused as refused:
            raise StaleParticipant(participant.participant_id) from refused
