"""The steps every change on the Security page shares: the code field and its checks, the phone
number and authenticator app pages (the same whether the phone or app is the main way of getting
codes or the backup), and finishing a change.

Every step needs a sign-in with both factors in the last 15 minutes (``PAGES``). What a change does
is ``broker.accounts.security``'s; these pages read the forms and say what happened.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from broker.accounts import factors
from broker.accounts.codes import WRONG_CODE
from broker.accounts.security import Security
from broker.deps import Db, Form, ServicesDep
from broker.store.models import Account, AccountChange
from broker.web.fields import CODE_FIELD, PHONE_FIELD
from broker.web.i18n import N_, _
from broker.web.signin import SENT_AGAIN, set_session_cookie, visit
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


def security_for(request: Request, db: Db, services: ServicesDep) -> Security:
    """The account service for the signed-in person, in this session."""
    session, account = signed_in(request)
    return Security(visit(request, db, services), session, account)


def finish(services: ServicesDep, notice: str, secret: str) -> Response:
    """A change made: the session's new secret, and back to the Security page."""
    response = see_other(f"{services.settings.issuer}{SECURITY}?notice={notice}")
    set_session_cookie(response, services, secret)
    return response


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
        back=SECURITY,
        **kw,
    )


def phone_start(request: Request, db: Db, services: ServicesDep, form: Form, flow: Flow) -> Response:
    _session, account = signed_in(request)
    if not flow.allowed(account):
        return see_other(f"{services.settings.issuer}{SECURITY}")
    raw = (form.get("phone") or "").strip()
    try:
        number = factors.normalise_phone(raw)
    except factors.PhoneInvalid as exc:
        message = N_("Enter your mobile phone number") if not raw else str(exc)
        return _phone_page(services, request, flow, values={"phone": raw}, errors={"phone": message})
    security_for(request, db, services).start_phone_change(flow.kind, number)
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
        links=[(flow.path, _("Use another phone number"))],
        back=flow.path,
        resend=f"{flow.path}/code/resend",
        **kw,
    )


def phone_code_page(request: Request, db: Db, services: ServicesDep, flow: Flow) -> Response:
    change = security_for(request, db, services).pending(flow.kind)
    if change is None:
        return see_other(f"{services.settings.issuer}{flow.path}")
    return _phone_code_page(services, request, flow, change)


def phone_resend(request: Request, db: Db, services: ServicesDep, flow: Flow) -> Response:
    """A new code to the number being confirmed, counted as every send is (refused past the limit)."""
    security = security_for(request, db, services)
    change = security.pending(flow.kind)
    if change is None or not change.new_phone or not flow.allowed(security.account):
        return see_other(f"{services.settings.issuer}{flow.path}")
    security.start_phone_change(flow.kind, change.new_phone)
    fresh = security.pending(flow.kind)
    return _phone_code_page(services, request, flow, fresh or change, sent_again=_(SENT_AGAIN))


def phone_confirm(request: Request, db: Db, services: ServicesDep, form: Form, flow: Flow) -> Response:
    security = security_for(request, db, services)
    change = security.pending(flow.kind)
    if change is None or not change.new_phone or not flow.allowed(security.account):
        return see_other(f"{services.settings.issuer}{flow.path}")
    entered = (form.get("code") or "").strip()
    problem, secret = code_problem(entered), None
    if problem is None:
        secret = security.confirm_phone(change, entered, flow.apply, flow.action, flow.method)
        problem = WRONG_CODE if secret is None else None
    if problem or secret is None:
        return _phone_code_page(
            services, request, flow, change, values={"code": entered}, errors={"code": problem or ""}
        )
    return finish(services, flow.notice, secret)


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
        qr_svg=factors.totp_qr_svg(factors.totp_uri(secret, account.email, services.settings.service_name)),
        secret_text=secret,
        fields=[CODE_FIELD],
        back=SECURITY,
        **kw,
    )


def app_page(request: Request, db: Db, services: ServicesDep, flow: Flow) -> Response:
    """A new secret for this session (kept while the page is reloaded), shown as a QR code and text."""
    security = security_for(request, db, services)
    if not flow.allowed(security.account):
        return see_other(f"{services.settings.issuer}{SECURITY}")
    change = security.app_change(flow.kind, factors.new_totp_secret)
    return _app_page(services, request, flow, security.account, change=change)


def app_confirm(request: Request, db: Db, services: ServicesDep, form: Form, flow: Flow) -> Response:
    security = security_for(request, db, services)
    change = security.pending(flow.kind)
    if change is None or not change.new_totp_secret or not flow.allowed(security.account):
        return see_other(f"{services.settings.issuer}{flow.path}")
    entered = (form.get("code") or "").strip()
    problem, secret = code_problem(entered), None
    if problem is None:
        secret = security.confirm_app(change, entered, flow.apply, flow.action, flow.method)
        problem = WRONG_APP_CODE if secret is None else None
    if problem or secret is None:
        return _app_page(
            services,
            request,
            flow,
            security.account,
            change=change,
            values={"code": entered},
            errors={"code": problem or ""},
        )
    return finish(services, flow.notice, secret)


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

    def resend(request: Request, db: Db, services: ServicesDep) -> Response:
        return phone_resend(request, db, services, flow)

    router.add_api_route(flow.path, page, methods=["GET"])
    router.add_api_route(flow.path, start, methods=["POST"])
    router.add_api_route(f"{flow.path}/code", code_page, methods=["GET"])
    router.add_api_route(f"{flow.path}/code", confirm, methods=["POST"])
    router.add_api_route(f"{flow.path}/code/resend", resend, methods=["POST"])


def add_app_routes(router: APIRouter, flow: Flow) -> None:
    """The page of an authenticator app change: the new app's QR code, confirmed with its code."""

    def page(request: Request, db: Db, services: ServicesDep) -> Response:
        return app_page(request, db, services, flow)

    def confirm(request: Request, db: Db, services: ServicesDep, form: Form) -> Response:
        return app_confirm(request, db, services, form, flow)

    router.add_api_route(flow.path, page, methods=["GET"])
    router.add_api_route(flow.path, confirm, methods=["POST"])
