"""Where a person starts and finds their way: the home page, the account home, and signing out.

Signing out ends this browser's session as RP-initiated logout does (``broker.policy.grants.sign_out``:
the session, its grants, a back-channel notice to every service in it) and lands on "You have signed
out", a page that does not need the session it has just ended.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import Response

from broker.accounts.interactions import browser_secret, set_browser_cookie
from broker.accounts.sessions import SessionService, session_cookie
from broker.accounts.signin import SignIn
from broker.deps import Db, Form, ServicesDep
from broker.policy import grants
from broker.store.models import Account, BrowserSession
from broker.web.signin import local_path, session_secret, visit
from broker.webkit.access import signed_in
from broker.webkit.pages import NO_STORE, render, see_other
from broker.webkit.router import page_router

router = page_router()

ACCOUNT_HOME = "/account"


def return_path(value: str | None, default: str = ACCOUNT_HOME) -> str:
    """A page of this broker to come back to after signing in again; anything else (another site, a
    scheme, ``//host``) is ``default``. Never an open redirect."""
    return value if value and local_path(value) == value else default


def sign_in_link(after: str) -> str:
    return "/account/sign-in?" + urlencode({"next": after})


def current(request: Request, db: Db, services: ServicesDep) -> tuple[BrowserSession, Account] | None:
    """This browser's live session and its account, on a page anyone may see; remembered for the
    header, which then offers "Sign out"."""
    session = SessionService(db, services.settings).find(session_secret(request, services), services.clock())
    account = db.get(Account, session.account_id) if session else None
    if session is None or account is None:
        return None
    request.state.signed_in = (session, account)
    return session, account


@router.get("/")
def home(request: Request, db: Db, services: ServicesDep) -> Response:
    found = current(request, db, services)
    return render(services, request, "home.html", {"signed_in_as": found[1].email if found else None})


@router.get("/create-account")
def create_account(request: Request, db: Db, services: ServicesDep) -> Response:
    """Create an account from the home page (no service involved): on to the account home after."""
    secret, is_new = browser_secret(request, services.settings)
    interaction = SignIn(visit(request, db, services)).for_own_pages(ACCOUNT_HOME, secret)
    response = see_other(f"{services.settings.issuer}/create-account/{interaction.id}")
    if is_new:
        set_browser_cookie(response, services.settings, secret)
    return response


@router.get("/account")
def account_home(request: Request, services: ServicesDep) -> Response:
    _session, account = signed_in(request)
    return render(services, request, "account_home.html", {"account": account})


@router.get("/sign-out")
def sign_out_page(request: Request, db: Db, services: ServicesDep) -> Response:
    """Signing out without the header's button (a link, a bookmark): a button to confirm, since a link
    that signs out would let another site sign the person out."""
    if current(request, db, services) is None:
        return see_other(f"{services.settings.issuer}/signed-out")
    return render(services, request, "sign_out.html", {})


@router.post("/sign-out")
def sign_out(request: Request, db: Db, services: ServicesDep, form: Form) -> Response:
    """End this browser's session (and tell every service in it), then "You have signed out", whose
    "Sign in again" leads back to ``next`` (a page of this broker) when the form names one."""
    session = SessionService(db, services.settings).find(session_secret(request, services), services.clock())
    if grants.sign_out(db, services.settings, session.id if session else None, services.clock()):
        request.app.state.backchannel.wake()
    after = return_path(form.get("next"))
    query = "?" + urlencode({"next": after}) if after != ACCOUNT_HOME else ""
    response = see_other(f"{services.settings.issuer}/signed-out{query}")
    response.delete_cookie(
        session_cookie(services.settings), path="/", secure=services.settings.issuer_is_https, httponly=True
    )
    return response


@router.get("/signed-out")
def signed_out(request: Request, services: ServicesDep) -> Response:
    again = sign_in_link(return_path(request.query_params.get("next")))
    return services.templates.TemplateResponse(request, "signed_out.html", {"sign_in_again": again}, headers=NO_STORE)
