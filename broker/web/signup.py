"""Create an account: email → code → password → second factor → signed in, back to the service.

An email address that already has an account is never revealed on screen: its owner gets an email
saying so, and the journey looks the same as for a new address.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response

from broker.accounts import factors
from broker.accounts.codes import Purpose
from broker.accounts.journeys import EmailJourneys
from broker.accounts.signup import SignUp, account_setting_up_factor
from broker.deps import Db, Form, HashingTurn, ServicesDep
from broker.store.models import Interaction
from broker.web.fields import CODE_FIELD, PHONE_FIELD
from broker.web.i18n import N_, _
from broker.web.journeys import WRONG_CODE, EmailJourney, new_password_errors, read_email
from broker.web.signin import (
    SENT_AGAIN,
    load_interaction,
    next_location,
    session_secret,
    set_session_cookie,
    signed_in_to,
    visit,
)
from broker.webkit.pages import form_page, render, see_other
from broker.webkit.router import page_router

router = page_router()

FACTOR_CHOICES = {
    "name": "method",
    "legend": N_("How do you want to get security codes?"),
    "options": [
        ("totp", N_("Authenticator app")),
        ("sms", N_("Text message")),
        ("email", N_("Email")),
        ("passkey", N_("Passkey (fingerprint, face or screen lock)")),
    ],
}


JOURNEY = EmailJourney(
    path="/create-account",
    purpose=Purpose.NEW_ACCOUNT,
    email_title=N_("Enter your email address"),
    email_intro=N_("We will send a code to check it is yours."),
    password_title=N_("Create your password"),
    code_intro=lambda interaction: _(
        "We have sent a 6-digit security code to %(email)s. It expires in 15 minutes.",
        email=interaction.journey_email,
    ),
    offer_resend=True,
    email_is_question=True,
)
JOURNEY.add_routes(router)


def _signed_up(interaction: Interaction) -> bool:
    """Whether this interaction made an account (a proven new address), rather than reset a factor."""
    return bool(interaction.account_id and interaction.journey_email and interaction.journey_verified_at)


def created_page(services: ServicesDep, interaction: Interaction) -> str | None:
    """Where a new account's person goes once a way of getting codes is set up: the page that says
    the account is made (None after a lost-factor reset, which goes straight on)."""
    return JOURNEY.url(services, interaction, "/created") if _signed_up(interaction) else None


def account_created(services: ServicesDep, interaction: Interaction, secret: str) -> Response:
    """Signed in with the new account: its session's cookie, and the page that says so. A way of
    getting codes set up again after a lost-factor reset (the same steps) goes straight on."""
    if not _signed_up(interaction):
        return signed_in_to(services, interaction, secret)
    response = see_other(JOURNEY.url(services, interaction, "/created"))
    set_session_cookie(response, services, secret)
    return response


@router.get("/create-account/{interaction_id}/created")
def created(interaction_id: str, request: Request, db: Db, services: ServicesDep) -> Response:
    """The account is made and its way of getting codes set up: say so, and what comes next."""
    interaction = load_interaction(request, db, services, interaction_id)
    if not _signed_up(interaction) or interaction.factor_setup_for is not None:
        return see_other(JOURNEY.url(services, interaction))
    context = {
        "title": _("Your account has been created"),
        "next": next_location(services, interaction),
        "for_service": interaction.client_id is not None,
    }
    return render(services, request, "account_created.html", context)


@router.post("/create-account/{interaction_id}")
def email(interaction_id: str, request: Request, db: Db, services: ServicesDep, form: Form) -> Response:
    interaction = load_interaction(request, db, services, interaction_id)
    raw = (form.get("email") or "").strip()
    address, message = read_email(raw)
    if address is None:
        return JOURNEY.email_page(
            services, request, interaction, values={"email": raw}, errors={"email": message or ""}
        )
    EmailJourneys(visit(request, db, services)).start_new_account(interaction, address)
    return see_other(JOURNEY.url(services, interaction, "/code"))


@router.post("/create-account/{interaction_id}/password", dependencies=[HashingTurn])
def password(interaction_id: str, request: Request, db: Db, services: ServicesDep, form: Form) -> Response:
    interaction = load_interaction(request, db, services, interaction_id)
    if interaction.journey_verified_at is None or not interaction.journey_email:
        return see_other(JOURNEY.url(services, interaction))
    new = form.get("password") or ""
    errors = new_password_errors(new, form.get("confirm") or "", interaction.journey_email)
    if errors:
        return JOURNEY.password_page(services, request, interaction, errors=errors)
    if SignUp(visit(request, db, services)).create(interaction, new) is None:
        return JOURNEY.email_page(
            services, request, interaction, errors={"email": _("Enter your email address again to continue")}
        )
    return see_other(JOURNEY.url(services, interaction, "/second-factor"))


def _factor_page(services: ServicesDep, request: Request, interaction: Interaction, **kw: Any) -> Response:
    return form_page(
        services,
        request,
        title=_("Choose how to get security codes"),
        action=JOURNEY.url(services, interaction, "/second-factor"),
        choices=FACTOR_CHOICES,
        intro=[_("Each time you sign in you will enter your password and a security code.")],
        question=True,
        **kw,
    )


@router.get("/create-account/{interaction_id}/second-factor")
def factor_page(interaction_id: str, request: Request, db: Db, services: ServicesDep) -> Response:
    interaction = load_interaction(request, db, services, interaction_id)
    if account_setting_up_factor(db, interaction) is None:
        return see_other(JOURNEY.url(services, interaction))
    return _factor_page(services, request, interaction)


@router.post("/create-account/{interaction_id}/second-factor")
def factor(interaction_id: str, request: Request, db: Db, services: ServicesDep, form: Form) -> Response:
    interaction = load_interaction(request, db, services, interaction_id)
    account = account_setting_up_factor(db, interaction)
    if account is None:
        return see_other(JOURNEY.url(services, interaction))
    method = form.get("method")
    if method == "passkey":
        return see_other(JOURNEY.url(services, interaction, "/passkey"))
    if method not in factors.METHODS:
        return _factor_page(
            services, request, interaction, errors={"method": _("Select how you want to get security codes")}
        )
    if method == "totp":
        SignUp(visit(request, db, services)).choose_app(interaction)
        return see_other(JOURNEY.url(services, interaction, "/authenticator"))
    if method == "sms":
        return see_other(JOURNEY.url(services, interaction, "/phone"))
    secret = SignUp(visit(request, db, services)).choose_email(
        interaction, account, session_secret(request, services)
    )
    return account_created(services, interaction, secret)


def _authenticator_page(
    services: ServicesDep, request: Request, interaction: Interaction, email: str, **kw: Any
) -> Response:
    secret = interaction.pending_totp_secret or ""
    return form_page(
        services,
        request,
        title=_("Set up an authenticator app"),
        action=JOURNEY.url(services, interaction, "/authenticator"),
        intro=[
            _(
                "Scan the QR code with an authenticator app on your phone, then enter the 6-digit code it shows."
            )
        ],
        qr_svg=factors.totp_qr_svg(factors.totp_uri(secret, email, services.settings.service_name)),
        secret_text=secret,
        fields=[CODE_FIELD],
        back=JOURNEY.url(services, interaction, "/second-factor"),
        **kw,
    )


@router.get("/create-account/{interaction_id}/authenticator")
def authenticator_page(interaction_id: str, request: Request, db: Db, services: ServicesDep) -> Response:
    interaction = load_interaction(request, db, services, interaction_id)
    account = account_setting_up_factor(db, interaction)
    if account is None or not interaction.pending_totp_secret:
        return see_other(JOURNEY.url(services, interaction, "/second-factor"))
    return _authenticator_page(services, request, interaction, account.email)


@router.post("/create-account/{interaction_id}/authenticator")
def authenticator(
    interaction_id: str, request: Request, db: Db, services: ServicesDep, form: Form
) -> Response:
    interaction = load_interaction(request, db, services, interaction_id)
    account = account_setting_up_factor(db, interaction)
    if account is None or not interaction.pending_totp_secret:
        return see_other(JOURNEY.url(services, interaction, "/second-factor"))
    secret = SignUp(visit(request, db, services)).confirm_app(
        interaction, account, form.get("code") or "", session_secret(request, services)
    )
    if secret is None:
        return _authenticator_page(
            services,
            request,
            interaction,
            account.email,
            errors={"code": _("Enter the 6-digit code your authenticator app shows")},
        )
    return account_created(services, interaction, secret)


def _phone_page(services: ServicesDep, request: Request, interaction: Interaction, **kw: Any) -> Response:
    return form_page(
        services,
        request,
        title=_("Enter your mobile phone number"),
        action=JOURNEY.url(services, interaction, "/phone"),
        fields=[PHONE_FIELD],
        back=JOURNEY.url(services, interaction, "/second-factor"),
        question=True,
        **kw,
    )


@router.get("/create-account/{interaction_id}/phone")
def phone_page(interaction_id: str, request: Request, db: Db, services: ServicesDep) -> Response:
    interaction = load_interaction(request, db, services, interaction_id)
    if account_setting_up_factor(db, interaction) is None:
        return see_other(JOURNEY.url(services, interaction))
    return _phone_page(services, request, interaction)


@router.post("/create-account/{interaction_id}/phone")
def phone(interaction_id: str, request: Request, db: Db, services: ServicesDep, form: Form) -> Response:
    interaction = load_interaction(request, db, services, interaction_id)
    account = account_setting_up_factor(db, interaction)
    if account is None:
        return see_other(JOURNEY.url(services, interaction))
    raw = (form.get("phone") or "").strip()
    try:
        number = factors.normalise_phone(raw)
    except factors.PhoneInvalid as exc:
        message = _("Enter your mobile phone number") if not raw else _(str(exc))
        return _phone_page(services, request, interaction, values={"phone": raw}, errors={"phone": message})
    SignUp(visit(request, db, services)).send_phone_code(interaction, account, number)
    return see_other(JOURNEY.url(services, interaction, "/phone/code"))


def _phone_code_page(
    services: ServicesDep, request: Request, interaction: Interaction, **kw: Any
) -> Response:
    return form_page(
        services,
        request,
        title=_("Check your phone"),
        action=JOURNEY.url(services, interaction, "/phone/code"),
        intro=[
            _(
                "We have sent a 6-digit code to %(phone)s.",
                phone=factors.mask_phone(interaction.pending_phone or ""),
            )
        ],
        fields=[CODE_FIELD],
        back=JOURNEY.url(services, interaction, "/phone"),
        resend=JOURNEY.url(services, interaction, "/phone/code/resend"),
        **kw,
    )


@router.get("/create-account/{interaction_id}/phone/code")
def phone_code_page(interaction_id: str, request: Request, db: Db, services: ServicesDep) -> Response:
    interaction = load_interaction(request, db, services, interaction_id)
    if account_setting_up_factor(db, interaction) is None or not interaction.pending_phone:
        return see_other(JOURNEY.url(services, interaction, "/phone"))
    return _phone_code_page(services, request, interaction)


@router.post("/create-account/{interaction_id}/phone/code/resend")
def phone_code_resend(interaction_id: str, request: Request, db: Db, services: ServicesDep) -> Response:
    """A new code to the same phone, counted as every send is (refused past the limit)."""
    interaction = load_interaction(request, db, services, interaction_id)
    account = account_setting_up_factor(db, interaction)
    if account is None or not interaction.pending_phone:
        return see_other(JOURNEY.url(services, interaction, "/phone"))
    SignUp(visit(request, db, services)).send_phone_code(interaction, account, interaction.pending_phone)
    return _phone_code_page(services, request, interaction, sent_again=_(SENT_AGAIN))


@router.post("/create-account/{interaction_id}/phone/code")
def phone_code(interaction_id: str, request: Request, db: Db, services: ServicesDep, form: Form) -> Response:
    interaction = load_interaction(request, db, services, interaction_id)
    account = account_setting_up_factor(db, interaction)
    if account is None or not interaction.pending_phone:
        return see_other(JOURNEY.url(services, interaction, "/phone"))
    secret = SignUp(visit(request, db, services)).confirm_phone(
        interaction, account, form.get("code") or "", session_secret(request, services)
    )
    if secret is None:
        return _phone_code_page(services, request, interaction, errors={"code": WRONG_CODE})
    return account_created(services, interaction, secret)
