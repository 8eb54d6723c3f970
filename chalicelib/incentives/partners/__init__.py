"""The payment partners' client (docs/PARTNERS.md): the one way the programme talks to BNI, OVO,
GOPAY and LINKAJA, real or the local stack's fakes."""

from chalicelib.incentives.partners.accounts import (
    PARTNERS,
    account_number_hint,
    is_partner,
    valid_account_number,
)
from chalicelib.incentives.partners.breaker import forget
from chalicelib.incentives.partners.client import PartnerClient, client_for
from chalicelib.incentives.partners.errors import (
    PartnerError,
    PartnerNotConfigured,
    PartnerRefused,
    PartnerTimeout,
    PartnerUnavailable,
    UnknownPartner,
)
from chalicelib.incentives.partners.model import (
    AccountCheck,
    AccountStatus,
    Callback,
    CallbackStatus,
    Transfer,
    TransferStatus,
    Unreadable,
    read_callback,
)
from chalicelib.incentives.partners.signing import verify_callback

__all__ = [
    "PARTNERS",
    "AccountCheck",
    "AccountStatus",
    "Callback",
    "CallbackStatus",
    "PartnerClient",
    "PartnerError",
    "PartnerNotConfigured",
    "PartnerRefused",
    "PartnerTimeout",
    "PartnerUnavailable",
    "Transfer",
    "TransferStatus",
    "UnknownPartner",
    "Unreadable",
    "account_number_hint",
    "client_for",
    "forget",
    "is_partner",
    "read_callback",
    "valid_account_number",
    "verify_callback",
]
