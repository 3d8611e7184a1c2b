"""CSRF protection for every page form: a token derived from this browser's secret cookie.

A forged cross-site POST carries the cookie but cannot read it, so it cannot compute the token.
"""

from __future__ import annotations

import hashlib
import hmac

from fastapi import Request

from broker.accounts.interactions import BROWSER_COOKIE
from broker.errors import PageError


class CsrfFailed(PageError):
    title = "Your form could not be sent"


def token_for(browser_secret: str) -> str:
    return hmac.new(browser_secret.encode(), b"csrf", hashlib.sha256).hexdigest()


def csrf_token(request: Request) -> str:
    secret = request.cookies.get(BROWSER_COOKIE)
    return token_for(secret) if secret else ""


async def check_csrf(request: Request) -> None:
    """A router dependency: every POST must carry this browser's token."""
    if request.method != "POST":
        return
    expected = csrf_token(request)
    if request.headers.get("content-type", "").startswith("application/json"):
        sent: object = request.headers.get("x-csrf-token")
    else:
        sent = (await request.form()).get("csrf_token")
    if not expected or not isinstance(sent, str) or not hmac.compare_digest(expected, sent):
        raise CsrfFailed("Go back, reload the page and try again.")
