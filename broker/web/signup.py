"""Create an account: email → code → password → second factor → signed in, back to the service.

An email address that already has an account is never revealed on screen: its owner gets an email
saying so, and the journey looks the same as for a new address.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response

from broker.accounts import factors
from broker.accounts.codes import Codes, Purpose
from broker.accounts.service import AccountExists, AccountService
from broker.audit.log import record
from broker.deps import Db, Form, HashingTurn, ServicesDep
from broker.notify.outbox import Outbox
from broker.store.models import Account, Interaction
from broker.web.fields import CODE_FIELD, PHONE_FIELD
from broker.web.i18n import N_, _
from broker.web.journeys import WRONG_CODE, EmailJourney, new_password_errors, read_email
from broker.web.signin import client_address, complete_sign_in, load_interaction
from broker.webkit.pages import form_page, see_other
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


def account_setting_up_factor(db: Db, interaction: Interaction) -> Account | None:
    """The account that may set up a second factor here (see Interaction.factor_setup_for), if any."""
    if not interaction.account_id or interaction.factor_setup_for != interaction.account_id:
        return None
    return db.get(Account, interaction.account_id)


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
)
JOURNEY.add_routes(router)


@router.post("/create-account/{interaction_id}")
def email(interaction_id: str, request: Request, db: Db, services: ServicesDep, form: Form) -> Response:
    interaction = load_interaction(request, db, services, interaction_id)
    raw = (form.get("email") or "").strip()
    address, message = read_email(raw)
    if address is None:
        return JOURNEY.email_page(
            services, request, interaction, values={"email": raw}, errors={"email": message or ""}
        )
    now = services.clock()
    codes = Codes(db, now, client_address(request))
    JOURNEY.begin(interaction, address)
    if AccountService(db, services.passwords).by_email(address) is not None:
        codes.count_send(address)
        codes.spoil(interaction)
        Outbox(db).send_email(address, "account_exists", {}, now)
    else:
        codes.send(interaction, Purpose.NEW_ACCOUNT, address, "email", address, "verify_email")
    db.commit()
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
    now = services.clock()
    db.commit()  # no transaction open through the slow hash (see broker.accounts.service)
    try:
        account = AccountService(db, services.passwords).create(
            interaction.journey_email, new, verified=True, now=now
        )
    except AccountExists:
        return JOURNEY.email_page(
            services, request, interaction, errors={"email": _("Enter your email address again to continue")}
        )
    interaction.account_id = interaction.factor_setup_for = account.id
    interaction.password_ok_at = now
    record(
        db,
        "account.created",
        now=now,
        actor=account.id,
        subject=account.id,
        client_address=client_address(request),
        client_id=interaction.client_id,
    )
    db.commit()
    return see_other(JOURNEY.url(services, interaction, "/second-factor"))


def _factor_page(services: ServicesDep, request: Request, interaction: Interaction, **kw: Any) -> Response:
    return form_page(
        services,
        request,
        title=_("Choose how to get security codes"),
        action=JOURNEY.url(services, interaction, "/second-factor"),
        choices=FACTOR_CHOICES,
        intro=[_("Each time you sign in you will enter your password and a security code.")],
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
        interaction.pending_totp_secret = factors.new_totp_secret()
        db.commit()
        return see_other(JOURNEY.url(services, interaction, "/authenticator"))
    if method == "sms":
        return see_other(JOURNEY.url(services, interaction, "/phone"))
    return _finish(request, db, services, interaction, account, "email")


def _finish(
    request: Request, db: Db, services: ServicesDep, interaction: Interaction, account: Account, method: str
) -> Response:
    account.mfa_method = method
    if account.backup_method == method:  # after a lost-factor reset: a backup must be another way
        account.backup_method = None
    interaction.factor_setup_for = None
    if account.factor_reset_requested_at is not None:
        account.factor_reset_requested_at = account.factor_reset_available_at = None
        record(
            db,
            "factor_reset.completed",
            now=services.clock(),
            actor=account.id,
            subject=account.id,
            client_address=client_address(request),
            method=method,
        )
    record(
        db,
        "factor.set",
        now=services.clock(),
        actor=account.id,
        subject=account.id,
        client_address=client_address(request),
        method=method,
    )
    return complete_sign_in(request, db, services, interaction, factors.AMR[method], "Cl.Cm")


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
        qr_svg=factors.totp_qr_svg(factors.totp_uri(secret, email)),
        secret_text=secret,
        fields=[CODE_FIELD],
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
    step = factors.totp_step(interaction.pending_totp_secret, form.get("code") or "", services.clock(), None)
    if step is None:
        return _authenticator_page(
            services,
            request,
            interaction,
            account.email,
            errors={"code": _("Enter the 6-digit code your authenticator app shows")},
        )
    account.totp_secret, account.totp_last_step = interaction.pending_totp_secret, step
    interaction.pending_totp_secret = None
    return _finish(request, db, services, interaction, account, "totp")


def _phone_page(services: ServicesDep, request: Request, interaction: Interaction, **kw: Any) -> Response:
    return form_page(
        services,
        request,
        title=_("Enter your mobile phone number"),
        action=JOURNEY.url(services, interaction, "/phone"),
        fields=[PHONE_FIELD],
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
    interaction.pending_phone = number
    Codes(db, services.clock(), client_address(request)).send(
        interaction, Purpose.NEW_PHONE, account.id, "sms", number, "sms_code"
    )
    db.commit()
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
        **kw,
    )


@router.get("/create-account/{interaction_id}/phone/code")
def phone_code_page(interaction_id: str, request: Request, db: Db, services: ServicesDep) -> Response:
    interaction = load_interaction(request, db, services, interaction_id)
    if account_setting_up_factor(db, interaction) is None or not interaction.pending_phone:
        return see_other(JOURNEY.url(services, interaction, "/phone"))
    return _phone_code_page(services, request, interaction)


@router.post("/create-account/{interaction_id}/phone/code")
def phone_code(interaction_id: str, request: Request, db: Db, services: ServicesDep, form: Form) -> Response:
    interaction = load_interaction(request, db, services, interaction_id)
    account = account_setting_up_factor(db, interaction)
    if account is None or not interaction.pending_phone:
        return see_other(JOURNEY.url(services, interaction, "/phone"))
    codes = Codes(db, services.clock(), client_address(request))
    if not codes.check(interaction, Purpose.NEW_PHONE, account.id, form.get("code") or "", account.id):
        db.commit()
        return _phone_code_page(
            services,
            request,
            interaction,
            errors={"code": WRONG_CODE},
        )
    account.phone_number, account.phone_number_verified = interaction.pending_phone, True
    interaction.pending_phone = None
    return _finish(request, db, services, interaction, account, "sms")
