"""Sign-in pages of an authorization request: email and password, then the second factor."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from broker.accounts import factors
from broker.accounts.codes import WRONG_CODE, Codes, Purpose
from broker.accounts.interactions import BROWSER_COOKIE, InteractionService
from broker.accounts.service import AccountService, normalise_email
from broker.accounts.sessions import SessionService, session_cookie
from broker.accounts.throttle import PasswordGuess, Throttle
from broker.audit.log import record
from broker.deps import Db, Form, HashingTurn, ServicesDep
from broker.oidc.backchannel import queue_logout_notices
from broker.oidc.vtr import VtrInvalid, parse_vtr
from broker.store.models import Account, Interaction
from broker.web.i18n import _
from broker.webkit.pages import render, see_other
from broker.webkit.router import page_router

router = page_router()


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
        return "/account/security"
    return value


def load_interaction(request: Request, db: Db, services: ServicesDep, interaction_id: str) -> Interaction:
    return InteractionService(db).load(interaction_id, request.cookies.get(BROWSER_COOKIE), services.clock())


def start_session(
    request: Request, db: Db, services: ServicesDep, interaction: Interaction, amr: list[str], level: str
) -> tuple[str, str]:
    """A fresh session (ending any other in this browser: no fixation), recorded and committed.
    Returns where the browser goes next and the new session cookie's value."""
    now = services.clock()
    sessions = SessionService(db, services.settings)
    previous = sessions.find(request.cookies.get(session_cookie(services.settings)), now)
    if previous is not None:
        sessions.end(previous.id, now)
        queue_logout_notices(db, previous.id, now)
    assert interaction.account_id is not None
    session, secret = sessions.start(interaction.account_id, amr, level, now)
    interaction.session_id = session.id
    interaction.login_completed_at = now
    record(
        db,
        "sign_in.success",
        now=now,
        actor=interaction.account_id,
        subject=interaction.account_id,
        client_address=client_address(request),
        client_id=interaction.client_id,
        amr=amr,
        level=level,
    )
    db.commit()
    if interaction.client_id is None:  # a sign-in to the broker's own pages
        return services.settings.issuer + local_path(interaction.params.get("return_to", ["/"])[0]), secret
    return f"{services.settings.issuer}/authorize/resume/{interaction.id}", secret


def set_session_cookie(response: Response, services: ServicesDep, secret: str) -> None:
    response.set_cookie(
        session_cookie(services.settings),
        secret,
        httponly=True,
        samesite="lax",
        secure=services.settings.issuer_is_https,
        path="/",
    )


def complete_sign_in(
    request: Request, db: Db, services: ServicesDep, interaction: Interaction, amr: list[str], level: str
) -> Response:
    """Signed in: a new session, and back to the authorization."""
    location, secret = start_session(request, db, services, interaction, amr, level)
    response = see_other(location)
    set_session_cookie(response, services, secret)
    return response


def send_second_factor_code(
    db: Db, services: ServicesDep, request: Request, interaction: Interaction, account: Account
) -> None:
    method = factors.method_of(account)
    if method == "totp":
        return
    codes = Codes(db, services.clock(), client_address(request))
    if method == "sms" and account.phone_number:
        codes.send(interaction, Purpose.SIGN_IN, account.id, "sms", account.phone_number, "sms_code")
    else:
        codes.send(interaction, Purpose.SIGN_IN, account.id, "email", account.email, "sign_in_code")


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
    if not password:
        errors["password"] = _("Enter your password")
    if errors:
        return render(services, request, "sign_in.html", {"email": email, "interaction": interaction}, errors)

    now, address = services.clock(), client_address(request)
    guess = PasswordGuess(Throttle(db), normalise_email(email), address, now)
    try:
        guess.begin()
    finally:
        db.commit()  # counted before the slow check: concurrent guesses each see the others
    accounts = AccountService(db, services.passwords)
    known = accounts.by_email(email)
    db.commit()  # no transaction open through the slow hash (see broker.accounts.service)
    account = known if accounts.password_matches(known, password) else None
    if account is None:
        subject = known.id if known else None
        record(
            db,
            "sign_in.failure",
            now=now,
            actor="anonymous",
            subject=subject,
            client_address=address,
            reason="password",
        )
        for limit in guess.wrong():
            record(
                db, "lockout", now=now, actor="system", subject=subject, client_address=address, limit=limit
            )
        db.commit()
        errors["email"] = _("Enter the email address and password for your account")
        return render(services, request, "sign_in.html", {"email": email, "interaction": interaction}, errors)

    guarded = guess.right()
    interaction.account_id = account.id
    interaction.password_ok_at = now
    if not guarded and not needs_second_factor(interaction):
        return complete_sign_in(request, db, services, interaction, ["pwd"], "Cl")
    send_second_factor_code(db, services, request, interaction, account)
    db.commit()
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
    method = factors.method_of(account)
    if method == "sms" and not account.phone_number:
        method = "email"
    return {
        "interaction": interaction,
        "method": method,
        "phone": factors.mask_phone(account.phone_number or ""),
        "backup": account.backup_method,
    }


@router.get("/sign-in/{interaction_id}/code")
def code_page(interaction_id: str, request: Request, db: Db, services: ServicesDep) -> Response:
    interaction, account = password_checked(request, db, services, interaction_id)
    if account is None:
        return see_other(f"{services.settings.issuer}/sign-in/{interaction.id}")
    return render(services, request, "sign_in_code.html", _code_context(interaction, account))


@router.post("/sign-in/{interaction_id}/code")
def check_code(interaction_id: str, request: Request, db: Db, services: ServicesDep, form: Form) -> Response:
    interaction, account = password_checked(request, db, services, interaction_id)
    if account is None:
        return see_other(f"{services.settings.issuer}/sign-in/{interaction.id}")
    context = _code_context(interaction, account)
    code = (form.get("code") or "").strip()
    if not code:
        return render(services, request, "sign_in_code.html", context, {"code": _("Enter the security code")})
    method = str(context["method"])
    if verify_second_factor(db, services, request, interaction, account, method, code):
        if account.factor_reset_requested_at is not None:  # the owner still has their factor
            account.factor_reset_requested_at = account.factor_reset_available_at = None
            record(
                db,
                "factor_reset.cancelled",
                now=services.clock(),
                actor=account.id,
                subject=account.id,
                client_address=client_address(request),
            )
        return complete_sign_in(request, db, services, interaction, factors.AMR[method], "Cl.Cm")
    db.commit()  # keep the count of wrong codes
    errors = {"code": WRONG_CODE}
    return render(services, request, "sign_in_code.html", context, errors)


def verify_second_factor(
    db: Db,
    services: ServicesDep,
    request: Request,
    interaction: Interaction,
    account: Account,
    method: str,
    code: str,
) -> bool:
    codes = Codes(db, services.clock(), client_address(request))
    if method != "totp":
        return codes.check(interaction, Purpose.SIGN_IN, account.id, code, account.id)

    def app_code_matches() -> bool:
        step = factors.totp_step(account.totp_secret or "", code, services.clock(), account.totp_last_step)
        if step is None:
            return False
        account.totp_last_step = step  # the same code cannot be used again
        return True

    return codes.attempt(account.id, account.id, app_code_matches)
