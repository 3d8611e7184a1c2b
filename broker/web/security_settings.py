"""Changing your email address, authenticator app or phone number from the Security page (the shared
steps, and what each change needs first, are in ``change_steps``)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response

from broker.accounts.changes import (
    change_app,
    change_phone,
    main_choices,
    set_main_method,
    uses_app,
    uses_phone,
)
from broker.accounts.codes import WRONG_CODE
from broker.deps import Db, Form, ServicesDep
from broker.store.models import Account, AccountChange
from broker.web.backup_method import OPTIONS
from broker.web.change_steps import (
    Flow,
    add_app_routes,
    add_phone_routes,
    code_problem,
    finish,
    security_for,
)
from broker.web.fields import CODE_FIELD
from broker.web.i18n import N_, _
from broker.web.journeys import read_email
from broker.web.signin import SENT_AGAIN
from broker.webkit.access import SECURITY, signed_in
from broker.webkit.pages import form_page, see_other
from broker.webkit.router import page_router

router = page_router()

EMAIL_FIELD = {"name": "email", "label": N_("New email address"), "type": "email", "autocomplete": "email"}
SAME_EMAIL = N_("Enter a different email address from the one you sign in with now")


# Email address


def _email_page(services: ServicesDep, request: Request, account: Account, **kw: Any) -> Response:
    return form_page(
        services,
        request,
        title=_("Change your email address"),
        action=f"{SECURITY}/email",
        fields=[EMAIL_FIELD],
        intro=[
            _("You sign in with %(email)s.", email=account.email),
            _("We will send a code to your new email address to check it is yours."),
        ],
        back=SECURITY,
        **kw,
    )


@router.get("/account/security/email")
def email_page(request: Request, db: Db, services: ServicesDep) -> Response:
    _session, account = signed_in(request)
    return _email_page(services, request, account)


@router.post("/account/security/email")
def email(request: Request, db: Db, services: ServicesDep, form: Form) -> Response:
    _session, account = signed_in(request)
    raw = (form.get("email") or "").strip()
    address, message = read_email(raw)
    if address is None or address == account.email:
        error = message or SAME_EMAIL
        return _email_page(services, request, account, values={"email": raw}, errors={"email": error})
    security_for(request, db, services).start_email_change(address)
    return see_other(f"{services.settings.issuer}{SECURITY}/email/code")


def _email_code_page(services: ServicesDep, request: Request, change: AccountChange, **kw: Any) -> Response:
    return form_page(
        services,
        request,
        title=_("Check your email"),
        action=f"{SECURITY}/email/code",
        fields=[CODE_FIELD],
        intro=[
            _(
                "We have sent a 6-digit security code to %(email)s. It expires in 15 minutes.",
                email=change.new_email or "",
            )
        ],
        links=[(f"{SECURITY}/email", _("Use another email address"))],
        back=f"{SECURITY}/email",
        resend=f"{SECURITY}/email/code/resend",
        **kw,
    )


@router.get("/account/security/email/code")
def email_code_page(request: Request, db: Db, services: ServicesDep) -> Response:
    change = security_for(request, db, services).pending("email")
    if change is None:
        return see_other(f"{services.settings.issuer}{SECURITY}/email")
    return _email_code_page(services, request, change)


@router.post("/account/security/email/code/resend")
def email_code_resend(request: Request, db: Db, services: ServicesDep) -> Response:
    """A new code to the address being confirmed, counted as every send is (refused past the limit)."""
    security = security_for(request, db, services)
    change = security.pending("email")
    if change is None or not change.new_email:
        return see_other(f"{services.settings.issuer}{SECURITY}/email")
    security.start_email_change(change.new_email)
    fresh = security.pending("email")
    return _email_code_page(services, request, fresh or change, sent_again=_(SENT_AGAIN))


@router.post("/account/security/email/code")
def email_code(request: Request, db: Db, services: ServicesDep, form: Form) -> Response:
    security = security_for(request, db, services)
    change = security.pending("email")
    if change is None or not change.new_email:
        return see_other(f"{services.settings.issuer}{SECURITY}/email")
    entered = (form.get("code") or "").strip()
    problem, secret = code_problem(entered), None
    if problem is None:
        secret = security.confirm_email(change, entered)
        problem = WRONG_CODE if secret is None else None
    if problem or secret is None:
        return _email_code_page(
            services, request, change, values={"code": entered}, errors={"code": problem or ""}
        )
    return finish(services, "email-changed", secret)


# Phone number and authenticator app


def _new_phone(account: Account, change: AccountChange, _step: int | None) -> None:
    change_phone(account, change.new_phone or "")


def _new_app(account: Account, change: AccountChange, step: int | None) -> None:
    assert change.new_totp_secret and step is not None
    change_app(account, change.new_totp_secret, step)


PHONE = Flow(
    "phone",
    f"{SECURITY}/phone",
    N_("Change your phone number"),
    uses_phone,
    _new_phone,
    "phone-changed",
    "factor.changed",
    "sms",
)
APP = Flow(
    "app",
    f"{SECURITY}/authenticator",
    N_("Change your authenticator app"),
    uses_app,
    _new_app,
    "app-changed",
    "factor.changed",
    "totp",
)
add_phone_routes(router, PHONE)
add_app_routes(router, APP)


# From codes by email to a text message or an app (the email row's "Change" on the Security page)

CODES = f"{SECURITY}/codes"
CHOOSE_CODES = N_("Select how you want to get security codes")


def _codes_by_phone(account: Account, change: AccountChange, _step: int | None) -> None:
    set_main_method(account, "sms")
    change_phone(account, change.new_phone or "")


def _codes_by_app(account: Account, change: AccountChange, step: int | None) -> None:
    assert change.new_totp_secret and step is not None
    set_main_method(account, "totp")
    change_app(account, change.new_totp_secret, step)


# The kinds "phone" and "app" are whichever role the phone or app plays: these flows are open only to
# someone whose codes come by email, the ones above only to someone who has the phone or app already.
CODES_PHONE = Flow(
    "phone",
    f"{CODES}/phone",
    N_("Get security codes by text message"),
    lambda account: "sms" in main_choices(account),
    _codes_by_phone,
    "codes-by-phone",
    "factor.changed",
    "sms",
)
CODES_APP = Flow(
    "app",
    f"{CODES}/authenticator",
    N_("Get security codes from an authenticator app"),
    lambda account: "totp" in main_choices(account),
    _codes_by_app,
    "codes-by-app",
    "factor.changed",
    "totp",
)
add_phone_routes(router, CODES_PHONE)
add_app_routes(router, CODES_APP)


def _codes_page(services: ServicesDep, request: Request, account: Account, **kw: Any) -> Response:
    return form_page(
        services,
        request,
        title=_("Change how you get security codes"),
        action=CODES,
        intro=[_("We send your security codes by email.")],
        choices={
            "name": "method",
            "legend": _("How do you want to get security codes?"),
            "options": [(method, _(OPTIONS[method])) for method in main_choices(account)],
        },
        back=SECURITY,
        **kw,
    )


@router.get("/account/security/codes")
def codes_page(request: Request, db: Db, services: ServicesDep) -> Response:
    _session, account = signed_in(request)
    if not main_choices(account):
        return see_other(f"{services.settings.issuer}{SECURITY}")
    return _codes_page(services, request, account)


@router.post("/account/security/codes")
def codes(request: Request, db: Db, services: ServicesDep, form: Form) -> Response:
    _session, account = signed_in(request)
    method = form.get("method")
    if not main_choices(account):
        return see_other(f"{services.settings.issuer}{SECURITY}")
    if method not in main_choices(account):
        return _codes_page(services, request, account, errors={"method": CHOOSE_CODES})
    flow = CODES_PHONE if method == "sms" else CODES_APP
    return see_other(f"{services.settings.issuer}{flow.path}")
