"""Forgotten password: email → code → new password. Every session and token of the account ends."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from broker.accounts.codes import Codes, Purpose
from broker.accounts.service import AccountService
from broker.deps import Db, Form, HashingTurn, ServicesDep
from broker.notify.outbox import Outbox
from broker.web.account import end_everywhere_recorded
from broker.web.i18n import N_, _
from broker.web.journeys import EmailJourney, new_password_errors, read_email
from broker.web.signin import client_address, load_interaction
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
    codes = Codes(db, services.clock(), client_address(request))
    JOURNEY.begin(interaction, address)
    account = AccountService(db, services.passwords).by_email(address)
    if account is not None:
        codes.send(interaction, Purpose.RESET_PASSWORD, address, "email", address, "reset_code")
    else:
        codes.count_send(address)
        codes.spoil(interaction)  # the same journey, and no code can work
    db.commit()
    return see_other(JOURNEY.url(services, interaction, "/code"))


@router.post("/reset-password/{interaction_id}/password", dependencies=[HashingTurn])
def password(interaction_id: str, request: Request, db: Db, services: ServicesDep, form: Form) -> Response:
    interaction = load_interaction(request, db, services, interaction_id)
    accounts = AccountService(db, services.passwords)
    account = accounts.by_email(interaction.journey_email or "")
    if interaction.journey_verified_at is None or account is None:
        return see_other(JOURNEY.url(services, interaction))
    new = form.get("password") or ""
    errors = new_password_errors(new, form.get("confirm") or "", account.email)
    if errors:
        return JOURNEY.password_page(services, request, interaction, errors=errors)
    now = services.clock()
    db.commit()  # no transaction open through the slow hash (see broker.accounts.service)
    accounts.set_password(account, new)
    Outbox(db).send_email(account.email, "password_changed", {}, now)
    interaction.journey_email = interaction.journey_verified_at = None
    end_everywhere_recorded(request, db, services, account.id, "password.reset", "password reset")
    return see_other(f"{services.settings.issuer}/sign-in/{interaction.id}?notice=password-reset")
