"""The registration domain's objects: what a wave and a participant are, whatever stores them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum


class Status(StrEnum):
    REGISTERED = "REGISTERED"
    APPLIED = "APPLIED"
    NOT_SELECTED = "NOT_SELECTED"
    SELECTED = "SELECTED"
    TRAINING = "TRAINING"
    INCENTIVE = "INCENTIVE"
    FINISHED = "FINISHED"
    REVOKED = "REVOKED"


# Who may spend a training balance: a first purchase moves SELECTED on to TRAINING; later ones
# leave the stage alone.
SPENDING = (Status.SELECTED, Status.TRAINING, Status.INCENTIVE, Status.FINISHED)


class Verification(StrEnum):
    PENDING = "PENDING"
    NIK_VERIFIED = "NIK_VERIFIED"
    NIK_REJECTED = "NIK_REJECTED"


class SelectionState(StrEnum):
    NOT_STARTED = "NOT_STARTED"
    REQUESTED = "REQUESTED"
    RUNNING = "RUNNING"
    DONE = "DONE"


# A wave with no province split selects nationally: its applicants form one pool under this name.
NATIONAL = "ALL"


@dataclass(frozen=True)
class Wave:
    wave_id: str
    opens_at: datetime
    closes_at: datetime
    quota: int
    province_quotas: dict[str, int]
    seed: str = ""
    selection: SelectionState = SelectionState.NOT_STARTED
    # The programme days on which this wave's selected people fall due: purchase deadlines, and the
    # end of the balance's usage period; as the rules in force at selection made them.
    deadline_days: tuple[date, ...] = ()
    expiry_days: tuple[date, ...] = ()

    def pool_of(self, province_code: str) -> str:
        """The selection pool an applicant from `province_code` competes in."""
        return province_code if self.province_quotas else NATIONAL

    def pools(self) -> dict[str, int]:
        """Each selection pool with its quota."""
        return dict(self.province_quotas) if self.province_quotas else {NATIONAL: self.quota}

    def accepts_applications(self, moment: datetime) -> bool:
        return self.opens_at <= moment < self.closes_at

    def has_places_in(self, province_code: str) -> bool:
        """A wave split by province has places only in the provinces it lists."""
        return not self.province_quotas or province_code in self.province_quotas


@dataclass(frozen=True)
class Participant:
    participant_id: str
    nik: str
    kk_number: str
    full_name: str
    birth_date: date
    gender: str
    email: str | None
    phone: str
    province_code: str
    regency_code: str
    education: str
    employment_status: str
    declarations: dict[str, bool]
    registered_at: datetime
    registered_by: str
    channel: str
    fingerprint: str
    status: Status = Status.REGISTERED
    verification: Verification = Verification.PENDING
    wave_id: str | None = None
    cohorts: tuple[str, ...] = field(default_factory=tuple)
    selected_wave: str | None = None
    balance: int | None = None
    purchase_deadline: datetime | None = None
    balance_expires_at: datetime | None = None
    revocation_reason: str | None = None
    version: int = 1


@dataclass(frozen=True)
class Contact:
    """What a later stage needs to tell a participant something, and nothing more (no NIK, no
    birth date): the name to address them by, where to reach them, and where they stand."""

    participant_id: str
    full_name: str
    email: str | None
    phone: str
    status: Status


@dataclass(frozen=True)
class OfficeRow:
    """The account an office file's row registers under: the import and the row's number.

    It lives in a namespace of its own, apart from token subjects: a token whose subject spells
    `office:<import>:<row>` is just another account, and never that row's participant.
    """

    import_id: str
    row: int

    def __str__(self) -> str:
        return f"office:{self.import_id}:{self.row}"


# Who acts for a participant: a token's subject, or an office file's row.
Account = str | OfficeRow


@dataclass(frozen=True)
class Event:
    """One entry of a participant's audit trail: who changed what, when, and why."""

    at: datetime
    actor: str
    action: str
    status_from: str | None
    status_to: str | None
    reason: str | None = None
    details: dict[str, str | int] = field(default_factory=dict)


class ImportKind(StrEnum):
    REGISTRATIONS = "registrations"
    COHORT = "cohort"
    EXCLUSION = "exclusion"


class ImportStatus(StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    DONE = "DONE"
    REJECTED = "REJECTED"


# Exclusion lists are national: their files live under this name instead of a province code.
NATIONAL_UPLOADS = "national"


@dataclass(frozen=True)
class Import:
    """A CSV batch an office or an admin uploads, and what became of it."""

    import_id: str
    kind: ImportKind
    province: str
    filename: str
    requested_by: str
    created_at: datetime
    # When its state last moved: an import that stops moving is stalled (`imports.watch`).
    updated_at: datetime | None = None
    status: ImportStatus = ImportStatus.PENDING
    counts: dict[str, int] = field(default_factory=dict)
    # Rows per error code: "40 rows: INVALID_PHONE" at a glance. Bounded by the codes there are.
    codes: dict[str, int] = field(default_factory=dict)
    reason: str | None = None
    columns: tuple[str, ...] = ()
    delimiter: str = ","
    offset: int = 0
    rows: int = 0
    parts: int = 0
    lists: tuple[str, ...] = ()
    version: int = 0
    # The upload's S3 version the import inspected: every chunk reads that one, so a file uploaded
    # over it while the import runs (the upload link stays valid) cannot change the rows under it.
    upload_version: str | None = None

    @property
    def upload_key(self) -> str:
        return f"imports/{self.province}/{self.import_id}.csv"

    @property
    def report_key(self) -> str:
        return f"results/{self.province}/{self.import_id}.csv"

    def part_key(self, number: int) -> str:
        """One chunk's report lines until the report is joined (the bucket expires leftovers)."""
        return f"parts/{self.province}/{self.import_id}/{number:05d}.csv"
