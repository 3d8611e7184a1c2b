"""The steps every change on the Security page shares: the code field and its checks, the phone
number and authenticator app pages (the same whether the phone or app is the main way of getting
codes or the backup), and finishing a change.

Every step needs a sign-in with both factors in the last 15 minutes (``signed_in_strongly``). A change
takes effect only with proof that the new thing is yours (a code sent to it, or one from the new
app); then it is recorded, the session gets a new secret (a change of privilege), and the Security
page says it is done.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from broker.accounts import factors
from broker.accounts.changes import AccountChanges
from broker.accounts.codes import WRONG_CODE
from broker.audit.log import record
from broker.deps import Db, Form, ServicesDep
from broker.notify.outbox import Outbox
from broker.store.models import Account, AccountChange, BrowserSession
from broker.web.account import new_session_secret
from broker.web.fields import CODE_FIELD, PHONE_FIELD
from broker.web.i18n import N_, _
from broker.web.signin import client_address
from broker.webkit.access import SECURITY, signed_in
from broker.webkit.pages import form_page, see_other

ENTER_CODE = N_("Enter the security code")
CODE_DIGITS = N_("Enter the security code using only 6 digits")
WRONG_APP_CODE = N_("The code is not correct. Enter the 6-digit code your new authenticator app shows")


def code_problem(entered: str) -> str | None:
    """What is wrong with the shape of a typed code (a wrong shape is never counted as an attempt)."""
    if not entered:
        return ENTER_CODE
    digits = entered.replace(" ", "")
    return None if digits.isdigit() and len(digits) == 6 else CODE_DIGITS


def changes_for(request: Request, db: Db, services: ServicesDep) -> AccountChanges:
    return AccountChanges(db, services.clock(), client_address(request))


def finish(
    request: Request,
    db: Db,
    services: ServicesDep,
    session: BrowserSession,
    notice: str,
    action: str,
    **details: Any,
) -> Response:
    """Record the change, give the session a new secret, commit, and back to the Security page."""
    record(
        db,
        action,
        now=services.clock(),
        actor=session.account_id,
        subject=session.account_id,
        client_address=client_address(request),
        **details,
    )
    response = see_other(f"{services.settings.issuer}{SECURITY}?notice={notice}")
    new_session_secret(response, db, services, session)
    return response


def tell_owner(db: Db, services: ServicesDep, account: Account) -> None:
    Outbox(db).send_email(account.email, "sign_in_method_changed", {}, services.clock())


@dataclass(frozen=True)
class Flow:
    """One way of changing a phone number or an app: its pages, and what confirming it does."""

    kind: str  # an AccountChanges kind
    path: str
    title: str  # marked with N_, translated where shown
    allowed: Callable[[Account], bool]
    apply: Callable[[Account, AccountChange, int | None], None]
    notice: str
    action: str
    method: str


def phone_page(request: Request, db: Db, services: ServicesDep, flow: Flow) -> Response:
    _session, account = signed_in(request)
    if not flow.allowed(account):
        return see_other(f"{services.settings.issuer}{SECURITY}")
    return _phone_page(services, request, flow)


def _phone_page(services: ServicesDep, request: Request, flow: Flow, **kw: Any) -> Response:
    return form_page(
        services,
        request,
        title=_(flow.title),
        action=flow.path,
        fields=[PHONE_FIELD],
        intro=[_("We will send a code to this number to check it is yours.")],
        **kw,
    )


def phone_start(request: Request, db: Db, services: ServicesDep, form: Form, flow: Flow) -> Response:
    session, account = signed_in(request)
    if not flow.allowed(account):
        return see_other(f"{services.settings.issuer}{SECURITY}")
    raw = (form.get("phone") or "").strip()
    try:
        number = factors.normalise_phone(raw)
    except factors.PhoneInvalid as exc:
        message = N_("Enter your mobile phone number") if not raw else str(exc)
        return _phone_page(services, request, flow, values={"phone": raw}, errors={"phone": message})
    changes = changes_for(request, db, services)
    change = changes.start(session, flow.kind, new_phone=number)
    changes.send_code(change, "sms", number, "sms_code")
    db.commit()
    return see_other(f"{services.settings.issuer}{flow.path}/code")


def _phone_code_page(
    services: ServicesDep, request: Request, flow: Flow, change: AccountChange, **kw: Any
) -> Response:
    digits = (change.new_phone or "")[-4:]
    return form_page(
        services,
        request,
        title=_("Check your phone"),
        action=f"{flow.path}/code",
        fields=[CODE_FIELD],
        intro=[
            _(
                "We have sent a 6-digit security code to your phone number ending %(digits)s. "
                "It expires in 15 minutes.",
                digits=digits,
            )
        ],
        links=[(flow.path, _("Send the code again or use another phone number"))],
        **kw,
    )


def phone_code_page(request: Request, db: Db, services: ServicesDep, flow: Flow) -> Response:
    session, _account = signed_in(request)
    change = changes_for(request, db, services).pending(session, flow.kind)
    if change is None:
        return see_other(f"{services.settings.issuer}{flow.path}")
    return _phone_code_page(services, request, flow, change)


def phone_confirm(request: Request, db: Db, services: ServicesDep, form: Form, flow: Flow) -> Response:
    session, account = signed_in(request)
    changes = changes_for(request, db, services)
    change = changes.pending(session, flow.kind)
    if change is None or not change.new_phone or not flow.allowed(account):
        return see_other(f"{services.settings.issuer}{flow.path}")
    entered = (form.get("code") or "").strip()
    problem = code_problem(entered)
    if problem is None and not changes.check_code(change, entered):
        db.commit()  # keep the count of wrong codes
        problem = WRONG_CODE
    if problem:
        return _phone_code_page(
            services, request, flow, change, values={"code": entered}, errors={"code": problem}
        )
    return _confirmed(request, db, services, session, account, flow, change, None)


def _app_page(services: ServicesDep, request: Request, flow: Flow, account: Account, **kw: Any) -> Response:
    change = kw.pop("change")
    secret = change.new_totp_secret or ""
    return form_page(
        services,
        request,
        title=_(flow.title),
        action=flow.path,
        intro=[
            _(
                "Scan the QR code with an authenticator app on your phone, "
                "then enter the 6-digit code it shows."
            ),
            _("Your old authenticator app will stop working when you have done this."),
        ],
        qr_svg=factors.totp_qr_svg(factors.totp_uri(secret, account.email)),
        secret_text=secret,
        fields=[CODE_FIELD],
        **kw,
    )


def app_page(request: Request, db: Db, services: ServicesDep, flow: Flow) -> Response:
    """A new secret for this session (kept while the page is reloaded), shown as a QR code and text."""
    session, account = signed_in(request)
    if not flow.allowed(account):
        return see_other(f"{services.settings.issuer}{SECURITY}")
    changes = changes_for(request, db, services)
    change = changes.pending(session, flow.kind) or changes.start(
        session, flow.kind, new_totp_secret=factors.new_totp_secret()
    )
    db.commit()
    return _app_page(services, request, flow, account, change=change)


def app_confirm(request: Request, db: Db, services: ServicesDep, form: Form, flow: Flow) -> Response:
    session, account = signed_in(request)
    changes = changes_for(request, db, services)
    change = changes.pending(session, flow.kind)
    if change is None or not change.new_totp_secret or not flow.allowed(account):
        return see_other(f"{services.settings.issuer}{flow.path}")
    entered = (form.get("code") or "").strip()
    problem, step = code_problem(entered), None
    if problem is None:
        step = changes.check_app(change, entered)
        if step is None:
            db.commit()  # keep the count of wrong codes
            problem = WRONG_APP_CODE
    if problem:
        return _app_page(
            services,
            request,
            flow,
            account,
            change=change,
            values={"code": entered},
            errors={"code": problem},
        )
    return _confirmed(request, db, services, session, account, flow, change, step)


def _confirmed(
    request: Request,
    db: Db,
    services: ServicesDep,
    session: BrowserSession,
    account: Account,
    flow: Flow,
    change: AccountChange,
    step: int | None,
) -> Response:
    flow.apply(account, change, step)
    changes_for(request, db, services).done(change)
    tell_owner(db, services, account)
    return finish(request, db, services, session, flow.notice, flow.action, method=flow.method)


def add_phone_routes(router: APIRouter, flow: Flow) -> None:
    """The two pages of a phone number change: the number, then the code sent to it."""

    def page(request: Request, db: Db, services: ServicesDep) -> Response:
        return phone_page(request, db, services, flow)

    def start(request: Request, db: Db, services: ServicesDep, form: Form) -> Response:
        return phone_start(request, db, services, form, flow)

    def code_page(request: Request, db: Db, services: ServicesDep) -> Response:
        return phone_code_page(request, db, services, flow)

    def confirm(request: Request, db: Db, services: ServicesDep, form: Form) -> Response:
        return phone_confirm(request, db, services, form, flow)

    router.add_api_route(flow.path, page, methods=["GET"])
    router.add_api_route(flow.path, start, methods=["POST"])
    router.add_api_route(f"{flow.path}/code", code_page, methods=["GET"])
    router.add_api_route(f"{flow.path}/code", confirm, methods=["POST"])


def add_app_routes(router: APIRouter, flow: Flow) -> None:
    """The page of an authenticator app change: the new app's QR code, confirmed with its code."""

    def page(request: Request, db: Db, services: ServicesDep) -> Response:
        return app_page(request, db, services, flow)

    def confirm(request: Request, db: Db, services: ServicesDep, form: Form) -> Response:
        return app_confirm(request, db, services, form, flow)

    router.add_api_route(flow.path, page, methods=["GET"])
    router.add_api_route(flow.path, confirm, methods=["POST"])
