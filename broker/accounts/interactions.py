"""Authorization requests waiting on the person, bound to the browser that started them."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from broker.accounts.sessions import cookie_name
from broker.config import Settings
from broker.errors import InteractionExpired
from broker.language import N_
from broker.store.models import Interaction

INTERACTION_TTL = timedelta(minutes=30)
CODE_TTL = timedelta(minutes=15)


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def new_browser_secret() -> str:
    return secrets.token_urlsafe(32)


def browser_cookie(settings: Settings) -> str:
    """The browser cookie's name: ``__Host-`` under https, so that no other host (a sibling subdomain)
    and no plain-http page can set it for the broker before the person arrives."""
    return cookie_name(settings, "broker-browser")


def browser_cookie_value(request: Request, settings: Settings) -> str | None:
    return request.cookies.get(browser_cookie(settings))


def browser_secret(request: Request, settings: Settings) -> tuple[str, bool]:
    """This browser's binding secret, and whether it is new (so must be set as a cookie)."""
    existing = browser_cookie_value(request, settings)
    return (existing, False) if existing else (new_browser_secret(), True)


def set_browser_cookie(response: Response, settings: Settings, secret: str) -> None:
    response.set_cookie(
        browser_cookie(settings),
        secret,
        httponly=True,
        samesite="lax",
        secure=settings.issuer_is_https,
        max_age=400 * 86400,
        path="/",
    )


class InteractionService:
    def __init__(self, db: Session) -> None:
        self.db = db

    def start(
        self, client_id: str | None, params: dict[str, list[str]], browser_secret: str, now: datetime
    ) -> Interaction:
        row = Interaction(
            id=secrets.token_urlsafe(24),
            browser_binding_hash=_hash(browser_secret),
            client_id=client_id,
            params=params,
            created_at=now,
            expires_at=now + INTERACTION_TTL,
        )
        self.db.add(row)
        self.db.flush()
        return row

    def load(self, interaction_id: str, browser_secret: str | None, now: datetime) -> Interaction:
        """The live interaction, only for the browser that started it."""
        row = self.db.get(Interaction, interaction_id) if len(interaction_id) < 64 else None
        if (
            row is None
            or browser_secret is None
            or not hmac.compare_digest(row.browser_binding_hash, _hash(browser_secret))
            or row.completed_at is not None
        ):
            raise InteractionExpired(N_("Go back to the service you were using and start again."))
        if row.expires_at <= now:
            raise InteractionExpired(N_("Go back to the service you were using and start again."))
        return row

    def issue_code(self, row: Interaction, now: datetime, binding: str) -> str:
        """A new code in the interaction's one code slot, bound to ``binding`` (what it is for and
        whom it was sent to): it passes only a check for the same binding, so a code sent for one
        step or person never passes for another that shares the slot."""
        code = f"{secrets.randbelow(10**6):06d}"
        row.otp_hash = _hash(f"{binding}\x00{code}")
        row.otp_expires_at = now + CODE_TTL
        row.otp_attempts = 0
        return code

    def check_code(self, row: Interaction, code: str, now: datetime, binding: str) -> bool:
        """Whether the code matches, was issued for ``binding`` and is unexpired (throttling is the
        caller's: see accounts.codes)."""
        if row.otp_hash is None or row.otp_expires_at is None or row.otp_expires_at <= now:
            return False
        row.otp_attempts += 1
        entered = code.strip().replace(" ", "")
        return hmac.compare_digest(row.otp_hash, _hash(f"{binding}\x00{entered}"))
