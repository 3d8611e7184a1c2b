"""RP-initiated logout (OIDC RP-Initiated Logout 1.0) and the sign-out it triggers.

An ``id_token_hint`` that names this browser's session signs the person out at once; without one,
or with an ID token about another session or person, they are asked to confirm (§2, §6: a hint alone
must not let anyone sign a stranger out). ``post_logout_redirect_uri`` is followed only when it is
registered for the client the hint (or ``client_id``) names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request

from broker.accounts.sessions import SessionService, session_cookie
from broker.errors import PageError
from broker.language import N_
from broker.oidc.context import OidcContext
from broker.oidc.hints import HintInvalid, verify_id_token_hint
from broker.oidc.requests import Params
from broker.policy import grants
from broker.store.models import BrowserSession


class LogoutRequestInvalid(PageError):
    title = N_("The sign-out request is not valid")


@dataclass
class LogoutRequest:
    client_id: str | None
    post_logout_redirect_uri: str | None
    state: str | None
    hint: dict[str, Any] | None  # the claims of a checked id_token_hint


def parse_logout_request(ctx: OidcContext, params: Params) -> LogoutRequest:
    hint = params.get("id_token_hint")
    client_id = params.get("client_id")
    claims = None
    if hint:
        try:
            claims, hinted = verify_id_token_hint(ctx, hint)
        except HintInvalid:
            raise LogoutRequestInvalid(
                N_("The service sent a sign-out request we could not check.")
            ) from None
        if client_id and client_id != hinted:
            raise LogoutRequestInvalid(N_("The sign-out request names two different services."))
        client_id = hinted
    uri = params.get("post_logout_redirect_uri")
    if uri:
        client = ctx.repo.client(client_id) if client_id else None
        if client is None or uri not in client.post_logout_redirect_uris:
            raise LogoutRequestInvalid(N_("The service asked to return to an address we do not trust."))
    return LogoutRequest(client_id, uri, params.get("state"), claims)


def hint_names_session(ctx: OidcContext, logout: LogoutRequest, session: BrowserSession) -> bool:
    """The hint is about this browser's session: its ``sid``, or the ``sub`` its client knows here."""
    hint = logout.hint or {}
    if hint.get("sid") == session.id:
        return True
    known = ctx.repo.participation(session.id, logout.client_id) if logout.client_id else None
    return known is not None and known.sub == hint.get("sub")


def signs_out_at_once(ctx: OidcContext, logout: LogoutRequest, session: BrowserSession | None) -> bool:
    """Without confirmation only for a hint about this very session (or when there is none to end)."""
    if logout.hint is None:
        return False
    return session is None or hint_names_session(ctx, logout, session)


def end_session(ctx: OidcContext, session: BrowserSession | None) -> int:
    """Sign ``session`` out (when there is one: the session, its non-offline grants, a notice to every
    service in it) as one unit of work; the number of back-channel notices queued."""
    return grants.sign_out(ctx.db, ctx.settings, session.id if session else None, ctx.clock())


def current_session(request: Request, ctx: OidcContext) -> BrowserSession | None:
    return SessionService(ctx.db, ctx.settings).find(
        request.cookies.get(session_cookie(ctx.settings)), ctx.clock()
    )
