"""Signing in with the backup method: after the password, a person who cannot use their main way of
getting codes uses their backup (text message or authenticator app) instead of the slow lost-factor
reset. The code sent to the backup phone is kept apart from the main one, so neither passes for the
other, and both count against the same limits."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response

from broker.accounts import factors
from broker.accounts.changes import code_matches, new_code
from broker.accounts.codes import MINUTES, WRONG_CODE, Codes
from broker.accounts.interactions import CODE_TTL
from broker.audit.log import record
from broker.deps import Db, Form, ServicesDep
from broker.notify.outbox import Outbox
from broker.store.models import Account, Interaction
from broker.web.change_steps import code_problem
from broker.web.fields import CODE_FIELD
from broker.web.i18n import _
from broker.web.signin import client_address, complete_sign_in, password_checked, verify_second_factor
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
        links=[(_url(services, interaction, "/code"), _("Use your main way of getting codes instead"))],
    )


@router.post("/sign-in/{interaction_id}/backup")
def send_code(interaction_id: str, request: Request, db: Db, services: ServicesDep) -> Response:
    interaction, account = _with_backup(request, db, services, interaction_id)
    if account is None or account.backup_method != "sms" or not account.phone_number:
        return see_other(_url(services, interaction))
    now = services.clock()
    Codes(db, now, client_address(request)).count_send(account.id)
    code, interaction.backup_otp_hash = new_code()
    interaction.backup_otp_expires_at = now + CODE_TTL
    Outbox(db).send_sms(account.phone_number, "sms_code", {"code": code, "minutes": MINUTES}, now)
    db.commit()
    return see_other(_url(services, interaction, "/backup/code"))


def _code_page(
    services: ServicesDep, request: Request, interaction: Interaction, account: Account, **kw: Any
) -> Response:
    if account.backup_method == "totp":
        title = _("Enter the code from your authenticator app")
        intro = _("Enter the 6-digit security code shown in your backup authenticator app.")
        links = []
    else:
        title = _("Check your phone")
        intro = _(
            "We have sent a 6-digit security code to your phone number ending %(digits)s. "
            "It expires in 15 minutes.",
            digits=(account.phone_number or "")[-4:],
        )
        links = [(_url(services, interaction, "/backup"), _("Send the code again"))]
    links.append((_url(services, interaction, "/lost-factor"), _("I cannot use my backup method either")))
    return form_page(
        services,
        request,
        title=title,
        action=_url(services, interaction, "/backup/code"),
        intro=[intro],
        fields=[CODE_FIELD],
        links=links,
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
    problem = code_problem(entered)
    if problem is None and not _backup_code_ok(request, db, services, interaction, account, entered):
        db.commit()  # keep the count of wrong codes
        problem = WRONG_CODE
    if problem:
        return _code_page(
            services, request, interaction, account, values={"code": entered}, errors={"code": problem}
        )
    method = str(account.backup_method)
    now, address = services.clock(), client_address(request)
    if account.factor_reset_requested_at is not None:  # the owner still has a way in
        account.factor_reset_requested_at = account.factor_reset_available_at = None
        record(
            db,
            "factor_reset.cancelled",
            now=now,
            actor=account.id,
            subject=account.id,
            client_address=address,
        )
    record(
        db,
        "factor.backup_used",
        now=now,
        actor=account.id,
        subject=account.id,
        client_address=address,
        method=method,
    )
    return complete_sign_in(request, db, services, interaction, factors.AMR[method], "Cl.Cm")


def _backup_code_ok(
    request: Request, db: Db, services: ServicesDep, interaction: Interaction, account: Account, code: str
) -> bool:
    if account.backup_method == "totp":
        return verify_second_factor(db, services, request, interaction, account, "totp", code)
    now = services.clock()

    def matches() -> bool:
        if code_matches(interaction.backup_otp_hash, interaction.backup_otp_expires_at, code, now):
            interaction.backup_otp_hash = None  # a code works once
            return True
        return False

    return Codes(db, now, client_address(request)).attempt(account.id, account.id, matches)
