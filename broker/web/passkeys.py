"""Passkey pages and their JSON calls (the browser's WebAuthn API needs JavaScript; every page that
offers a passkey also works without it, through another way to sign in)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body, Request
from fastapi.responses import JSONResponse, Response

from broker.accounts.signin import SignIn
from broker.accounts.signup import SignUp, account_setting_up_factor
from broker.deps import Db, ServicesDep
from broker.store.models import Interaction
from broker.web.i18n import _
from broker.web.signin import load_interaction, next_location, session_secret, set_session_cookie, visit
from broker.web.signup import created_page
from broker.webkit.pages import render, see_other
from broker.webkit.router import page_router

router = page_router()

NO_STORE = {"Cache-Control": "no-store"}
PasskeyBody = Annotated[dict[str, Any], Body()]


def start_again() -> Response:
    return JSONResponse({"error": "passkey_failed", "error_description": _("Start again.")}, 400, NO_STORE)


def _signed_in(
    services: ServicesDep, interaction: Interaction, secret: str, location: str | None = None
) -> Response:
    location = location or next_location(services, interaction)
    response = JSONResponse({"location": location}, headers=NO_STORE)
    set_session_cookie(response, services, secret)
    return response


@router.post("/sign-in/{interaction_id}/passkey/options")
def sign_in_options(interaction_id: str, request: Request, db: Db, services: ServicesDep) -> Response:
    interaction = load_interaction(request, db, services, interaction_id)
    options = SignIn(visit(request, db, services)).passkey_options(interaction)
    return JSONResponse(options, headers=NO_STORE)


@router.post("/sign-in/{interaction_id}/passkey")
def sign_in_with_passkey(
    interaction_id: str, request: Request, db: Db, services: ServicesDep, body: PasskeyBody
) -> Response:
    interaction = load_interaction(request, db, services, interaction_id)
    secret = SignIn(visit(request, db, services)).with_passkey(
        interaction, body.get("credential") or {}, session_secret(request, services)
    )
    if secret is None:
        return start_again()
    return _signed_in(services, interaction, secret)


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
        return start_again()
    options = SignUp(visit(request, db, services)).passkey_options(interaction, account)
    return JSONResponse(options, headers=NO_STORE)


@router.post("/create-account/{interaction_id}/passkey")
def register(
    interaction_id: str, request: Request, db: Db, services: ServicesDep, body: PasskeyBody
) -> Response:
    interaction = load_interaction(request, db, services, interaction_id)
    secret = SignUp(visit(request, db, services)).register_passkey(
        interaction,
        body.get("credential") or {},
        str(body.get("name") or ""),
        session_secret(request, services),
    )
    if secret is None:
        return start_again()
    # A new account says so, and what comes next, as every other way of signing up does.
    return _signed_in(services, interaction, secret, created_page(services, interaction))
