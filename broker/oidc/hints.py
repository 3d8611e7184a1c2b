"""``id_token_hint``: an ID token this broker issued, presented back to it (OIDC Core §3.1.2.1 at
authorize, RP-Initiated Logout 1.0 §2 at logout). One check for both endpoints; each says what a hint
that fails it is answered with."""

from __future__ import annotations

from typing import Any

from broker.oidc.context import OidcContext
from broker.oidc.tokens import ID_TOKEN_TYP
from keys import TokenInvalid


class HintInvalid(Exception):
    """Not an ID token of this broker for a registered client."""


def verify_id_token_hint(ctx: OidcContext, hint: str) -> tuple[dict[str, Any], str]:
    """The claims of an ID token this broker issued to a registered client, and that client.

    Access, logout and identity tokens are refused (their ``typ``, ``aud`` or key id differ), as are
    another issuer's tokens and unsigned ones (the algorithm comes from the broker's key, never from
    the token). An expired ID token is accepted, its signature still checked (OIDC Core §3.1.2.1,
    RP-Initiated Logout §2)."""
    try:
        claims = ctx.signer.verify(
            hint, audience=None, issuer=ctx.settings.issuer, typ=ID_TOKEN_TYP, require_exp=False
        )
    except TokenInvalid:
        raise HintInvalid("not an ID token of this broker") from None
    aud = claims.get("aud")
    client_id = aud if isinstance(aud, str) else (aud[0] if isinstance(aud, list) and len(aud) == 1 else None)
    if not isinstance(client_id, str) or ctx.repo.client(client_id) is None:
        raise HintInvalid("not an ID token of a registered service")
    if not isinstance(claims.get("sub"), str):
        raise HintInvalid("an ID token names its subject")
    return claims, client_id
