"""The two ways a message reaches a person: e-mail through SES, SMS through SNS, each paced under
its own rate limit (settings), since both services refuse, or worse silently queue, what goes over
the account's quota.

A provider's answer is one of three: it took the message (its id), it refused it (`Refused`: the
message did not go, another round may try again), or it is unknown whether it took it (`Unknown`:
a timeout after the request left; never sent again, lest it arrive twice).
"""

from __future__ import annotations

import threading
import time
from enum import StrEnum
from functools import cache
from typing import Any

from chalicelib.core.settings import settings
from chalicelib.surveys.notify.templates import Message


class Channel(StrEnum):
    EMAIL = "EMAIL"
    SMS = "SMS"


class Refused(Exception):
    """The provider did not take the message (a refusal, a throttle, an unreachable endpoint)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Unknown(Exception):
    """The request left and no answer came: the message may have been taken."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@cache
def _client(service: str) -> Any:
    import boto3
    from botocore.config import Config

    # No retries of our own request by botocore: a send retried after a timeout could arrive twice.
    config = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=3, read_timeout=10)
    return boto3.client(service, region_name=settings().region, config=config)


class Pacer:
    """At most `per_second` sends a second on one channel, spaced evenly: a burst of a whole page
    would trip SES's per-second quota even when the minute's total is well under it."""

    def __init__(self, per_second: float) -> None:
        self._interval = 1.0 / per_second
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        """Return no sooner than one interval after the last send was released: the next slot is
        counted from when that send really went, so a late one never lets two crowd together."""
        with self._lock:
            now = time.monotonic()
            if self._next > now:
                time.sleep(self._next - now)
            self._next = time.monotonic() + self._interval


def pacers() -> dict[Channel, Pacer]:
    config = settings()
    return {Channel.EMAIL: Pacer(config.email_per_second), Channel.SMS: Pacer(config.sms_per_second)}


def send(channel: Channel, address: str, message: Message, token: str) -> str:
    """Hand one message to its channel's provider; the provider's message id."""
    from botocore.exceptions import (
        ClientError,
        ConnectTimeoutError,
        EndpointConnectionError,
        ReadTimeoutError,
    )

    try:
        if channel is Channel.EMAIL:
            return _email(address, message, token)
        return _sms(address, message)
    except ClientError as error:
        raise Refused(str(error.response.get("Error", {}).get("Code", "ClientError"))) from error
    except (EndpointConnectionError, ConnectTimeoutError) as error:
        raise Refused("UNREACHABLE") from error
    except ReadTimeoutError as error:
        raise Unknown("TIMEOUT") from error


def _email(address: str, message: Message, token: str) -> str:
    config = settings()
    request: dict[str, Any] = {
        "FromEmailAddress": config.mail_sender,
        "Destination": {"ToAddresses": [address]},
        "Content": {
            "Simple": {
                "Subject": {"Data": message.subject, "Charset": "UTF-8"},
                "Body": {"Text": {"Data": message.body, "Charset": "UTF-8"}},
            }
        },
        # The claim's token travels with the message: SES's events for it (the configuration set)
        # name it, so what happened to an uncertain send can be looked up by hand.
        "EmailTags": [{"Name": "notification", "Value": token}],
    }
    if config.mail_configuration_set:
        request["ConfigurationSetName"] = config.mail_configuration_set
    return str(_client("sesv2").send_email(**request)["MessageId"])


def _sms(phone: str, message: Message) -> str:
    answer = _client("sns").publish(
        PhoneNumber=phone,
        Message=message.sms,
        MessageAttributes={
            "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"},
        },
    )
    return str(answer["MessageId"])
