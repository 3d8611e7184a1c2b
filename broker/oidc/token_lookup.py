"""Finding a presented token (access JWT or opaque refresh token) for revocation and introspection."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from broker.oidc.access import decode_access_token
from broker.oidc.context import OidcContext
from broker.oidc.form_body import check_form_body
from broker.oidc.requests import BrokerRequest, Params
from broker.oidc.server import TOKEN_AUTH_METHODS, BrokerServer
from broker.store.models import Grant, IssuedAccessToken, RefreshToken


@dataclass
class TokenRef:
    kind: str  # access_token | refresh_token
    grant: Grant
    expires_at: datetime
    revoked: bool
    now: datetime
    access: IssuedAccessToken | None = None
    refresh: RefreshToken | None = None
    claims: dict[str, Any] | None = None

    def check_client(self, client: Any) -> bool:
        return bool(self.grant.client_id == client.get_client_id())

    def get_client_id(self) -> str:
        return self.grant.client_id

    def get_scope(self) -> str:
        return self.grant.scope

    def is_expired(self) -> bool:
        return self.expires_at <= self.now

    def is_revoked(self) -> bool:
        return self.revoked or self.grant.revoked_at is not None


def find_token(ctx: OidcContext, token: str, hint: str | None) -> TokenRef | None:
    order = (
        ["refresh_token", "access_token"] if hint == "refresh_token" else ["access_token", "refresh_token"]
    )
    for kind in order:
        found = _find_access(ctx, token) if kind == "access_token" else _find_refresh(ctx, token)
        if found:
            return found
    return None


def _find_access(ctx: OidcContext, token: str) -> TokenRef | None:
    if token.count(".") != 2:
        return None
    claims = decode_access_token(ctx, token)
    row = ctx.repo.access_token(str(claims.get("jti"))) if claims else None
    grant = ctx.repo.grant(row.grant_id) if row else None
    if row is None or grant is None:
        return None
    return TokenRef(
        "access_token",
        grant,
        row.expires_at,
        row.revoked_at is not None,
        ctx.clock(),
        access=row,
        claims=claims,
    )


def _find_refresh(ctx: OidcContext, token: str) -> TokenRef | None:
    row = ctx.repo.refresh_token(token)
    grant = ctx.repo.grant(row.grant_id) if row else None
    if row is None or grant is None:
        return None
    return TokenRef("refresh_token", grant, row.expires_at, row.used_at is not None, ctx.clock(), refresh=row)


class FindsTokens:
    """What the revocation and introspection endpoints share: how clients authenticate, and how a
    presented token is found. Mixed in before Authlib's endpoint class."""

    CLIENT_AUTH_METHODS = TOKEN_AUTH_METHODS

    def __init__(self, server: BrokerServer, ctx: OidcContext) -> None:
        super().__init__(server)  # type: ignore[call-arg]
        self.ctx = ctx

    def query_token(self, token_string: str, token_type_hint: str | None) -> TokenRef | None:
        return find_token(self.ctx, token_string, token_type_hint)


def run_endpoint(
    request: Request, ctx: OidcContext, query: Params, form: Params, *, endpoint: type[FindsTokens], name: str
) -> JSONResponse:
    from broker.oidc.token import authlib_response, committed

    check_form_body(request.headers, form)
    server = BrokerServer(ctx)
    server.register_endpoint(endpoint(server, ctx))  # type: ignore[arg-type]
    with committed(ctx):
        result = server.create_endpoint_response(
            name, BrokerRequest("POST", str(request.url), request.headers, query, form)
        )
    return authlib_response(result)
