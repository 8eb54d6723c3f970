"""The table the incentives domain keeps its items in (payments, moving in with the money)."""

from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute

from chalicelib.core.storage import Gsi1, Keyed, table_meta


class PaymentItem(Keyed):
    """Incentive and survey payments; indexed by due date for disbursement."""

    Meta = table_meta("payments")
    gsi1 = Gsi1()
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
