"""The claims of every token the broker signs (pure builders; signing is ``keys.Signer``'s job)."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from authlib.oidc.core.util import create_half_hash

from broker.store.models import Account, Grant

BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
ID_TOKEN_TYP = "JWT"  # as every OIDC client expects; the other tokens carry their own type
ACCESS_TOKEN_TYP = "at+jwt"
LOGOUT_TOKEN_TYP = "logout+jwt"
# The claims every ID token carries, or may, beside the ones about the person (OIDC Core §2, One
# Login's vot and vtm). ``acr`` is the vector of trust achieved, the same value as ``vot``: what a
# One Login-style service compares with the vtr it asked for (docs/integrating.md).
ID_TOKEN_CLAIMS = (
    "iss",
    "sub",
    "aud",
    "iat",
    "exp",
    "auth_time",
    "acr",
    "amr",
    "vot",
    "vtm",
    "sid",
    "nonce",
    "at_hash",
)


def new_jti() -> str:
    return secrets.token_urlsafe(24)


def account_claims(account: Account, names: set[str]) -> dict[str, Any]:
    """The values of the standard claims asked for that the account has."""
    values: dict[str, Any] = {
        "email": account.email,
        "email_verified": account.email_verified,
        "phone_number": account.phone_number,
        "phone_number_verified": account.phone_number_verified if account.phone_number else None,
    }
    return {name: values[name] for name in sorted(names) if values.get(name) is not None}


def id_token_claims(
    *,
    issuer: str,
    client_id: str,
    sub: str,
    grant: Grant,
    now: datetime,
    ttl: int,
    vtm: str,
    nonce: str | None,
    access_token: str | None,
    alg: str,
    extra: dict[str, Any],
) -> dict[str, Any]:
    iat = int(now.timestamp())
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": sub,
        "aud": client_id,
        "iat": iat,
        "exp": iat + ttl,
        "auth_time": int(grant.auth_time.timestamp()),
        "acr": grant.vot,
        "vot": grant.vot,
        "vtm": vtm,
        "amr": list(grant.amr),
    }
    if grant.session_id:
        claims["sid"] = grant.session_id
    if nonce:
        claims["nonce"] = nonce
    if access_token:
        claims["at_hash"] = create_half_hash(access_token, alg).decode()
    claims.update(extra)
    return claims


def access_token_claims(
    *, issuer: str, client_id: str, sub: str, grant: Grant, scope: str, now: datetime, ttl: int, jti: str
) -> dict[str, Any]:
    """RFC 9068 §2.2. The broker's own userinfo endpoint is the audience."""
    iat = int(now.timestamp())
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": issuer,
        "sub": sub,
        "client_id": client_id,
        "iat": iat,
        "exp": iat + ttl,
        "jti": jti,
        "scope": scope,
        "auth_time": int(grant.auth_time.timestamp()),
    }
    if grant.session_id:
        claims["sid"] = grant.session_id
    return claims


def logout_token_claims(
    *, issuer: str, client_id: str, sub: str, sid: str, now: datetime, ttl: int = 120
) -> dict[str, Any]:
    """OIDC Back-Channel Logout 1.0 §2.4: no nonce, an events claim, sid and sub."""
    iat = int(now.timestamp())
    return {
        "iss": issuer,
        "aud": client_id,
        "iat": iat,
        "exp": iat + ttl,
        "jti": new_jti(),
        "sub": sub,
        "sid": sid,
        "events": {BACKCHANNEL_EVENT: {}},
    }
