"""Token revocation (RFC 7009). Revoking a refresh token ends its whole grant (§2.1)."""

from __future__ import annotations

from functools import partial
from typing import Any

from authlib.oauth2.rfc7009 import RevocationEndpoint
from fastapi import APIRouter, Request
from fastapi.responses import Response

from broker.deps import ProtocolRoute, run_protocol
from broker.oidc.openapi import REVOKE
from broker.oidc.token_lookup import FindsTokens, TokenRef, run_endpoint

router = APIRouter(tags=["oidc"], route_class=ProtocolRoute)


class Revocation(FindsTokens, RevocationEndpoint):
    def revoke_token(self, token: TokenRef, request: Any) -> None:
        now = self.ctx.clock()
        if token.access is not None:
            token.access.revoked_at = token.access.revoked_at or now
        else:
            self.ctx.repo.revoke_grant(token.grant.id, now, "refresh token revoked")


@router.post("/revoke", **REVOKE)
async def revoke(request: Request) -> Response:
    return await run_protocol(request, partial(run_endpoint, endpoint=Revocation, name="revocation"))
