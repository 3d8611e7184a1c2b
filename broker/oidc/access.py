"""Checking the broker's own access tokens (RFC 9068) where they are presented."""

from __future__ import annotations

from typing import Any

from broker.oidc.context import OidcContext
from broker.oidc.errors import InvalidToken, NoCredentials
from broker.oidc.tokens import ACCESS_TOKEN_TYP
from broker.store.models import Grant
from keys import TokenInvalid


def bearer_token(authorization: str | None) -> str:
    scheme, _, value = (authorization or "").partition(" ")
    if scheme.lower() != "bearer":
        raise NoCredentials()
    if not value.strip():
        raise InvalidToken("Send an access token as 'Authorization: Bearer <token>'")
    return value.strip()


def decode_access_token(ctx: OidcContext, token: str) -> dict[str, Any] | None:
    try:
        return ctx.signer.verify(
            token, audience=ctx.settings.issuer, issuer=ctx.settings.issuer, typ=ACCESS_TOKEN_TYP
        )
    except TokenInvalid:
        return None


def verify_access_token(ctx: OidcContext, token: str) -> tuple[dict[str, Any], Grant]:
    """The token's claims and grant, when it is ours, unexpired, and neither it nor its grant is revoked."""
    claims = decode_access_token(ctx, token)
    if claims is None:
        raise InvalidToken()
    live = ctx.repo.live_access_token(str(claims.get("jti")))
    if live is None:
        raise InvalidToken("The access token has been revoked")
    return claims, live[1]
