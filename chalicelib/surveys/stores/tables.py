"""The table the surveys domain keeps its items in."""

from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute

from chalicelib.core.storage import Gsi1, Keyed, table_meta


class SurveyItem(Keyed):
    """Surveys sent to participants and their responses; indexed by due date for dispatch."""

    Meta = table_meta("surveys")
    gsi1 = Gsi1()
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
