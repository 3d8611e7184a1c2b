"""The account's security page: passkeys (add, rename, remove) and signing out of every device."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from broker.accounts.interactions import InteractionService, browser_secret, set_browser_cookie
from broker.accounts.passkeys import Passkeys, RelyingPartyIdentity
from broker.accounts.sessions import SessionService, session_cookie
from broker.audit.log import record
from broker.deps import Db, Form, ServicesDep
from broker.errors import PageError
from broker.oidc.backchannel import end_everywhere
from broker.store.models import BrowserSession
from broker.web.i18n import _
from broker.web.passkeys import NO_STORE, PasskeyBody
from broker.web.signin import client_address, local_path, set_session_cookie
from broker.webkit.access import signed_in
from broker.webkit.pages import render, see_other
from broker.webkit.router import page_router

router = page_router()

def new_session_secret(response: Response, db: Db, services: ServicesDep, session: BrowserSession) -> None:
    """After a change to how the person signs in (a privilege change): the session gets a new secret
    so a cookie copied or fixed before the change stops working; commits."""
    secret = SessionService(db, services.settings).rotate(session)
    db.commit()
    set_session_cookie(response, services, secret)


@router.get("/account/sign-in")
def account_sign_in(request: Request, db: Db, services: ServicesDep) -> Response:
    """Sign in to the broker's own pages (no relying service involved), then back to ``next``."""
    secret, is_new = browser_secret(request)
    target = local_path(request.query_params.get("next"))
    interaction = InteractionService(db).start(None, {"return_to": [target]}, secret, services.clock())
    db.commit()
    response = see_other(f"{services.settings.issuer}/sign-in/{interaction.id}")
    if is_new:
        set_browser_cookie(response, services.settings, secret)
    return response


def _passkeys(db: Db, services: ServicesDep) -> Passkeys:
    return Passkeys(db, RelyingPartyIdentity.for_issuer(services.settings.issuer))


@router.get("/account/security")
def security(request: Request, db: Db, services: ServicesDep) -> Response:
    _session, account = signed_in(request)
    notice = request.query_params.get("notice", "")
    return render(
        services,
        request,
        "account_security.html",
        {"account": account, "passkeys": _passkeys(db, services).of(account.id), "notice": notice},
    )


@router.post("/account/passkeys/options")
def add_passkey_options(request: Request, db: Db, services: ServicesDep) -> Response:
    session, account = signed_in(request)
    options, session.webauthn_challenge = _passkeys(db, services).registration_options(account)
    db.commit()
    return JSONResponse(options, headers=NO_STORE)


@router.post("/account/passkeys")
def add_passkey(request: Request, db: Db, services: ServicesDep, body: PasskeyBody) -> Response:
    session, account = signed_in(request)
    challenge, session.webauthn_challenge = session.webauthn_challenge, None
    if not challenge:
        return JSONResponse(
            {"error": "passkey_failed", "error_description": _("Start again.")}, 400, NO_STORE
        )
    now = services.clock()
    passkey = _passkeys(db, services).register(
        account, body.get("credential") or {}, challenge, str(body.get("name") or ""), now
    )
    record(
        db,
        "factor.set",
        now=now,
        actor=account.id,
        subject=account.id,
        client_address=client_address(request),
        method="passkey",
        passkey=passkey.name,
    )
    response = JSONResponse(
        {"location": f"{services.settings.issuer}/account/security?notice=passkey-added"}, headers=NO_STORE
    )
    new_session_secret(response, db, services, session)
    return response


@router.post("/account/passkeys/{credential_id}/rename")
def rename_passkey(
    credential_id: str, request: Request, db: Db, services: ServicesDep, form: Form
) -> Response:
    _session, account = signed_in(request)
    name = (form.get("name") or "").strip()[:100]
    passkey = next(
        (p for p in _passkeys(db, services).of(account.id) if p.credential_id == credential_id), None
    )
    if passkey is None:
        raise PageError(_("That passkey is not on your account."))
    if not name:
        return render(
            services,
            request,
            "account_security.html",
            {"account": account, "passkeys": _passkeys(db, services).of(account.id)},
            {f"name-{credential_id}": _("Enter a name for the passkey")},
        )
    passkey.name = name
    db.commit()
    return see_other(f"{services.settings.issuer}/account/security?notice=passkey-renamed")


@router.post("/account/passkeys/{credential_id}/remove")
def remove_passkey(credential_id: str, request: Request, db: Db, services: ServicesDep) -> Response:
    session, account = signed_in(request)
    if not _passkeys(db, services).remove(account.id, credential_id):
        raise PageError(_("That passkey is not on your account."))
    record(
        db,
        "factor.removed",
        now=services.clock(),
        actor=account.id,
        subject=account.id,
        client_address=client_address(request),
        method="passkey",
    )
    response = see_other(f"{services.settings.issuer}/account/security?notice=passkey-removed")
    new_session_secret(response, db, services, session)
    return response


def end_everywhere_recorded(
    request: Request, db: Db, services: ServicesDep, account_id: str, action: str, reason: str
) -> None:
    """Every session of the account ends, its services are told and its refresh tokens stop working,
    for ``reason`` (``end_everywhere``); recorded as ``action``, committed, and the notices sent at once."""
    now = services.clock()
    end_everywhere(db, services.settings, account_id, now, reason)
    record(db, action, now=now, actor=account_id, subject=account_id, client_address=client_address(request))
    db.commit()
    request.app.state.backchannel.wake()


@router.post("/account/sign-out-everywhere")
def sign_out_everywhere(request: Request, db: Db, services: ServicesDep) -> Response:
    _session, account = signed_in(request)
    end_everywhere_recorded(request, db, services, account.id, "sessions.ended_all", "signed out everywhere")
    response = services.templates.TemplateResponse(request, "signed_out.html", {}, headers=NO_STORE)
    response.delete_cookie(session_cookie(services.settings), path="/")
    return response
