"""Who is calling: verify the bearer token and check the caller's role and province.

Every route that needs a caller goes through `require`. Tokens are RS256 JWTs verified against
the JWKS of the configured issuer: a Cognito user pool in AWS (role from the user's group,
province and partner ids from custom attributes), the local issuer on the local stack. This is
done in the view layer rather than in an API Gateway authorizer because the contract wants a
401 with its own error body for a bad token, and a gateway authorizer can only deny (403).
"""

from __future__ import annotations

import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal, get_args

import jwt
from jwt.utils import base64url_decode

from chalicelib.core.errors import Forbidden, ServiceUnavailable, Unauthenticated, WrongProvince
from chalicelib.core.settings import settings

Role = Literal["participant", "office", "pemda", "platform", "partner", "admin"]
ROLES: frozenset[str] = frozenset(get_args(Role))
PROVINCIAL_ROLES = frozenset({"office", "pemda"})


@dataclass(frozen=True)
class Caller:
    sub: str
    role: Role
    province: str | None = None
    platform_id: str | None = None
    partner_id: str | None = None


@cache
def _jwks_client(url: str) -> jwt.PyJWKClient:
    return jwt.PyJWKClient(url, cache_jwk_set=True, lifespan=3600, timeout=5)


# Cognito's tokens are one to two kilobytes; API Gateway takes headers up to ten. A token, and its
# header segment above all, is bounded before any of it is decoded: a segment of deeply nested
# JSON would otherwise exhaust the decoder's recursion before the signature is ever checked.
MAX_TOKEN_CHARS = 8 * 1024
MAX_HEADER_SEGMENT_CHARS = 1024
_MAX_CLAIM_CHARS = 128


def _key_id(token: str) -> str:
    """The `kid` from the token's header segment alone: PyJWT's own helper validates and decodes the
    whole token, and the whole token is verified right after anyway (a tenth of a request's CPU)."""
    segment = token.partition(".")[0]
    if len(segment) > MAX_HEADER_SEGMENT_CHARS:
        raise jwt.DecodeError("header segment too long")
    try:
        header = json.loads(base64url_decode(segment))
    except RecursionError as error:
        raise jwt.DecodeError("header nested too deeply") from error
    kid = header.get("kid") if isinstance(header, dict) else None
    if not isinstance(kid, str):
        raise jwt.DecodeError("header is not an object with a key id")
    return kid


def _claim(claims: Mapping[str, Any], name: str) -> str | None:
    """A text claim, or its Cognito custom attribute; a claim of any other type makes the token bad."""
    value = claims.get(name, claims.get(f"custom:{name}"))
    if value in (None, ""):
        return None
    if not isinstance(value, str) or len(value) > _MAX_CLAIM_CHARS:
        raise Unauthenticated()
    return value


def _role(claims: Mapping[str, Any]) -> str | None:
    role = _claim(claims, "role")
    if role is None:
        groups = claims.get("cognito:groups", [])
        if not isinstance(groups, list) or not all(isinstance(group, str) for group in groups):
            raise Unauthenticated()
        role = next((group for group in groups if group in ROLES), None)
    return role if role in ROLES else None


def authenticate(headers: Mapping[str, str]) -> Caller:
    scheme, _, token = (headers.get("authorization") or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > MAX_TOKEN_CHARS:
        raise Unauthenticated()
    config = settings()
    if not config.jwt_issuer:
        # Every stage names its issuer; a token is never accepted from just any issuer.
        raise ServiceUnavailable()
    try:
        key = _jwks_client(config.jwks_url).get_signing_key(_key_id(token))
        claims = jwt.decode(
            token,
            key.key,
            algorithms=["RS256"],
            issuer=config.jwt_issuer,
            audience=config.jwt_audience,
            options={"require": ["exp", "sub", "iss"], "verify_aud": config.jwt_audience is not None},
        )
    except jwt.PyJWKClientConnectionError as error:
        raise ServiceUnavailable() from error
    except (jwt.PyJWTError, ValueError, binascii.Error) as error:
        raise Unauthenticated() from error
    sub, role = _claim(claims, "sub"), _role(claims)
    if sub is None:
        raise Unauthenticated()
    if role is None:
        raise Forbidden("Peran pengguna tidak dikenal.", code="UNKNOWN_ROLE")
    province = _claim(claims, "province")
    if role in PROVINCIAL_ROLES and province is None:
        # Their every right is their province's: without one, they would act for "None".
        raise Forbidden("Akun petugas ini tidak terikat pada provinsi.", code="NO_PROVINCE")
    return Caller(
        sub=sub,
        role=role,  # type: ignore[arg-type]
        province=province,
        platform_id=_claim(claims, "platform_id"),
        partner_id=_claim(claims, "partner_id"),
    )


def require(headers: Mapping[str, str], *roles: Role) -> Caller:
    """The caller, if it holds one of `roles`."""
    caller = authenticate(headers)
    if caller.role not in roles:
        raise Forbidden()
    return caller


def ensure_province(caller: Caller, province: str | None) -> None:
    """Admins act for every province; anyone else only for their own."""
    if caller.role != "admin" and caller.province != province:
        raise WrongProvince()
