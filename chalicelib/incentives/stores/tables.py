"""The tables the incentives domain keeps its items in, as PynamoDB bases for its own item models.

A payee's partition (`PAYEE#<participant id>`) holds items of several kinds (the account, each
payment with its attempts nested under it, the audit trail, callbacks); the `item` attribute says
which, so that one query of a payment's key range hands back the payment and its attempts as the
models they are (PynamoDB's discriminator).
"""

from __future__ import annotations

from pynamodb.attributes import DiscriminatorAttribute, UnicodeAttribute

from chalicelib.core.storage import Gsi1, Keyed, table_meta


class PaymentItem(Keyed):
    """An item of the payments table; indexed by due date, by what is in flight, and by what was
    paid and not yet reconciled (`stores.payments`)."""

    Meta = table_meta("payments")
    item = DiscriminatorAttribute()
    gsi1 = Gsi1()
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)


class JobItem(Keyed):
    """The incentives domain's job state in the jobs table: each settlement file's reconciliation."""

    Meta = table_meta("jobs")
