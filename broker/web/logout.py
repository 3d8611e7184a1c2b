"""The browser's side of RP-initiated logout (``broker.oidc.logout`` decides): signing out at once, or a
page asking the person to confirm, and the page after."""

from __future__ import annotations

from authlib.common.urls import add_params_to_uri
from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from broker.accounts.interactions import browser_secret, set_browser_cookie
from broker.accounts.sessions import session_cookie
from broker.deps import Form, Oidc, Query, ServicesDep
from broker.oidc.context import OidcContext
from broker.oidc.logout import (
    LogoutRequest,
    current_session,
    end_session,
    parse_logout_request,
    signs_out_at_once,
)
from broker.oidc.openapi import LOGOUT
from broker.oidc.requests import Params
from broker.store.models import BrowserSession
from broker.webkit.csrf import check_csrf, csrf_token

# Not a page router: a relying service posts to /logout from its own site (no anti-forgery token).
router = APIRouter(tags=["oidc"])


def _finish(
    request: Request,
    services: ServicesDep,
    ctx: OidcContext,
    logout: LogoutRequest,
    session: BrowserSession | None,
) -> Response:
    if end_session(ctx, session):
        request.app.state.backchannel.wake()
    if logout.post_logout_redirect_uri:
        params = [("state", logout.state)] if logout.state else []
        response: Response = RedirectResponse(add_params_to_uri(logout.post_logout_redirect_uri, params), 303)
    else:
        response = services.templates.TemplateResponse(request, "signed_out.html", {})
    response.delete_cookie(
        session_cookie(ctx.settings), path="/", secure=ctx.settings.issuer_is_https, httponly=True
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/logout", **LOGOUT)
@router.post("/logout", include_in_schema=False)
def logout(request: Request, services: ServicesDep, ctx: Oidc, query: Query, form: Form) -> Response:
    params = form if request.method == "POST" else query
    logout_request = parse_logout_request(ctx, params)
    session = current_session(request, ctx)
    if signs_out_at_once(ctx, logout_request, session):
        return _finish(request, services, ctx, logout_request, session)
    browser, is_new = browser_secret(request, ctx.settings)
    response = services.templates.TemplateResponse(
        request,
        "logout_confirm.html",
        {
            "csrf_token": csrf_token(request, browser),
            "client_id": logout_request.client_id or "",
            "post_logout_redirect_uri": logout_request.post_logout_redirect_uri or "",
            "state": logout_request.state or "",
        },
        headers={"Cache-Control": "no-store"},
    )
    if is_new:
        set_browser_cookie(response, ctx.settings, browser)
    return response


@router.post("/logout/confirm", dependencies=[Depends(check_csrf)], include_in_schema=False)
def confirm(request: Request, services: ServicesDep, ctx: Oidc, form: Form) -> Response:
    params = Params([(k, v) for k, v in form.to_items() if v and k != "csrf_token"])
    return _finish(request, services, ctx, parse_logout_request(ctx, params), current_session(request, ctx))
