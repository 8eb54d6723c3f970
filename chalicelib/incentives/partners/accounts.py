"""Which partners the programme pays through, and the shape of an account number at each.

Pure functions, so the API can answer 422 for a number that cannot be an account before it asks a
partner anything (docs/PARTNERS.md, "Accounts"): a bank account number at BNI, the holder's phone
number written `08…` at the e-wallets.
"""

from __future__ import annotations

import re

from chalicelib.incentives.partners.errors import UnknownPartner

BNI = "BNI"
OVO = "OVO"
GOPAY = "GOPAY"
LINKAJA = "LINKAJA"
PARTNERS = (BNI, OVO, GOPAY, LINKAJA)

# ASCII digits only: `\d` also takes other scripts' digits, which no partner's system accepts.
_BANK_ACCOUNT = re.compile(r"^[0-9]{10}$")
_PHONE_ACCOUNT = re.compile(r"^08[0-9]{8,11}$")
_SHAPES = {BNI: _BANK_ACCOUNT, OVO: _PHONE_ACCOUNT, GOPAY: _PHONE_ACCOUNT, LINKAJA: _PHONE_ACCOUNT}
_HINTS = {
    BNI: "Nomor rekening BNI terdiri dari 10 angka.",
    OVO: "Nomor akun OVO adalah nomor HP pemilik, ditulis 08…, 10–13 angka.",
    GOPAY: "Nomor akun GoPay adalah nomor HP pemilik, ditulis 08…, 10–13 angka.",
    LINKAJA: "Nomor akun LinkAja adalah nomor HP pemilik, ditulis 08…, 10–13 angka.",
}


def is_partner(partner_id: str) -> bool:
    return partner_id in _SHAPES


def known(partner_id: str) -> str:
    """`partner_id` itself, or `UnknownPartner`: the one place that decides what a partner is."""
    if not is_partner(partner_id):
        raise UnknownPartner(partner_id)
    return partner_id


def valid_account_number(partner_id: str, account_number: str) -> bool:
    """Whether `account_number` has the shape of an account at that partner (UnknownPartner if
    there is no such partner). A well-shaped number may still be closed or someone else's: only
    the partner's verification tells that."""
    return _SHAPES[known(partner_id)].match(account_number) is not None


def account_number_hint(partner_id: str) -> str:
    """What an account number at that partner looks like, in Indonesian, for a 422's field message."""
    return _HINTS[known(partner_id)]
