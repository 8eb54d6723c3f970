"""What was sent to a participant, as the local stage's `/dev/messages` shows it (CONTRACT.md).

The outbox keeps each channel's delivery (its template, its details, when it was sent) but never
the rendered text: the text holds the person's name, and personal data stays on the participant's
item alone (docs/DATA.md). The text is rendered again from the same template, details and name,
which is what was sent as long as the name has not changed since.
"""

from __future__ import annotations

from typing import Any

from chalicelib.core import outbox
from chalicelib.core.outbox import DeliveryState
from chalicelib.registration import service as registration
from chalicelib.surveys.notify import templates
from chalicelib.surveys.notify.channels import Channel


def sent_to(participant_id: str) -> list[dict[str, Any]]:
    """`[{"channel", "template", "sent_at", "text"}]`, newest first."""
    contact = registration.contacts([participant_id]).get(participant_id)
    name = contact.full_name if contact else ""
    found = []
    for delivery in outbox.deliveries(participant_id):
        if delivery.state != DeliveryState.SENT or delivery.finished_at is None:
            continue
        message = templates.render(delivery.kind, name, delivery.details)
        email = delivery.channel == Channel.EMAIL.value
        found.append(
            {
                "channel": delivery.channel,
                "template": delivery.kind,
                "sent_at": delivery.finished_at.isoformat(),
                "text": f"{message.subject}\n\n{message.body}" if email else message.sms,
            }
        )
    return sorted(found, key=lambda message: str(message["sent_at"]), reverse=True)
