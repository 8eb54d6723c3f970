"""Cohorts partner agencies tag people with, and exclusion lists that keep people from selection."""

from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute, UnicodeSetAttribute

from chalicelib.core.storage import Refused, UnitOfWork, pii_key
from chalicelib.registration import figures
from chalicelib.registration.model import Event, Participant, SelectionState
from chalicelib.registration.selection import StaleParticipant
from chalicelib.registration.stores import ledger
from chalicelib.registration.stores.participants import ProfileRecord, participant, profile
from chalicelib.registration.stores.tables import GuardItem, JobItem
from chalicelib.registration.stores.waves import (
    ApplicationRecord,
    applicants_key,
    not_selecting,
    open_application,
    wave,
)

# Revoked people are on this list for every later wave; no upload can replace it.
REVOKED_LIST = "REVOKED"
REVOCATION_SOURCE = "REVOCATION"
EXCLUSION_LISTS = "EXCLUSION_LISTS"


class ExclusionRecord(GuardItem):
    list_name = UnicodeAttribute()
    # Every upload of the list that carried the person: a new upload adds itself rather than
    # replacing the one in force, which must still find them until the new one is done.
    import_ids = UnicodeSetAttribute(null=True)
    # The one upload of an entry written before uploads were kept side by side.
    import_id = UnicodeAttribute(null=True)

    def uploads(self) -> set[str]:
        return {*(self.import_ids or ()), *([self.import_id] if self.import_id else [])}


def exclusion_key(nik: str, list_name: str) -> str:
    return f"{pii_key('EXCLUDED', nik)}#{list_name}"


class _ListRecord(JobItem):
    import_id = UnicodeAttribute(null=True)
    incoming = UnicodeSetAttribute(null=True)


def tag_cohort(participant_id: str, cohort: str, event: Event, priority_cohorts: tuple[str, ...]) -> bool:
    """Add the cohort to the participant's cohorts, once; with its audit event.

    A cohort in `priority_cohorts` also moves the participant's open application into its pool's
    priority partitions (`_prioritised`), in the same transaction, so that the wave's selection
    sees them first, as if they had been tagged before applying. True if an application moved.
    """
    found = participant(participant_id)
    if found is None or cohort in found.cohorts:
        return False
    application = _prioritised(found) if cohort in priority_cohorts else None
    unit = UnitOfWork()
    unit.update(
        profile(participant_id),
        actions=[ProfileRecord.cohorts.set([*found.cohorts, cohort]), ProfileRecord.version.add(1)],
        condition=ProfileRecord.version == found.version,
    )
    ledger.record(unit, participant_id, event)
    figures.count_cohort(unit, found.province_code, cohort, participant_id)
    if application is not None:
        record, partition = application
        unit.update(
            record,
            actions=[ApplicationRecord.gsi1pk.set(partition)],
            condition=ApplicationRecord.gsi1pk == record.gsi1pk,
        )
        # A selection that has started may have read the priority partitions already: moving the
        # application there then would hide it from the selection for good.
        not_selecting(unit, record.wave_id)
    try:
        unit.commit()
    except Refused as refused:
        raise StaleParticipant(participant_id) from refused
    return application is not None


def _prioritised(found: Participant) -> tuple[ApplicationRecord, str] | None:
    """The participant's open application and the priority partition it belongs in, if it is not
    there yet and its wave's selection has not started (after that, the priority counts from the
    next wave they apply to). Read again on every attempt of `tag_cohort`, so a selection asked
    for in between is seen, and the transaction's check on the wave catches the rest."""
    record = open_application(found)
    if record is None or record.gsi1sk is None:
        return None
    applied_to = wave(record.wave_id)
    if applied_to is None or applied_to.selection is not SelectionState.NOT_STARTED:
        return None
    partition = applicants_key(record.wave_id, record.pool, True, record.gsi1sk.partition("#")[0])
    return None if record.gsi1pk == partition else (record, partition)


def open_exclusion_lists(list_names: set[str], import_id: str) -> None:
    """The upload counts for each list it carries from before its first person on it is written,
    beside the list's current version, until it is done: while a list is replaced, the people on
    either version are excluded (excluding more for a while is the safe direction)."""
    for name in list_names:
        _ListRecord(EXCLUSION_LISTS, name).update(actions=[_ListRecord.incoming.add({import_id})])


def add_exclusion(nik: str, list_name: str, import_id: str) -> None:
    """Put the person on `list_name` as uploaded by `import_id`, beside the uploads that put them
    on it before."""
    ExclusionRecord(exclusion_key(nik, list_name)).update(
        actions=[ExclusionRecord.list_name.set(list_name), ExclusionRecord.import_ids.add({import_id})]
    )


def activate_exclusion_lists(list_names: set[str], import_id: str) -> None:
    """A finished upload becomes the current version of each list it carried, and the one it
    replaces stops counting, in one write per list."""
    for name in list_names:
        _ListRecord(EXCLUSION_LISTS, name).update(
            actions=[_ListRecord.import_id.set(import_id), _ListRecord.incoming.delete({import_id})]
        )


def exclusion_versions() -> dict[str, tuple[str, ...]]:
    """The uploads of each list that count, its current version first, then any still running;
    revoked people are always on one. A read that misses the latest switch counts an upload
    more, never one fewer."""
    versions = {
        record.sk: (*([record.import_id] if record.import_id else []), *sorted(record.incoming or ()))
        for record in _ListRecord.query(EXCLUSION_LISTS)
    }
    return {**versions, REVOKED_LIST: (REVOCATION_SOURCE,)}


def excluded(people: list[Participant]) -> set[str]:
    """Who of `people` is on a list in a version that counts: an older upload of a list no
    longer does."""
    versions = exclusion_versions()
    by_key = {
        exclusion_key(person.nik, name): person.participant_id for person in people for name in versions
    }
    return {
        by_key[record.pk]
        for record in ExclusionRecord.batch_get(list(by_key))
        if record.uploads() & set(versions.get(record.list_name, ()))
    }


def exclusions_of(nik: str) -> dict[str, str]:
    """The lists the person is on in a version that counts, with the upload it came from (the
    current version, if it carries them)."""
    versions = exclusion_versions()
    records = ExclusionRecord.batch_get([exclusion_key(nik, name) for name in versions])
    found = {}
    for record in records:
        uploads = record.uploads()
        counting = [upload for upload in versions.get(record.list_name, ()) if upload in uploads]
        if counting:
            found[record.list_name] = counting[0]
    return found


def add_revoked(unit: UnitOfWork, nik: str) -> None:
    """The revoked person's entry on the `REVOKED` exclusion list, in the revocation's unit of work."""
    unit.put(
        ExclusionRecord(
            exclusion_key(nik, REVOKED_LIST), list_name=REVOKED_LIST, import_ids={REVOCATION_SOURCE}
        )
    )
