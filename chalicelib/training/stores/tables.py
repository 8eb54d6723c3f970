"""The tables training keeps its items in, as PynamoDB bases for its own item models."""

from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute

from chalicelib.core.storage import Gsi1, Gsi2, Keyed, table_meta


class CatalogueItem(Keyed):
    """Courses and purchases; indexed by platform or buyer (`gsi1`) and the whole catalogue (`gsi2`)."""

    Meta = table_meta("catalogue")
    gsi1 = Gsi1()
    gsi2 = Gsi2()
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)


class JobItem(Keyed):
    """Training's job state in the jobs table: the sweeps' checkpoints."""

    Meta = table_meta("jobs")
