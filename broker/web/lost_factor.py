"""Lost second factor: the slower, documented way back in.

After the password, the person asks to reset their second factor, proves they hold the email address
with a code, and then waits (72 hours by default). The account's owner is emailed at once, so if
someone else has the password, the owner can sign in normally (which cancels the reset) or change the
password. After the wait, signing in with the password and a new email code leads to setting up a
new second factor. Every step is in the audit log.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response

from broker.accounts.recovery import FactorReset, LostFactor, reset_is_due, waits_for_reset
from broker.deps import Db, Form, ServicesDep
from broker.store.models import Account, Interaction
from broker.web.fields import CODE_FIELD
from broker.web.i18n import _, long_date
from broker.web.journeys import WRONG_CODE
from broker.web.signin import password_checked, visit
from broker.webkit.pages import form_page, see_other
from broker.webkit.router import page_router

router = page_router()


def _url(services: ServicesDep, interaction: Interaction, step: str = "") -> str:
    return f"{services.settings.issuer}/sign-in/{interaction.id}/lost-factor{step}"


def _start_page(
    services: ServicesDep, request: Request, interaction: Interaction, account: Account
) -> Response:
    if not waits_for_reset(account):
        # Codes by email: nothing to wait for; prove the address, then choose another way.
        return form_page(
            services,
            request,
            title=_("Change how you get security codes"),
            action=_url(services, interaction),
            intro=[
                _("We send your security codes by email."),
                _(
                    "To get them another way, enter the code we send to your email address. Then you can "
                    "choose a text message, an authenticator app or a passkey."
                ),
            ],
            button=_("Send the code"),
            links=[(f"{services.settings.issuer}/sign-in/{interaction.id}/code", _("Go back and enter your code"))],
        )
    hours = services.settings.factor_reset_wait_hours
    intro = [
        _(
            "We will email you a security code. After you enter it, you will need to wait %(hours)s hours "
            "before you can set up a new way to get security codes. This protects your account if someone "
            "else knows your password.",
            hours=hours,
        )
    ]
    if account.factor_reset_available_at and not reset_is_due(account, services.clock()):
        intro = [
            _(
                "You have already asked to reset your way to get security codes. You can do it after %(date)s "
                "at %(time)s UTC.",
                date=long_date(account.factor_reset_available_at),
                time=f"{account.factor_reset_available_at:%H:%M}",
            )
        ]
    if reset_is_due(account, services.clock()):
        intro = [
            _(
                "Your waiting period has passed. Enter the code we send to your email address to set up a new "
                "way to get security codes."
            )
        ]
    return form_page(
        services,
        request,
        title=_("Reset your way to get security codes"),
        action=_url(services, interaction),
        intro=intro,
        button=_("Send the code"),
    )


@router.get("/sign-in/{interaction_id}/lost-factor")
def start_page(interaction_id: str, request: Request, db: Db, services: ServicesDep) -> Response:
    interaction, account = password_checked(request, db, services, interaction_id)
    if account is None:
        return see_other(f"{services.settings.issuer}/sign-in/{interaction.id}")
    return _start_page(services, request, interaction, account)


@router.post("/sign-in/{interaction_id}/lost-factor")
def send_code(interaction_id: str, request: Request, db: Db, services: ServicesDep) -> Response:
    interaction, account = password_checked(request, db, services, interaction_id)
    if account is None:
        return see_other(f"{services.settings.issuer}/sign-in/{interaction.id}")
    FactorReset(visit(request, db, services)).send_code(interaction, account)
    return see_other(_url(services, interaction, "/code"))


def _code_page(services: ServicesDep, request: Request, interaction: Interaction, **kw: Any) -> Response:
    return form_page(
        services,
        request,
        title=_("Check your email"),
        action=_url(services, interaction, "/code"),
        intro=[_("We have sent a 6-digit security code to your email address.")],
        fields=[CODE_FIELD],
        **kw,
    )


@router.get("/sign-in/{interaction_id}/lost-factor/code")
def code_page(interaction_id: str, request: Request, db: Db, services: ServicesDep) -> Response:
    interaction, account = password_checked(request, db, services, interaction_id)
    if account is None:
        return see_other(f"{services.settings.issuer}/sign-in/{interaction.id}")
    return _code_page(services, request, interaction)


@router.post("/sign-in/{interaction_id}/lost-factor/code")
def check_code(interaction_id: str, request: Request, db: Db, services: ServicesDep, form: Form) -> Response:
    interaction, account = password_checked(request, db, services, interaction_id)
    if account is None:
        return see_other(f"{services.settings.issuer}/sign-in/{interaction.id}")
    outcome = FactorReset(visit(request, db, services)).check_code(
        interaction, account, form.get("code") or ""
    )
    if outcome is LostFactor.WRONG_CODE:
        return _code_page(services, request, interaction, errors={"code": WRONG_CODE})
    if outcome is LostFactor.SET_UP_NOW:
        return see_other(f"{services.settings.issuer}/create-account/{interaction.id}/second-factor")
    return see_other(_url(services, interaction))
