"""A person's browser, as plain HTTP: follows the broker's redirects, fills in its forms.

Pages are tested in Chromium elsewhere; this drives the protocol fast and without JavaScript.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
from sqlalchemy import select

from broker.accounts.interactions import browser_cookie
from broker.accounts.sessions import session_cookie
from broker.notify.outbox import Outbox
from broker.store.models import OutboxMessage
from broker.webkit.csrf import token_for

if TYPE_CHECKING:
    from tests.e2e.conftest import LiveBroker

PASSWORD = "correct horse battery staple"


@dataclass
class Callback:
    """Where the broker finally sent the browser back to the relying service."""

    url: str

    @property
    def params(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(urlsplit(self.url).query).items()}


def latest_code(broker: LiveBroker, email: str) -> str:
    with broker.db() as db:
        message = db.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.recipient == email)
            .order_by(OutboxMessage.created_at.desc())
        ).first()
        assert message is not None, "no security code was sent"
        return str(message.personalisation["code"])


def created_next(page: str) -> str:
    """Where the "account created" page's Continue goes."""
    found = re.search(r'<a class="govuk-button"[^>]*href="([^"]+)"', page)
    assert found, "no Continue on the page"
    return html.unescape(found.group(1))


class UserAgent:
    def __init__(self, broker: LiveBroker, transport: httpx.BaseTransport | None = None) -> None:
        """``transport``: e.g. one bound to another local address (another machine), shared by many."""
        self.broker = broker
        self.http = httpx.Client(timeout=15, follow_redirects=False, transport=transport)
        self.last_page = ""

    def close(self) -> None:
        self.http.close()

    def go(self, url: str, stop_at: str | None = None) -> str:
        """Follow redirects until leaving the broker (or reaching ``stop_at``); returns the final URL."""
        for _ in range(20):
            if not url.startswith(self.broker.url) or (stop_at and url.startswith(stop_at)):
                return url
            response = self.http.get(url)
            if response.is_redirect:
                url = (
                    str(response.next_request.url)
                    if response.next_request
                    else urljoin(url, response.headers["location"])
                )
                continue
            self.last_page = response.text
            self.last_status = response.status_code
            return url
        raise AssertionError("redirect loop")

    @property
    def csrf(self) -> str:
        """The CSRF token this browser's pages carry in their forms (for its current session)."""
        if not hasattr(self.broker.services, "key_service"):  # a broker in other processes (a cluster)
            found = re.search(r'name="csrf_token" value="([^"]*)"', self.last_page)
            return found.group(1) if found else ""  # the form just shown, as a browser would send it
        settings = self.broker.services.settings
        return token_for(
            self.broker.services.key_service.anti_forgery_key(),
            self.http.cookies.get(browser_cookie(settings)) or "",
            self.http.cookies.get(session_cookie(settings)),
        )

    def post(self, url: str, data: dict[str, Any]) -> httpx.Response:
        """Submit a page form as the browser would, with its CSRF token."""
        return self.http.post(url, data={"csrf_token": self.csrf, **data})

    def submit(self, url: str, data: dict[str, Any]) -> str:
        response = self.post(url, data)
        if response.is_redirect:
            return self.go(urljoin(url, response.headers["location"]))
        self.last_page = response.text
        self.last_status = response.status_code
        return url

    def authorize(
        self, url: str, email: str | None = None, password: str = PASSWORD, agree: bool = True
    ) -> Callback:
        """Open an authorization URL and do whatever the broker asks until it returns to the service."""
        here = self.go(url)
        for _ in range(6):
            path = urlsplit(here).path
            if not here.startswith(self.broker.url):
                return Callback(here)
            if re.fullmatch(r"/sign-in/[^/]+", path):
                assert email, "the broker asked to sign in"
                here = self.submit(here, {"email": email, "password": password})
            elif path.endswith("/code"):
                assert email
                here = self.submit(here, {"code": latest_code(self.broker, email)})
            elif path.startswith("/create-account/") and path.endswith("/created"):
                here = self.go(urljoin(here, created_next(self.last_page)))
            elif path.startswith("/consent/"):
                here = self.submit(here, {"decision": "agree" if agree else "cancel"})
            else:
                raise AssertionError(f"stuck at {here} ({self.last_status}): {self.last_page[:300]}")
        raise AssertionError("too many steps")


__all__ = ["Callback", "Outbox", "UserAgent", "created_next", "latest_code"]
