"""Token revocation (RFC 7009). Revoking a refresh token ends its whole grant (§2.1)."""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc7009 import RevocationEndpoint
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from broker.deps import Form, Oidc, Query
from broker.oidc.openapi import REVOKE
from broker.oidc.token_lookup import FindsTokens, TokenRef, run_endpoint

router = APIRouter(tags=["oidc"])


class Revocation(FindsTokens, RevocationEndpoint):
    def revoke_token(self, token: TokenRef, request: Any) -> None:
        now = self.ctx.clock()
        if token.access is not None:
            token.access.revoked_at = token.access.revoked_at or now
        else:
            self.ctx.repo.revoke_grant(token.grant.id, now, "refresh token revoked")


@router.post("/revoke", **REVOKE)
def revoke(request: Request, ctx: Oidc, query: Query, form: Form) -> JSONResponse:
    return run_endpoint(ctx, request, query, form, Revocation, "revocation")
