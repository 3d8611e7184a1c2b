"""Token introspection (RFC 7662), for the client a token was issued to and for resource servers
registered with the ``introspect`` scope."""

from __future__ import annotations

from functools import partial
from typing import Any

from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from fastapi import APIRouter, Request
from fastapi.responses import Response

from broker.accounts.subject import subject
from broker.deps import ProtocolRoute, run_protocol
from broker.oidc.openapi import INTROSPECT
from broker.oidc.token_lookup import FindsTokens, TokenRef, run_endpoint

router = APIRouter(tags=["oidc"], route_class=ProtocolRoute)


class Introspection(FindsTokens, IntrospectionEndpoint):
    def check_permission(self, token: TokenRef, client: Any, request: Any) -> bool:
        return token.check_client(client) or "introspect" in client.row.scopes

    def introspect_token(self, token: TokenRef) -> dict[str, Any]:
        client = self.ctx.repo.client(token.grant.client_id)
        account = self.ctx.repo.account(token.grant.account_id)
        body: dict[str, Any] = {
            "active": True,
            "token_type": token.kind,
            "client_id": token.grant.client_id,
            "scope": token.grant.scope,
            "exp": int(token.expires_at.timestamp()),
            "iss": self.ctx.settings.issuer,
        }
        if client and account:
            body["sub"] = subject(client, account)
        if token.claims:
            body.update({k: token.claims[k] for k in ("iat", "jti", "aud") if k in token.claims})
        return body


@router.post("/introspect", **INTROSPECT)
async def introspect(request: Request) -> Response:
    return await run_protocol(request, partial(run_endpoint, endpoint=Introspection, name="introspection"))
