"""Anti-forgery tokens against someone who can plant cookies (a sibling subdomain, a plain-http network):
the token that goes with a planted browser cookie stops working once the person signs in."""

from __future__ import annotations

import re

import httpx
import pytest

from broker.accounts.interactions import browser_cookie
from tests.e2e.agent import UserAgent, latest_code

SQLITE_ONLY = pytest.mark.parametrize("broker", ["sqlite"], indirect=True)  # storage plays no part
PLANTED = "planted-by-the-attacker-" + "x" * 20
SIGN_OUT_EVERYWHERE = "/account/sign-out-everywhere"


def form_token(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]*)"', page)
    assert found, page[:500]
    return found.group(1)


def token_for_planted_cookie(broker) -> str:
    """What the attacker learns: with the planted cookie in their own browser, a page's form token."""
    with httpx.Client(base_url=broker.url, cookies={browser_cookie(broker.settings): PLANTED}) as attacker:
        sign_in_page = attacker.get("/account/sign-in", follow_redirects=True)
        assert sign_in_page.status_code == 200
        return form_token(sign_in_page.text)


def victim_with_planted_cookie(broker, person: str) -> UserAgent:
    """The person's browser, carrying the planted cookie, signed in with both factors."""
    victim = UserAgent(broker)
    victim.http.cookies.set(browser_cookie(broker.settings), PLANTED)
    here = victim.go(f"{broker.url}/account/security")
    here = victim.submit(here, {"email": person, "password": "correct horse battery staple"})
    assert here.endswith("/code"), victim.last_page[:300]
    here = victim.submit(here, {"code": latest_code(broker, person)})
    assert here == f"{broker.url}/account/security", victim.last_page[:300]
    assert victim.http.cookies.get(browser_cookie(broker.settings)) == PLANTED  # still the planted one
    return victim


@SQLITE_ONLY
def test_a_token_from_a_planted_cookie_is_refused_after_sign_in(broker, person):
    forged_token = token_for_planted_cookie(broker)
    victim = victim_with_planted_cookie(broker, person)

    # The attacker's page makes the victim's browser post, with every cookie and the forged token.
    forged = victim.http.post(f"{broker.url}{SIGN_OUT_EVERYWHERE}", data={"csrf_token": forged_token})
    assert forged.status_code == 400 and "Your form could not be sent" in forged.text
    assert victim.go(f"{broker.url}/account/security") == f"{broker.url}/account/security"  # still signed in

    # The person's own form, as the page gives it, still works.
    page = victim.http.get(f"{broker.url}/account/security").text
    signed_out = victim.http.post(f"{broker.url}{SIGN_OUT_EVERYWHERE}", data={"csrf_token": form_token(page)})
    assert signed_out.status_code == 200 and "signed out" in signed_out.text.lower()
    victim.close()


@SQLITE_ONLY
def test_signing_out_changes_the_token(broker, person):
    victim = victim_with_planted_cookie(broker, person)
    before = form_token(victim.http.get(f"{broker.url}/account/security").text)
    victim.http.post(f"{broker.url}{SIGN_OUT_EVERYWHERE}", data={"csrf_token": before})
    after = form_token(victim.http.get(f"{broker.url}/account/sign-in", follow_redirects=True).text)
    assert after != before and after == token_for_planted_cookie(broker)
    victim.close()
