"""Step-up, as an attacker with a password-only session would try it (issue 20, item 1): signed in
with the password alone (a service asked for ``vtr=["Cl"]``), every page that needs the second factor
in this session refuses, by GET and by POST, and changes nothing. Completing the second factor then
upgrades the same session (a new secret, level ``Cl.Cm``) without asking for the password again.

The routes come from ``PAGES``: a new sensitive page is tried here without editing this file.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

import broker.web
from broker.accounts.sessions import session_cookie
from broker.store.models import Account, AuditEvent, BrowserSession
from broker.webkit.access import PAGES, Need, page_routes
from tests.e2e.agent import PASSWORD, UserAgent, latest_code

SENSITIVE = (Need.TWO_FACTORS, Need.RECENT_TWO_FACTORS)
NEW_PASSWORD = "a completely different passphrase 42"
# Whatever any of these forms might read: a sensitive page that ran would have what it needs.
FORM = {
    "current": PASSWORD,
    "password": NEW_PASSWORD,
    "confirm": NEW_PASSWORD,
    "email": "taken-over@example.com",
    "phone": "07700900982",
    "code": "123456",
    "name": "attacker's key",
    "method": "sms",
    "decision": "agree",
}
# Deleting the account asks for "yes" where the password change asks for the new password again.
FORMS = {"/account/delete": {**FORM, "confirm": "yes"}}


def sensitive_routes() -> list[tuple[str, str]]:
    """(method, path template) of every page route whose ``PAGES`` entry needs the second factor."""
    routers = []
    for module in pkgutil.iter_modules(broker.web.__path__):
        loaded = importlib.import_module(f"broker.web.{module.name}")
        if hasattr(loaded, "router"):
            routers.append(loaded.router)
    routes = {
        (method, route.path)
        for route in page_routes(routers)
        for method in route.methods
        if PAGES[route.path].need in SENSITIVE
    }
    return sorted(routes)


def concrete(template: str) -> str:
    return re.sub(r"\{[^}]+\}", "not-a-real-id", template)


def password_only(broker, make_rp, email: str) -> UserAgent:
    ua = UserAgent(broker)
    ua.authorize(make_rp().authorization_url(vtr='["Cl"]'), email=email)
    return ua


def live_sessions(broker, email: str) -> list[BrowserSession]:
    with broker.db() as db:
        account = db.scalars(select(Account).where(Account.email == email)).one()
        return list(
            db.scalars(
                select(BrowserSession).where(
                    BrowserSession.account_id == account.id, BrowserSession.ended_at.is_(None)
                )
            )
        )


def sent_to_sign_in(response) -> bool:
    return response.is_redirect and urlsplit(response.headers["location"]).path == "/account/sign-in"


def test_every_sensitive_route_is_declared_and_tried() -> None:
    declared = {path for path, rule in PAGES.items() if rule.need in SENSITIVE}
    tried = {path for _method, path in sensitive_routes()}
    # Every sensitive page of the citizen pages is here (the rest are staff pages, tested with the console).
    assert tried and tried <= declared
    assert {"/account/delete", "/account/password", "/account/data.json", "/account/identity"} <= tried


def test_a_password_only_session_can_do_nothing_sensitive_until_it_steps_up(broker, make_rp, person):
    ua = password_only(broker, make_rp, person)
    [weak] = live_sessions(broker, person)
    assert weak.level == "Cl"
    old_cookie = ua.http.cookies.get(session_cookie(broker.settings))

    ran = []
    for method, template in sensitive_routes():
        url = f"{broker.url}{concrete(template)}"
        response = ua.http.get(url) if method == "GET" else ua.post(url, FORMS.get(template, FORM))
        refused = sent_to_sign_in(response) or (method != "GET" and response.status_code in (401, 403))
        if not refused:
            ran.append((method, template, response.status_code))
    assert ran == []

    # Nothing changed: the account is there, its password and email are the same, the session lives.
    with broker.db() as db:
        account = db.scalars(select(Account).where(Account.email == person)).one()  # not deleted
        changes = db.scalars(
            select(AuditEvent.action).where(
                AuditEvent.subject == account.id,
                AuditEvent.action.in_(
                    [
                        "password.changed",
                        "email.changed",
                        "factor.changed",
                        "factor.set",
                        "sessions.ended_all",
                    ]
                ),
            )
        ).all()
        assert changes == []
    assert [s.id for s in live_sessions(broker, person)] == [weak.id]
    assert ua.http.get(f"{broker.url}/account/security").status_code == 200
    other = UserAgent(broker)
    assert other.authorize(make_rp().authorization_url(vtr='["Cl"]'), email=person).params["code"]
    other.close()

    # Step-up: straight to the second factor (no password), and back to the page.
    here = ua.go(f"{broker.url}/account/password")
    assert re.fullmatch(r"/sign-in/[^/]+/code", urlsplit(here).path), here
    here = ua.submit(here, {"code": latest_code(broker, person)})
    assert here == f"{broker.url}/account/password" and ua.last_status == 200
    assert "Change your password" in ua.last_page

    # The same session, upgraded, with a new secret: the old cookie no longer works.
    [strong] = [s for s in live_sessions(broker, person) if s.id == weak.id]
    assert strong.level == "Cl.Cm" and strong.secret_hash != weak.secret_hash
    assert ua.http.cookies.get(session_cookie(broker.settings)) != old_cookie
    stale = UserAgent(broker)
    stale.http.cookies.set(session_cookie(broker.settings), old_cookie or "")
    assert stale.http.get(f"{broker.url}/account/security").is_redirect
    stale.close()

    # Now every sensitive page opens (none sends the person to sign in again).
    for method, template in sensitive_routes():
        if method == "GET" and "{" not in template:
            assert not sent_to_sign_in(ua.http.get(f"{broker.url}{template}")), template
    ua.close()


@pytest.mark.parametrize("broker", ["sqlite"], indirect=True)
def test_an_old_password_only_session_gives_its_password_again_for_a_recent_page(clock, make_rp, person):
    broker = clock
    ua = password_only(broker, make_rp, person)
    broker.travel(timedelta(minutes=16))
    here = ua.go(f"{broker.url}/account/password")
    assert re.fullmatch(r"/sign-in/[^/]+", urlsplit(here).path), here  # the password again
    # A page that needs the second factor but not a recent sign-in: the second factor is enough.
    here = ua.go(f"{broker.url}/account/identity")
    assert re.fullmatch(r"/sign-in/[^/]+/code", urlsplit(here).path), here
    ua.close()
