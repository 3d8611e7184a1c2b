"""Sign-in pages of an authorization request: email and password, then the second factor."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from broker.accounts import factors
from broker.accounts.codes import WRONG_CODE
from broker.accounts.interactions import InteractionService, browser_cookie_value
from broker.accounts.service import EMAIL_LENGTH, fits
from broker.accounts.sessions import session_cookie
from broker.accounts.signin import SignIn, code_method
from broker.accounts.visit import Endings, Visit
from broker.deps import Db, Form, HashingTurn, ServicesDep
from broker.oidc.backchannel import end_everywhere, queue_logout_notices
from broker.oidc.vtr import VtrInvalid, parse_vtr
from broker.store.models import Account, Interaction
from broker.web.i18n import N_, _
from broker.webkit.pages import render, see_other
from broker.webkit.router import page_router

router = page_router()

# Said only once a new code has been sent (a send over the limit is refused before this).
SENT_AGAIN = N_("We have sent you a new code. Any code sent before it no longer works.")


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


def needs_second_factor(interaction: Interaction) -> bool:
    try:
        return parse_vtr((interaction.params.get("vtr") or [None])[0]).auth == "Cl.Cm"
    except VtrInvalid:
        return True


def local_path(value: str | None) -> str:
    """A path on this broker to go back to after signing in; anything else (another host, a scheme,
    ``//evil.example``, backslashes) becomes the account home. Never an open redirect."""
    if (
        not value
        or not value.startswith("/")
        or value.startswith("//")
        or "\\" in value
        or ":" in value.split("?")[0]
    ):
        return "/account"
    return value


def load_interaction(request: Request, db: Db, services: ServicesDep, interaction_id: str) -> Interaction:
    return InteractionService(db).load(
        interaction_id, browser_cookie_value(request, services.settings), services.clock()
    )


def visit(request: Request, db: Db, services: ServicesDep) -> Visit:
    """What the account services are built from, for this request (see ``broker.accounts.visit``)."""
    endings = Endings(
        queue_notices=queue_logout_notices,
        end_everywhere=end_everywhere,
        wake=lambda: request.app.state.backchannel.wake(),
    )
    return Visit(db, services.settings, services.passwords, services.clock, client_address(request), endings)


def session_secret(request: Request, services: ServicesDep) -> str | None:
    return request.cookies.get(session_cookie(services.settings))


def next_location(services: ServicesDep, interaction: Interaction) -> str:
    """Where a completed sign-in goes: back to the authorization, or to the broker's own page."""
    if interaction.client_id is None:  # a sign-in to the broker's own pages
        return services.settings.issuer + local_path(interaction.params.get("return_to", ["/"])[0])
    return f"{services.settings.issuer}/authorize/resume/{interaction.id}"


def set_session_cookie(response: Response, services: ServicesDep, secret: str) -> None:
    response.set_cookie(
        session_cookie(services.settings),
        secret,
        httponly=True,
        samesite="lax",
        secure=services.settings.issuer_is_https,
        path="/",
    )


def signed_in_to(services: ServicesDep, interaction: Interaction, secret: str) -> Response:
    """Signed in: the new session's cookie, and on to where the sign-in was for."""
    response = see_other(next_location(services, interaction))
    set_session_cookie(response, services, secret)
    return response


@router.get("/sign-in/{interaction_id}")
def sign_in_page(interaction_id: str, request: Request, db: Db, services: ServicesDep) -> Response:
    interaction = load_interaction(request, db, services, interaction_id)
    hint = (interaction.params.get("login_hint") or [""])[0]
    notice = request.query_params.get("notice", "")
    return render(
        services, request, "sign_in.html", {"email": hint, "interaction": interaction, "notice": notice}
    )


@router.post("/sign-in/{interaction_id}", dependencies=[HashingTurn])
def sign_in(interaction_id: str, request: Request, db: Db, services: ServicesDep, form: Form) -> Response:
    interaction = load_interaction(request, db, services, interaction_id)
    email = (form.get("email") or "").strip()
    password = form.get("password") or ""
    errors: dict[str, str] = {}
    if not email:
        errors["email"] = _("Enter your email address")
    elif not fits(email, EMAIL_LENGTH) or "\x00" in password:  # no account could have it
        errors["email"] = _("Enter the email address and password for your account")
    if not password:
        errors["password"] = _("Enter your password")
    if errors:
        return render(services, request, "sign_in.html", {"email": email, "interaction": interaction}, errors)

    checked = SignIn(visit(request, db, services)).with_password(
        interaction, email, password, needs_second_factor(interaction), session_secret(request, services)
    )
    if checked.account is None:
        errors["email"] = _("Enter the email address and password for your account")
        return render(services, request, "sign_in.html", {"email": email, "interaction": interaction}, errors)
    if checked.secret is not None:
        return signed_in_to(services, interaction, checked.secret)
    return see_other(f"{services.settings.issuer}/sign-in/{interaction.id}/code")


def password_checked(
    request: Request, db: Db, services: ServicesDep, interaction_id: str
) -> tuple[Interaction, Account | None]:
    """The interaction, and its account once the password has been checked in it (else None)."""
    interaction = load_interaction(request, db, services, interaction_id)
    account = (
        db.get(Account, interaction.account_id)
        if interaction.password_ok_at and interaction.account_id
        else None
    )
    return interaction, account


def _code_context(interaction: Interaction, account: Account) -> dict[str, object]:
    return {
        "interaction": interaction,
        "method": code_method(account),
        "phone": factors.mask_phone(account.phone_number or ""),
        "backup": account.backup_method,
    }


@router.get("/sign-in/{interaction_id}/code")
def code_page(interaction_id: str, request: Request, db: Db, services: ServicesDep) -> Response:
    interaction, account = password_checked(request, db, services, interaction_id)
    if account is None:
        return see_other(f"{services.settings.issuer}/sign-in/{interaction.id}")
    return render(services, request, "sign_in_code.html", _code_context(interaction, account))


@router.post("/sign-in/{interaction_id}/code/resend")
def resend_code(interaction_id: str, request: Request, db: Db, services: ServicesDep) -> Response:
    """"Not received? Send again": a new code by text or email, counted as every send is (refused
    past the limit, and then the page says nothing was sent)."""
    interaction, account = password_checked(request, db, services, interaction_id)
    if account is None:
        return see_other(f"{services.settings.issuer}/sign-in/{interaction.id}")
    if not SignIn(visit(request, db, services)).send_code_again(interaction, account):
        return see_other(f"{services.settings.issuer}/sign-in/{interaction.id}/code")
    context = {**_code_context(interaction, account), "sent_again": _(SENT_AGAIN)}
    return render(services, request, "sign_in_code.html", context)


@router.post("/sign-in/{interaction_id}/code")
def check_code(interaction_id: str, request: Request, db: Db, services: ServicesDep, form: Form) -> Response:
    interaction, account = password_checked(request, db, services, interaction_id)
    if account is None:
        return see_other(f"{services.settings.issuer}/sign-in/{interaction.id}")
    context = _code_context(interaction, account)
    code = (form.get("code") or "").strip()
    if not code:
        return render(services, request, "sign_in_code.html", context, {"code": _("Enter the security code")})
    secret = SignIn(visit(request, db, services)).with_code(
        interaction, account, code, session_secret(request, services)
    )
    if secret is None:
        return render(services, request, "sign_in_code.html", context, {"code": WRONG_CODE})
    return signed_in_to(services, interaction, secret)
