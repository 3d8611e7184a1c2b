"""UserInfo endpoint (OIDC Core §5.3): bearer token in the Authorization header only (RFC 6750 §2.1)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from broker.deps import ProtocolRoute, run_protocol
from broker.oidc.access import bearer_token, verify_access_token
from broker.oidc.context import OidcContext
from broker.oidc.errors import InvalidToken, TokenInQuery
from broker.oidc.identity_claims import identity_values
from broker.oidc.openapi import USERINFO
from broker.oidc.release import record, releasable
from broker.oidc.requests import Params
from broker.oidc.tokens import account_claims
from broker.policy.claims import CLAIMS_SUPPORTED

router = APIRouter(tags=["oidc"], route_class=ProtocolRoute)


@router.get("/userinfo", operation_id="userinfo_get", **USERINFO)
@router.post("/userinfo", operation_id="userinfo_post", **USERINFO)
async def userinfo(request: Request) -> Response:
    return await run_protocol(request, userinfo_response)


def userinfo_response(request: Request, ctx: OidcContext, query: Params, form: Params) -> JSONResponse:
    if "access_token" in query or "access_token" in form:
        raise TokenInQuery()
    token = bearer_token(request.headers.get("authorization"))
    claims, grant = verify_access_token(ctx, token)
    account = ctx.repo.account(grant.account_id)
    if account is None:
        raise InvalidToken()
    body: dict[str, Any] = {"sub": claims["sub"]}
    asked, agreement = releasable(ctx, grant, grant.claims.get("userinfo", {}))
    body.update(account_claims(account, set(asked) & set(CLAIMS_SUPPORTED)))
    body.update(identity_values(ctx, grant, claims["sub"], asked))
    record(ctx, grant, agreement, set(body), "userinfo")
    ctx.db.commit()
    return JSONResponse(body, headers={"Cache-Control": "no-store"})
