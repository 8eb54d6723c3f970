"""The tables registration keeps its items in, as PynamoDB bases for its own item models."""

from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute
from pynamodb.models import Model

from chalicelib.core.storage import Gsi1, Gsi2, Keyed, table_meta


class ParticipantItem(Keyed):
    """A participant's profile (`P#<id>`/`PROFILE`) and its append-only audit events."""

    Meta = table_meta("participants")
    gsi1 = Gsi1()
    gsi2 = Gsi2()
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)


class GuardItem(Model):
    """One uniqueness claim (`NIK#<hmac>`, `EMAIL#…`, `PHONE#…`, `KK#…`) or exclusion entry."""

    Meta = table_meta("guards")
    pk = UnicodeAttribute(hash_key=True)
    participant_id = UnicodeAttribute(null=True)


class WaveItem(Keyed):
    """Waves (`WAVES`/`<wave_id>`) and applications to them, indexed by wave and pool."""

    Meta = table_meta("waves")
    gsi1 = Gsi1()
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)


class JobItem(Keyed):
    """Registration's job state in the jobs table: imports, selection checkpoints, lookup counters,
    exclusion lists, refusal counters."""

    Meta = table_meta("jobs")
