"""How strong a session each page needs: declared once, in ``PAGES``, and checked before the page runs.

Every route of a page router is in ``PAGES`` (``broker.app`` refuses to start otherwise, and
``tests/webkit/test_access.py`` lists them all). :func:`check_session`, a dependency of every page
router, reads the route's entry and lets the page run only with a session that strong; the page then
asks :func:`signed_in` for the session it was given. A page never decides this itself.

A session that is too weak is sent to sign in and comes back (step-up): signed in with a password alone
(a service may ask for ``Cl``), the person completes their second factor and returns to the page.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from broker.accounts.sessions import SessionService, session_cookie
from broker.accounts.staff import ROLES
from broker.deps import Db, ServicesDep
from broker.errors import PageError, SignInFirst
from broker.language import N_, _
from broker.store.models import Account, BrowserSession


class Need(StrEnum):
    ANYONE = "anyone"
    SIGNED_IN = "signed in"
    TWO_FACTORS = "two factors in this session"
    RECENT_TWO_FACTORS = "two factors, signed in within the last 15 minutes"
    STAFF = "a staff role, signed in with a passkey"


@dataclass(frozen=True)
class Rule:
    need: Need
    # Where a form post sends the person back to after signing in again (a page they can GET).
    back_to: str | None = None


RECENT_SIGN_IN = timedelta(minutes=15)
SECURITY = "/account/security"
ANYONE, SIGNED_IN = Rule(Need.ANYONE), Rule(Need.SIGNED_IN)
TWO_FACTORS, STAFF = Rule(Need.TWO_FACTORS), Rule(Need.STAFF)
RECENT = Rule(Need.RECENT_TWO_FACTORS)
SECURITY_CHANGE = Rule(Need.RECENT_TWO_FACTORS, back_to=SECURITY)

# Every page route, by its path (all its methods), and the session it needs.
PAGES: dict[str, Rule] = {
    # Journeys bound to an authorization request (the interaction checks the browser), and public pages.
    **dict.fromkeys(
        [
            "/sign-in/{interaction_id}",
            "/sign-in/{interaction_id}/code",
            "/sign-in/{interaction_id}/code/resend",
            "/sign-in/{interaction_id}/backup",
            "/sign-in/{interaction_id}/backup/code",
            "/sign-in/{interaction_id}/lost-factor",
            "/sign-in/{interaction_id}/lost-factor/code",
            "/sign-in/{interaction_id}/passkey",
            "/sign-in/{interaction_id}/passkey/options",
            "/create-account/{interaction_id}",
            "/create-account/{interaction_id}/code",
            "/create-account/{interaction_id}/code/resend",
            "/create-account/{interaction_id}/password",
            "/create-account/{interaction_id}/second-factor",
            "/create-account/{interaction_id}/authenticator",
            "/create-account/{interaction_id}/phone",
            "/create-account/{interaction_id}/phone/code",
            "/create-account/{interaction_id}/phone/code/resend",
            "/create-account/{interaction_id}/passkey",
            "/create-account/{interaction_id}/created",
            "/create-account/{interaction_id}/passkey/options",
            "/reset-password/{interaction_id}",
            "/reset-password/{interaction_id}/code",
            "/reset-password/{interaction_id}/code/resend",
            "/reset-password/{interaction_id}/password",
            "/consent/{interaction_id}",
            "/account/sign-in",
            "/",
            "/create-account",
            "/sign-out",
            "/signed-out",
            "/accessibility",
            "/privacy",
            "/cookies",
            "/services/{client_id}/agreement",
            "/agreements",
            "/agreements.json",
            "/dev/outbox",
        ],
        ANYONE,
    ),
    # Reading your own account, and choices that share nothing new.
    **dict.fromkeys(
        [
            "/account",
            "/account/security",
            "/account/services",
            "/account/services/{client_id}/consent-receipt.json",
            "/account/services/{client_id}/withdraw",
            "/account/activity",
            "/account/activity/report",
            "/account/vouches",
            "/account/vouches/{vouch_id}/withdraw",
        ],
        SIGNED_IN,
    ),
    # Your identity, your data, and ending every session: the second factor in this session.
    **dict.fromkeys(
        [
            "/account/identity",
            "/account/data.json",
            "/account/sharing-history",
            "/account/sharing-history.json",
            "/account/sign-out-everywhere",
            "/identity/prove",
            "/identity/prove/{interaction_id}",
            "/identity/passport",
            "/identity/driving-licence",
            "/identity/address",
            "/identity/questions",
            "/identity/result",
            "/identity/could-not-check",
            "/identity/no-photo-id",
            "/identity/vouching",
            "/identity/vouching/start",
            "/identity/vouching/start/{interaction_id}",
            "/identity/vouching/invite",
            "/identity/vouching/cancel",
            "/identity/vouching/{vouch_id}/withdraw",
            "/vouch/{token}",
        ],
        TWO_FACTORS,
    ),
    # Changing how the person signs in: two factors, and a sign-in in the last 15 minutes.
    "/account/password": RECENT,
    "/account/delete": RECENT,
    **dict.fromkeys(
        [
            "/account/passkeys",
            "/account/passkeys/options",
            "/account/passkeys/{credential_id}/rename",
            "/account/passkeys/{credential_id}/remove",
            "/account/security/email",
            "/account/security/email/code",
            "/account/security/email/code/resend",
            "/account/security/phone",
            "/account/security/phone/code",
            "/account/security/phone/code/resend",
            "/account/security/authenticator",
            "/account/security/codes",
            "/account/security/codes/phone",
            "/account/security/codes/phone/code",
            "/account/security/codes/phone/code/resend",
            "/account/security/codes/authenticator",
            "/account/security/backup",
            "/account/security/backup/remove",
            "/account/security/backup/phone",
            "/account/security/backup/phone/code",
            "/account/security/backup/phone/code/resend",
            "/account/security/backup/authenticator",
        ],
        SECURITY_CHANGE,
    ),
    # The staff console, and the page for staff signed in without their passkey.
    "/admin/passkey": SIGNED_IN,
    **dict.fromkeys(
        [
            "/admin",
            "/admin/mous",
            "/admin/mous/{reference}",
            "/admin/mous/{reference}/dry-run",
            "/admin/mous/{reference}/new",
            "/admin/mous/{reference}/versions/{number}/{action}",
            "/admin/releases",
            "/admin/services",
            "/admin/services/new",
            "/admin/services/{client_id}",
            "/admin/staff",
            "/admin/staff/{change}",
            "/admin/evaluate",
            "/admin/vouches",
            "/admin/vouches/{vouch_id}",
        ],
        STAFF,
    ),
}

PASSKEY = "hwk"  # RFC 8176: the session was proven with a key held in hardware
PASSKEY_PAGE = "/admin/passkey"


class SignInNeeded(PageError):
    status = 401
    code = "login_required"
    title = N_("You need to sign in")


class NotStaff(PageError):
    status = 403
    code = "forbidden"
    title = "You cannot use the admin pages"


class PasskeyNeeded(PageError):
    status = 403
    code = "passkey_required"
    title = "Sign in with your passkey"


class UndeclaredPage(RuntimeError):
    """A page route with no entry in ``PAGES``: refused at start-up."""


def rule_for(path: str) -> Rule:
    try:
        return PAGES[path]
    except KeyError:
        raise UndeclaredPage(f"{path}: declare the session it needs in broker.webkit.access.PAGES") from None


def page_routes(routers: Iterable[APIRouter]) -> list[APIRoute]:
    """The routes of ``routers`` that run :func:`check_session` (those of every ``page_router``)."""
    return [
        route
        for router in routers
        for route in router.routes
        if isinstance(route, APIRoute) and any(d.dependency is check_session for d in route.dependencies)
    ]


def undeclared_pages(routers: Iterable[APIRouter]) -> list[str]:
    """The page routes that have no entry in ``PAGES``."""
    return sorted({route.path for route in page_routes(routers) if route.path not in PAGES})


def shortfall(need: Need, session: BrowserSession, account: Account, since_recent: timedelta) -> str | None:
    """What ``session`` lacks for ``need`` (pure): None when it is enough."""
    if need in (Need.TWO_FACTORS, Need.RECENT_TWO_FACTORS) and "Cm" not in session.level.split("."):
        return "second factor"
    if need is Need.RECENT_TWO_FACTORS and since_recent > RECENT_SIGN_IN:
        return "recent sign-in"
    if need is Need.STAFF:
        if not set(account.roles or []) & set(ROLES):
            return "staff role"
        if PASSKEY not in (session.amr or []):
            return "passkey"
    return None


def sign_in_again(path: str) -> str:
    return "/account/sign-in?" + urlencode({"next": path})


async def check_session(request: Request, db: Db, services: ServicesDep) -> None:
    """A dependency of every page router: the session this route needs (``PAGES``), or a way to it."""
    rule = rule_for(request.scope["route"].path)
    if rule.need is not Need.ANYONE:
        # It reads the database: in the threadpool, as the page itself runs.
        await run_in_threadpool(_check_session, rule, request, db, services)


def _check_session(rule: Rule, request: Request, db: Db, services: ServicesDep) -> None:
    now = services.clock()
    session = SessionService(db, services.settings).find(request.cookies.get(session_cookie(services.settings)), now)
    account = db.get(Account, session.account_id) if session else None
    back_to = rule.back_to if request.method != "GET" and rule.back_to else request.url.path
    if session is None or account is None:
        if request.method == "GET":
            raise SignInFirst(sign_in_again(request.url.path))
        raise SignInNeeded(_("Sign in, then come back to this page."))
    missing = shortfall(rule.need, session, account, now - session.auth_time)
    if missing == "staff role":
        raise NotStaff("This page needs a staff role. Ask an administrator if you need it.")
    if missing == "passkey" and request.method == "GET":
        # A page that says why, and the way on: sign out, then sign in with the passkey.
        raise SignInFirst(PASSKEY_PAGE + "?" + urlencode({"next": request.url.path}))
    if missing == "passkey":
        raise PasskeyNeeded(
            "The admin pages need a sign-in with a passkey. Sign out, then sign in with your passkey."
        )
    if missing is not None:
        raise SignInFirst(sign_in_again(back_to))
    request.state.signed_in = (session, account)


def signed_in(request: Request) -> tuple[BrowserSession, Account]:
    """The session and account :func:`check_session` let this page run with."""
    found: tuple[BrowserSession, Account] | None = getattr(request.state, "signed_in", None)
    if found is None:
        raise UndeclaredPage(f"{request.url.path}: PAGES does not say this page needs a session")
    return found


def staff(request: Request, *allowed: str) -> Account:
    """The signed-in administrator holding one of ``allowed`` roles (any staff role when none given)."""
    _session, account = signed_in(request)
    held = set(account.roles or []) & set(ROLES)
    if allowed and not held & set(allowed):
        raise NotStaff(f"This page needs {', '.join(allowed)}. Ask an administrator if you need it.")
    return account
