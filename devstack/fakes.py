"""In-memory stand-ins for the stores, for fast tests and benchmarks at the programme's size.

`InMemorySelectionStore` keeps the contract of the DynamoDB one
(`registration.stores.selection`: pages in index order, conditional decisions, versioned
checkpoints) and counts every item it reads and writes, so a benchmark can show what selection
would cost DynamoDB.
"""

from __future__ import annotations

import bisect
import json
from collections import Counter
from dataclasses import replace

from chalicelib.registration.model import Participant, Status, Wave
from chalicelib.registration.selection import Checkpoint, Decision, StaleParticipant


class InMemorySelectionStore:
    def __init__(
        self, wave: Wave, participants: list[Participant], ranks: dict[str, str], priority: set[str]
    ) -> None:
        self.wave = wave
        self.people = {participant.participant_id: participant for participant in participants}
        self.partitions: dict[tuple[str, bool, str], list[tuple[str, str]]] = {}
        for participant in participants:
            rank = ranks[participant.participant_id]
            pool = wave.pool_of(participant.province_code)
            key = (pool, participant.participant_id in priority, rank[0])
            bisect.insort(self.partitions.setdefault(key, []), (rank, participant.participant_id))
        self.checkpoints: dict[str, Checkpoint] = {}
        self.families: Counter[str] = Counter()
        self.excluded_ids: set[str] = set()
        self.items_read = 0
        self.items_written = 0
        self.decisions = 0
        self.fail_after: int | None = None

    def checkpoint(self, wave_id: str, pool: str) -> Checkpoint | None:
        self.items_read += 1
        return self.checkpoints.get(pool)

    def save_checkpoint(self, checkpoint: Checkpoint) -> Checkpoint:
        current = self.checkpoints.get(checkpoint.pool)
        if (current.version if current else 0) != checkpoint.version:
            raise RuntimeError("checkpoint moved")
        saved = replace(checkpoint, version=checkpoint.version + 1)
        self.checkpoints[checkpoint.pool] = saved
        self.items_written += 1
        return saved

    def applicants(
        self, wave_id: str, pool: str, partition: tuple[bool, str], start_key: str | None, limit: int
    ) -> tuple[list[str], str | None]:
        entries = self.partitions.get((pool, *partition), [])
        start = bisect.bisect_right(entries, tuple(json.loads(start_key))) if start_key else 0
        page = entries[start : start + limit]
        self.items_read += len(page)
        more = start + limit < len(entries)
        return [participant_id for _, participant_id in page], json.dumps(page[-1]) if more and page else None

    def participants(self, participant_ids: list[str]) -> dict[str, Participant]:
        self.items_read += len(participant_ids)
        return {participant_id: self.people[participant_id] for participant_id in participant_ids}

    def excluded(self, participants: list[Participant]) -> set[str]:
        self.items_read += len(participants)
        return {participant.participant_id for participant in participants} & self.excluded_ids

    def _decide(self, decision: Decision, status: Status) -> None:
        if self.fail_after is not None and self.decisions >= self.fail_after:
            raise KeyboardInterrupt("killed")
        current = self.people[decision.participant.participant_id]
        if current.version != decision.participant.version or current.status is not Status.APPLIED:
            raise StaleParticipant(current.participant_id)
        self.people[current.participant_id] = replace(
            current,
            status=status,
            selected_wave=self.wave.wave_id if status is Status.SELECTED else current.selected_wave,
            version=current.version + 1,
        )
        self.decisions += 1

    def record_selection(self, decision: Decision, family_cap: int) -> bool:
        family = decision.participant.kk_number
        if self.families[family] >= family_cap:
            return False
        self._decide(decision, Status.SELECTED)
        self.families[family] += 1
        self.items_written += 4
        return True

    def record_rejection(self, decision: Decision) -> None:
        self._decide(decision, Status.NOT_SELECTED)
        self.items_written += 3

    def selected(self) -> set[str]:
        return {pid for pid, participant in self.people.items() if participant.status is Status.SELECTED}
