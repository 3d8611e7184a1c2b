"""CSRF protection for every page form: a token bound to this browser and to its signed-in session.

A forged cross-site POST carries the cookies but cannot read them, so it cannot compute the token. The
token is a MAC, under a key only the broker holds (``KeyService.anti_forgery_key``), of the browser
cookie and the session cookie together. Someone able to plant a browser cookie (a sibling subdomain, a
plain-http network) can learn the token that goes with it before sign-in, but signing in sets a session
cookie they never see, and from then on every form needs a token they cannot get. Signing out changes
the token again.
"""

from __future__ import annotations

import hashlib
import hmac

from fastapi import Request

from broker.accounts.interactions import browser_cookie_value
from broker.accounts.sessions import session_cookie
from broker.deps import Services
from broker.errors import PageError
from broker.language import N_


class CsrfFailed(PageError):
    title = N_("Your form could not be sent")


def token_for(key: bytes, browser_secret: str, session_secret: str | None) -> str:
    # The browser secret's length first, so no two pairs of cookies give the same message.
    message = f"{len(browser_secret)}:{browser_secret}:{session_secret or ''}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def csrf_token(request: Request, browser_secret: str | None = None) -> str:
    """The token this request's forms carry; ``browser_secret`` for a browser cookie being set by this
    very response."""
    services: Services = request.app.state.services
    settings = services.settings
    browser = browser_secret or browser_cookie_value(request, settings)
    if not browser:
        return ""
    return token_for(
        services.key_service.anti_forgery_key(), browser, request.cookies.get(session_cookie(settings))
    )


async def check_csrf(request: Request) -> None:
    """A router dependency: every POST must carry this browser's token, for its current session."""
    if request.method != "POST":
        return
    expected = csrf_token(request)
    if request.headers.get("content-type", "").startswith("application/json"):
        sent: object = request.headers.get("x-csrf-token")
    else:
        sent = (await request.form()).get("csrf_token")
    if not expected or not isinstance(sent, str) or not hmac.compare_digest(expected, sent):
        raise CsrfFailed("Go back, reload the page and try again.")
