"""Signing in with the backup method: after the password, a person who cannot use their main way of
getting codes uses their backup (text message or authenticator app) instead of the slow lost-factor
reset. The code sent to the backup phone is kept apart from the main one, so neither passes for the
other, and both count against the same limits."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response

from broker.accounts.codes import WRONG_CODE
from broker.accounts.signin import SignIn
from broker.deps import Db, Form, ServicesDep
from broker.store.models import Account, Interaction
from broker.web.change_steps import code_problem
from broker.web.fields import CODE_FIELD
from broker.web.i18n import _
from broker.web.signin import password_checked, session_secret, signed_in_to, visit
from broker.webkit.pages import form_page, see_other
from broker.webkit.router import page_router

router = page_router()


def _url(services: ServicesDep, interaction: Interaction, step: str = "") -> str:
    return f"{services.settings.issuer}/sign-in/{interaction.id}{step}"


def _with_backup(
    request: Request, db: Db, services: ServicesDep, interaction_id: str
) -> tuple[Interaction, Account | None]:
    """The interaction, and its account once the password is checked, if it has a backup method."""
    interaction, account = password_checked(request, db, services, interaction_id)
    if account is None or account.backup_method not in ("sms", "totp"):
        return interaction, None
    if account.backup_method == "sms" and not account.phone_number:
        return interaction, None
    return interaction, account


@router.get("/sign-in/{interaction_id}/backup")
def start_page(interaction_id: str, request: Request, db: Db, services: ServicesDep) -> Response:
    interaction, account = _with_backup(request, db, services, interaction_id)
    if account is None:
        return see_other(_url(services, interaction))
    if account.backup_method == "totp":
        return see_other(_url(services, interaction, "/backup/code"))
    return form_page(
        services,
        request,
        title=_("Get a security code by text message"),
        action=_url(services, interaction, "/backup"),
        intro=[
            _(
                "We will send a 6-digit security code to your backup phone number ending %(digits)s.",
                digits=(account.phone_number or "")[-4:],
            )
        ],
        button=_("Send the code"),
        back=_url(services, interaction, "/code"),
        links=[(_url(services, interaction, "/code"), _("Use your main way of getting codes instead"))],
    )


@router.post("/sign-in/{interaction_id}/backup")
def send_code(interaction_id: str, request: Request, db: Db, services: ServicesDep) -> Response:
    interaction, account = _with_backup(request, db, services, interaction_id)
    if account is None or account.backup_method != "sms" or not account.phone_number:
        return see_other(_url(services, interaction))
    SignIn(visit(request, db, services)).send_backup_code(interaction, account)
    return see_other(_url(services, interaction, "/backup/code"))


def _code_page(
    services: ServicesDep, request: Request, interaction: Interaction, account: Account, **kw: Any
) -> Response:
    if account.backup_method == "totp":
        title = _("Enter the code from your authenticator app")
        intro = _("Enter the 6-digit security code shown in your backup authenticator app.")
        back = _url(services, interaction, "/code")
        resend = ""
    else:
        title = _("Check your phone")
        intro = _(
            "We have sent a 6-digit security code to your phone number ending %(digits)s. "
            "It expires in 15 minutes.",
            digits=(account.phone_number or "")[-4:],
        )
        back = _url(services, interaction, "/backup")
        resend = _url(services, interaction, "/backup")  # sends a new code, counted as every send is
    links = [(_url(services, interaction, "/lost-factor"), _("I cannot use my backup method either"))]
    return form_page(
        services,
        request,
        title=title,
        action=_url(services, interaction, "/backup/code"),
        intro=[intro],
        fields=[CODE_FIELD],
        links=links,
        back=back,
        resend=resend,
        **kw,
    )


@router.get("/sign-in/{interaction_id}/backup/code")
def code_page(interaction_id: str, request: Request, db: Db, services: ServicesDep) -> Response:
    interaction, account = _with_backup(request, db, services, interaction_id)
    if account is None:
        return see_other(_url(services, interaction))
    if account.backup_method == "sms" and interaction.backup_otp_hash is None:
        return see_other(_url(services, interaction, "/backup"))
    return _code_page(services, request, interaction, account)


@router.post("/sign-in/{interaction_id}/backup/code")
def check_code(interaction_id: str, request: Request, db: Db, services: ServicesDep, form: Form) -> Response:
    interaction, account = _with_backup(request, db, services, interaction_id)
    if account is None:
        return see_other(_url(services, interaction))
    entered = (form.get("code") or "").strip()
    problem, secret = code_problem(entered), None
    if problem is None:
        secret = SignIn(visit(request, db, services)).with_backup_code(
            interaction, account, entered, session_secret(request, services)
        )
        problem = WRONG_CODE if secret is None else None
    if problem or secret is None:
        return _code_page(
            services, request, interaction, account, values={"code": entered}, errors={"code": problem or ""}
        )
    return signed_in_to(services, interaction, secret)
