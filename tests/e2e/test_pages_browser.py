"""The sign-in, consent and sign-out pages in a real headless Chromium, found by label and role."""

from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.agent import PASSWORD, latest_code
from tests.e2e.browser import CHROMIUM

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"browser tests skipped: no {CHROMIUM}")


def test_sign_in_consent_and_sign_out_journey(broker, rp, person, page):
    page.goto(rp.authorization_url())
    assert page.title().startswith("Sign in")
    page.get_by_label("Email address").fill(person)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_label("Security code").fill(latest_code(broker, person))
    page.get_by_role("button", name="Continue").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Test service wants to use your information"
    expect(page.get_by_text("your email address")).to_be_visible()
    page.get_by_role("button", name="Agree and continue").click()
    page.wait_for_url(re.compile(re.escape(rp.redirect_uri) + r"\?code="))
    from tests.e2e.agent import Callback

    token = rp.redeem(Callback(page.url))
    assert token["id_claims"]["vot"] == "Cl.Cm"

    page.goto(f"{broker.url}/logout")
    page.get_by_role("button", name="Sign out").click()
    assert page.get_by_role("heading", level=1).inner_text() == "You have signed out"


def test_wrong_password_shows_an_error_summary_linked_to_the_field(broker, rp, person, page):
    page.goto(rp.authorization_url())
    page.get_by_label("Email address").fill(person)
    page.get_by_label("Password", exact=True).fill("not my password")
    page.get_by_role("button", name="Sign in", exact=True).click()
    summary = page.get_by_role("alert")
    assert "There is a problem" in summary.inner_text()
    link = summary.get_by_role("link", name="Enter the email address and password for your account")
    assert link.get_attribute("href") == "#email"
    assert page.get_by_label("Email address").input_value() == person
    # Empty fields get their own messages.
    page.get_by_label("Email address").fill("")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("link", name="Enter your email address")).to_be_visible()
    expect(page.get_by_role("link", name="Enter your password")).to_be_visible()


def test_wrong_security_code_is_explained(broker, rp, person, page):
    page.goto(rp.authorization_url())
    page.get_by_label("Email address").fill(person)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_label("Security code").fill("000000" if latest_code(broker, person) != "000000" else "111111")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("link", name=re.compile("security code is not correct"))).to_be_visible()


def test_unknown_client_gets_an_error_page(broker, page):
    page.goto(
        f"{broker.url}/authorize?response_type=code&client_id=nobody&redirect_uri=https://evil.example/"
    )
    assert page.url.startswith(broker.url)
    assert page.get_by_role("heading", level=1).inner_text() == "The service you came from is not recognised"
