"""Authorization endpoint (OIDC Core §3.1.2): GET and POST, and the resume after a page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from broker.accounts.interactions import InteractionService, browser_secret, set_browser_cookie
from broker.accounts.sessions import session_cookie
from broker.deps import ProtocolRoute, run_protocol
from broker.oidc.authorization import Authorizer, Redirect
from broker.oidc.context import OidcContext
from broker.oidc.openapi import AUTHORIZE
from broker.oidc.requests import BrokerRequest, Params

router = APIRouter(tags=["oidc"], route_class=ProtocolRoute)


def respond(ctx: OidcContext, redirect: Redirect, secret: str, is_new: bool) -> Response:
    response = RedirectResponse(redirect.location, status_code=redirect.status)
    response.headers["Cache-Control"] = "no-store"
    if is_new:
        set_browser_cookie(response, ctx.settings, secret)
    return response


@router.get("/authorize", **AUTHORIZE)
@router.post("/authorize", include_in_schema=False)
async def authorize(request: Request) -> Response:
    return await run_protocol(request, authorization_response)


def authorization_response(request: Request, ctx: OidcContext, query: Params, form: Params) -> Response:
    oauth_request = BrokerRequest(request.method, str(request.url), request.headers, query, form)
    secret, is_new = browser_secret(request, ctx.settings)
    redirect = Authorizer(ctx).authorize(
        oauth_request, request.cookies.get(session_cookie(ctx.settings)), secret
    )
    ctx.db.commit()
    return respond(ctx, redirect, secret, is_new)


@router.get("/authorize/resume/{interaction_id}", include_in_schema=False)
async def resume(request: Request) -> Response:
    return await run_protocol(request, resumed_response)


def resumed_response(request: Request, ctx: OidcContext, _query: Params, _form: Params) -> Response:
    """Back from a page (sign-in, consent, identity): the stored request, answered now."""
    interaction_id = request.path_params["interaction_id"]
    secret, is_new = browser_secret(request, ctx.settings)
    interaction = InteractionService(ctx.db).load(interaction_id, None if is_new else secret, ctx.clock())
    items = [(k, v) for k, values in interaction.params.items() for v in values]
    oauth_request = BrokerRequest("GET", ctx.url("/authorize"), request.headers, Params(items), Params([]))
    redirect = Authorizer(ctx).authorize(
        oauth_request, request.cookies.get(session_cookie(ctx.settings)), secret, resume=interaction
    )
    ctx.db.commit()
    return respond(ctx, redirect, secret, is_new)
