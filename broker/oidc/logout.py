"""RP-initiated logout (OIDC RP-Initiated Logout 1.0) and the sign-out it triggers.

A valid ``id_token_hint`` signs the person out at once; without one they are asked to confirm.
``post_logout_redirect_uri`` is followed only when it is registered for the client the hint names.
"""

from __future__ import annotations

from dataclasses import dataclass

from authlib.common.urls import add_params_to_uri
from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from broker.accounts.sessions import SessionService, session_cookie
from broker.deps import Form, Oidc, Query, ServicesDep
from broker.errors import PageError
from broker.oidc.backchannel import queue_logout_notices
from broker.oidc.context import OidcContext
from broker.oidc.interactions import browser_secret, set_browser_cookie
from broker.oidc.openapi import LOGOUT
from broker.oidc.requests import Params
from broker.store.models import BrowserSession
from broker.web.csrf import check_csrf, token_for
from keys import TokenInvalid

router = APIRouter(tags=["oidc"])


class LogoutRequestInvalid(PageError):
    title = "The sign-out request is not valid"


@dataclass
class LogoutRequest:
    client_id: str | None
    post_logout_redirect_uri: str | None
    state: str | None
    hint_valid: bool


def parse_logout_request(ctx: OidcContext, params: Params) -> LogoutRequest:
    hint = params.get("id_token_hint")
    client_id = params.get("client_id")
    if hint:
        try:
            claims = ctx.signer.verify(hint, audience=None, issuer=ctx.settings.issuer, require_exp=False)
        except TokenInvalid:
            raise LogoutRequestInvalid("The service sent a sign-out request we could not check.") from None
        aud = claims.get("aud")
        hinted = aud if isinstance(aud, str) else (aud[0] if isinstance(aud, list) and aud else None)
        if client_id and client_id != hinted:
            raise LogoutRequestInvalid("The sign-out request names two different services.")
        client_id = hinted
    uri = params.get("post_logout_redirect_uri")
    if uri:
        client = ctx.repo.client(client_id) if client_id else None
        if client is None or uri not in client.post_logout_redirect_uris:
            raise LogoutRequestInvalid("The service asked to return to an address we do not trust.")
    return LogoutRequest(client_id, uri, params.get("state"), bool(hint))


def sign_out(ctx: OidcContext, session: BrowserSession) -> int:
    """End the session, its non-offline grants, and queue a notice to every service in it."""
    now = ctx.clock()
    SessionService(ctx.db, ctx.settings).end(session.id, now)
    ctx.repo.revoke_session_grants(session.id, now)
    return queue_logout_notices(ctx.db, session.id, now)


def _finish(request: Request, services: ServicesDep, ctx: OidcContext, logout: LogoutRequest) -> Response:
    session = SessionService(ctx.db, ctx.settings).find(
        request.cookies.get(session_cookie(ctx.settings)), ctx.clock()
    )
    queued = sign_out(ctx, session) if session else 0
    ctx.db.commit()
    if queued:
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
    if logout_request.hint_valid:
        return _finish(request, services, ctx, logout_request)
    browser, is_new = browser_secret(request)
    response = services.templates.TemplateResponse(
        request,
        "logout_confirm.html",
        {
            "csrf_token": token_for(browser),
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
    return _finish(request, services, ctx, parse_logout_request(ctx, params))
