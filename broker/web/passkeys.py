"""Passkey pages and their JSON calls (the browser's WebAuthn API needs JavaScript; every page that
offers a passkey also works without it, through another way to sign in)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body, Request
from fastapi.responses import JSONResponse, Response

from broker.accounts.passkeys import AMR, PasskeyFailed, Passkeys, RelyingPartyIdentity
from broker.audit.log import record
from broker.deps import Db, ServicesDep
from broker.store.models import Interaction
from broker.web.i18n import _
from broker.web.signin import client_address, load_interaction, set_session_cookie, start_session
from broker.web.signup import account_setting_up_factor
from broker.webkit.pages import render, see_other
from broker.webkit.router import page_router

router = page_router()

NO_STORE = {"Cache-Control": "no-store"}
PasskeyBody = Annotated[dict[str, Any], Body()]


def _passkeys(db: Db, services: ServicesDep) -> Passkeys:
    return Passkeys(db, RelyingPartyIdentity.for_issuer(services.settings.issuer))


def _signed_in(
    request: Request,
    db: Db,
    services: ServicesDep,
    interaction: Interaction,
    passkey_account: str,
) -> Response:
    interaction.account_id = passkey_account
    location, secret = start_session(request, db, services, interaction, AMR, "Cl.Cm")
    response = JSONResponse({"location": location}, headers=NO_STORE)
    set_session_cookie(response, services, secret)
    return response


@router.post("/sign-in/{interaction_id}/passkey/options")
def sign_in_options(interaction_id: str, request: Request, db: Db, services: ServicesDep) -> Response:
    interaction = load_interaction(request, db, services, interaction_id)
    options, interaction.webauthn_challenge = _passkeys(db, services).authentication_options()
    db.commit()
    return JSONResponse(options, headers=NO_STORE)


@router.post("/sign-in/{interaction_id}/passkey")
def sign_in_with_passkey(
    interaction_id: str, request: Request, db: Db, services: ServicesDep, body: PasskeyBody
) -> Response:
    interaction = load_interaction(request, db, services, interaction_id)
    challenge, interaction.webauthn_challenge = interaction.webauthn_challenge, None  # one use
    if not challenge:
        return JSONResponse(
            {"error": "passkey_failed", "error_description": _("Start again.")}, 400, NO_STORE
        )
    now = services.clock()
    try:
        passkey = _passkeys(db, services).authenticate(body.get("credential") or {}, challenge, now)
    except PasskeyFailed as failed:
        record(
            db,
            "sign_in.failure",
            now=now,
            actor="anonymous",
            subject=failed.account_id,
            client_address=client_address(request),
            reason="passkey",
        )
        db.commit()
        raise
    return _signed_in(request, db, services, interaction, passkey.account_id)


@router.get("/create-account/{interaction_id}/passkey")
def register_page(interaction_id: str, request: Request, db: Db, services: ServicesDep) -> Response:
    interaction = load_interaction(request, db, services, interaction_id)
    if account_setting_up_factor(db, interaction) is None:
        return see_other(f"{services.settings.issuer}/create-account/{interaction.id}")
    return render(services, request, "passkey_register.html", {"interaction": interaction})


@router.post("/create-account/{interaction_id}/passkey/options")
def register_options(interaction_id: str, request: Request, db: Db, services: ServicesDep) -> Response:
    interaction = load_interaction(request, db, services, interaction_id)
    account = account_setting_up_factor(db, interaction)
    if account is None:
        return JSONResponse(
            {"error": "passkey_failed", "error_description": _("Start again.")}, 400, NO_STORE
        )
    options, interaction.webauthn_challenge = _passkeys(db, services).registration_options(account)
    db.commit()
    return JSONResponse(options, headers=NO_STORE)


@router.post("/create-account/{interaction_id}/passkey")
def register(
    interaction_id: str, request: Request, db: Db, services: ServicesDep, body: PasskeyBody
) -> Response:
    interaction = load_interaction(request, db, services, interaction_id)
    account = account_setting_up_factor(db, interaction)
    challenge, interaction.webauthn_challenge = interaction.webauthn_challenge, None
    if account is None or not challenge:
        return JSONResponse(
            {"error": "passkey_failed", "error_description": _("Start again.")}, 400, NO_STORE
        )
    now = services.clock()
    passkey = _passkeys(db, services).register(
        account, body.get("credential") or {}, challenge, str(body.get("name") or ""), now
    )
    account.mfa_method = account.mfa_method or "email"  # password sign-ins still need a second factor
    interaction.factor_setup_for = None
    account.factor_reset_requested_at = account.factor_reset_available_at = None
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
    return _signed_in(request, db, services, interaction, account.id)
