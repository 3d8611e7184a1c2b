"""Forgotten password: email → code → new password. Every session and token of the account ends."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from broker.accounts.codes import Purpose
from broker.accounts.journeys import EmailJourneys
from broker.accounts.recovery import Recovery
from broker.accounts.service import AccountService
from broker.deps import Db, Form, HashingTurn, ServicesDep
from broker.web.i18n import N_, _
from broker.web.journeys import EmailJourney, new_password_errors, read_email
from broker.web.signin import load_interaction, visit
from broker.webkit.pages import see_other
from broker.webkit.router import page_router

router = page_router()


JOURNEY = EmailJourney(
    path="/reset-password",
    purpose=Purpose.RESET_PASSWORD,
    email_title=N_("Reset your password"),
    email_intro=N_("Enter the email address you use to sign in. We will send a code to reset your password."),
    password_title=N_("Create a new password"),
    code_intro=lambda _interaction: _(
        "If there is an account for that address, we have sent it a 6-digit security code. It expires in 15 minutes."
    ),
)
JOURNEY.add_routes(router)


@router.post("/reset-password/{interaction_id}")
def email(interaction_id: str, request: Request, db: Db, services: ServicesDep, form: Form) -> Response:
    interaction = load_interaction(request, db, services, interaction_id)
    raw = (form.get("email") or "").strip()
    address, message = read_email(raw)
    if address is None:
        return JOURNEY.email_page(
            services, request, interaction, values={"email": raw}, errors={"email": message or ""}
        )
    EmailJourneys(visit(request, db, services)).start_reset(interaction, address)
    return see_other(JOURNEY.url(services, interaction, "/code"))


@router.post("/reset-password/{interaction_id}/password", dependencies=[HashingTurn])
def password(interaction_id: str, request: Request, db: Db, services: ServicesDep, form: Form) -> Response:
    interaction = load_interaction(request, db, services, interaction_id)
    account = AccountService(db, services.passwords).by_email(interaction.journey_email or "")
    if interaction.journey_verified_at is None or account is None:
        return see_other(JOURNEY.url(services, interaction))
    new = form.get("password") or ""
    errors = new_password_errors(new, form.get("confirm") or "", account.email)
    if errors:
        return JOURNEY.password_page(services, request, interaction, errors=errors)
    Recovery(visit(request, db, services)).reset_password(interaction, account, new)
    return see_other(f"{services.settings.issuer}/sign-in/{interaction.id}?notice=password-reset")
