"""A backup method: a second, different way to get a security code (text message or authenticator
app, whichever the main method is not), offered at sign-in when the main one is lost. Adding,
changing and removing it are Security page changes like any other (see ``change_steps``)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response

from broker.accounts.changes import backup_choices, change_app, change_phone, set_backup
from broker.deps import Db, Form, ServicesDep
from broker.store.models import Account, AccountChange
from broker.web.change_steps import (
    Flow,
    add_app_routes,
    add_phone_routes,
    finish,
    security_for,
)
from broker.web.i18n import N_, _
from broker.webkit.access import SECURITY, signed_in
from broker.webkit.pages import form_page, see_other
from broker.webkit.router import page_router

router = page_router()

BACKUP = f"{SECURITY}/backup"
OPTIONS = {"sms": N_("Text message"), "totp": N_("Authenticator app")}
CHOOSE = N_("Select how you want to get backup security codes")


def _backup_phone(account: Account, change: AccountChange, _step: int | None) -> None:
    set_backup(account, "sms")
    change_phone(account, change.new_phone or "")


def _backup_app(account: Account, change: AccountChange, step: int | None) -> None:
    assert change.new_totp_secret and step is not None
    set_backup(account, "totp")
    change_app(account, change.new_totp_secret, step)


BACKUP_PHONE = Flow(
    "backup-phone",
    f"{BACKUP}/phone",
    N_("Get backup security codes by text message"),
    lambda account: "sms" in backup_choices(account),
    _backup_phone,
    "backup-set",
    "factor.backup_set",
    "sms",
)
BACKUP_APP = Flow(
    "backup-app",
    f"{BACKUP}/authenticator",
    N_("Get backup security codes from an authenticator app"),
    lambda account: "totp" in backup_choices(account),
    _backup_app,
    "backup-set",
    "factor.backup_set",
    "totp",
)
add_phone_routes(router, BACKUP_PHONE)
add_app_routes(router, BACKUP_APP)


def _choose_page(services: ServicesDep, request: Request, account: Account, **kw: Any) -> Response:
    title = _("Change your backup method") if account.backup_method else _("Add a backup method")
    return form_page(
        services,
        request,
        title=title,
        action=BACKUP,
        intro=[
            _(
                "If you cannot use your main way of getting security codes, you can sign in with "
                "your backup method instead."
            )
        ],
        choices={
            "name": "method",
            "legend": _("How do you want to get backup security codes?"),
            "options": [(method, _(OPTIONS[method])) for method in backup_choices(account)],
        },
        back=SECURITY,
        **kw,
    )


@router.get("/account/security/backup")
def choose_page(request: Request, db: Db, services: ServicesDep) -> Response:
    _session, account = signed_in(request)
    return _choose_page(services, request, account)


@router.post("/account/security/backup")
def choose(request: Request, db: Db, services: ServicesDep, form: Form) -> Response:
    _session, account = signed_in(request)
    method = form.get("method")
    if method not in backup_choices(account):
        return _choose_page(services, request, account, errors={"method": CHOOSE})
    flow = BACKUP_PHONE if method == "sms" else BACKUP_APP
    return see_other(f"{services.settings.issuer}{flow.path}")


@router.get("/account/security/backup/remove")
def remove_page(request: Request, db: Db, services: ServicesDep) -> Response:
    _session, account = signed_in(request)
    if not account.backup_method:
        return see_other(f"{services.settings.issuer}{SECURITY}")
    return form_page(
        services,
        request,
        title=_("Remove your backup method"),
        action=f"{BACKUP}/remove",
        intro=[
            _(
                "If you remove it, and then cannot use your main way of getting security codes, you "
                "will need to reset it, which takes a few days."
            )
        ],
        button=_("Remove backup method"),
        back=SECURITY,
    )


@router.post("/account/security/backup/remove")
def remove(request: Request, db: Db, services: ServicesDep) -> Response:
    secret = security_for(request, db, services).remove_backup()
    if secret is None:
        return see_other(f"{services.settings.issuer}{SECURITY}")
    return finish(services, "backup-removed", secret)
