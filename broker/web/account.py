"""The account's security page: passkeys (add, rename, remove), signing out of every device, and
signing in to the broker's own pages (with step-up: a session signed in with the password alone goes
straight to its second factor)."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from broker.accounts.interactions import browser_secret, set_browser_cookie
from broker.accounts.passkeys import passkey_name
from broker.accounts.sessions import SessionService, session_cookie
from broker.accounts.signin import SignIn
from broker.accounts.stepup import Step, step_up
from broker.deps import Db, Form, ServicesDep
from broker.errors import PageError
from broker.web.change_steps import finish, security_for
from broker.web.i18n import _
from broker.web.passkeys import NO_STORE, PasskeyBody
from broker.web.signin import local_path, session_secret, set_session_cookie, visit
from broker.webkit.access import PAGES, RECENT_SIGN_IN, Need
from broker.webkit.pages import render, see_other
from broker.webkit.router import page_router

router = page_router()

# Each declared page's path as a pattern ("/account/passkeys/{credential_id}/rename" → "[^/]+" for the id).
_PATTERNS = [(re.compile(re.sub(r"\{[^}]+\}", "[^/]+", path)), rule.need) for path, rule in PAGES.items()]


def recent_within(path: str) -> timedelta | None:
    """How recent a sign-in the page at ``path`` needs (``PAGES``), or None when any will do."""
    target = path.split("?")[0]
    needs = [need for pattern, need in _PATTERNS if pattern.fullmatch(target)]
    return RECENT_SIGN_IN if Need.RECENT_TWO_FACTORS in needs else None


@router.get("/account/sign-in")
def account_sign_in(request: Request, db: Db, services: ServicesDep) -> Response:
    """Sign in to the broker's own pages (no relying service involved), then back to ``next``. A live
    session signed in with the password alone is asked only for its second factor (``step_up``)."""
    secret, is_new = browser_secret(request, services.settings)
    target = local_path(request.query_params.get("next"))
    now = services.clock()
    session = SessionService(db, services.settings).find(session_secret(request, services), now)
    step = step_up(
        session.level if session else None,
        now - session.auth_time if session else None,
        recent_within(target),
    )
    sign_in = SignIn(visit(request, db, services))
    if session is not None and step is Step.SECOND_FACTOR:
        interaction = sign_in.step_up(session, target, secret)
        response = see_other(f"{services.settings.issuer}/sign-in/{interaction.id}/code")
    else:
        interaction = sign_in.for_own_pages(target, secret)
        response = see_other(f"{services.settings.issuer}/sign-in/{interaction.id}")
    if is_new:
        set_browser_cookie(response, services.settings, secret)
    return response


@router.get("/account/security")
def security(request: Request, db: Db, services: ServicesDep) -> Response:
    account_security = security_for(request, db, services)
    notice = request.query_params.get("notice", "")
    return render(
        services,
        request,
        "account_security.html",
        {
            "account": account_security.account,
            "passkeys": account_security.passkeys().of(account_security.account.id),
            "notice": notice,
        },
    )


@router.post("/account/passkeys/options")
def add_passkey_options(request: Request, db: Db, services: ServicesDep) -> Response:
    return JSONResponse(security_for(request, db, services).passkey_options(), headers=NO_STORE)


@router.post("/account/passkeys")
def add_passkey(request: Request, db: Db, services: ServicesDep, body: PasskeyBody) -> Response:
    secret = security_for(request, db, services).add_passkey(
        body.get("credential") or {}, str(body.get("name") or "")
    )
    if secret is None:
        return JSONResponse(
            {"error": "passkey_failed", "error_description": _("Start again.")}, 400, NO_STORE
        )
    response = JSONResponse(
        {"location": f"{services.settings.issuer}/account/security?notice=passkey-added"}, headers=NO_STORE
    )
    set_session_cookie(response, services, secret)
    return response


@router.post("/account/passkeys/{credential_id}/rename")
def rename_passkey(
    credential_id: str, request: Request, db: Db, services: ServicesDep, form: Form
) -> Response:
    account_security = security_for(request, db, services)
    name = passkey_name(form.get("name") or "")
    owned = {p.credential_id for p in account_security.passkeys().of(account_security.account.id)}
    if credential_id not in owned:
        raise PageError(_("That passkey is not on your account."))
    if not name:
        return render(
            services,
            request,
            "account_security.html",
            {
                "account": account_security.account,
                "passkeys": account_security.passkeys().of(account_security.account.id),
            },
            {f"name-{credential_id}": _("Enter a name for the passkey")},
        )
    account_security.rename_passkey(credential_id, name)
    return see_other(f"{services.settings.issuer}/account/security?notice=passkey-renamed")


@router.post("/account/passkeys/{credential_id}/remove")
def remove_passkey(credential_id: str, request: Request, db: Db, services: ServicesDep) -> Response:
    secret = security_for(request, db, services).remove_passkey(credential_id)
    if secret is None:
        raise PageError(_("That passkey is not on your account."))
    return finish(services, "passkey-removed", secret)


@router.post("/account/sign-out-everywhere")
def sign_out_everywhere(request: Request, db: Db, services: ServicesDep) -> Response:
    security_for(request, db, services).sign_out_everywhere()
    response = services.templates.TemplateResponse(request, "signed_out.html", {}, headers=NO_STORE)
    response.delete_cookie(session_cookie(services.settings), path="/")
    return response
