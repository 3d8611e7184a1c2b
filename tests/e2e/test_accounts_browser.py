"""Account journeys in headless Chromium: create an account, sign in with an authenticator app,
recover a forgotten password. Codes are read from the development outbox page."""

from __future__ import annotations

import os
import re
import uuid
from datetime import timedelta

import pyotp
import pytest
from playwright.sync_api import expect

from tests.e2e.agent import Callback
from tests.e2e.browser import CHROMIUM, outbox_code
from tests.e2e.rp import RelyingParty

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"browser tests skipped: no {CHROMIUM}")

NEW_PASSWORD = "velvet otter cabbage lantern"


def test_create_an_account_with_an_authenticator_app_then_sign_in_again(broker, rp: RelyingParty, page):
    email = f"new-{uuid.uuid4().hex[:8]}@example.org"
    page.goto(rp.authorization_url())
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Email address").fill(email)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Security code").fill(outbox_code(page, broker.url, email))
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Create your password").fill("password1")
    page.get_by_label("Confirm your password").fill("password1")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("link", name=re.compile("harder to guess"))).to_be_visible()
    page.get_by_label("Create your password").fill(NEW_PASSWORD)
    page.get_by_label("Confirm your password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Continue").click()  # nothing chosen
    expect(page.get_by_role("link", name="Select how you want to get security codes")).to_be_visible()
    page.get_by_label("Authenticator app").check()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
    totp = pyotp.TOTP(page.locator("#secret-key").inner_text())
    used = totp.at(broker.services.clock())  # kept: a time step can pass before it is tried again
    page.get_by_label("Security code").fill(used)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account has been created")
    page.get_by_role("link", name="Continue").click()
    page.get_by_role("button", name="Agree and continue").click()
    page.wait_for_url(re.compile(re.escape(rp.redirect_uri) + r"\?code="))
    claims = rp.redeem(Callback(page.url))["id_claims"]
    assert claims["vot"] == "Cl.Cm" and claims["amr"] == ["pwd", "otp", "swk"]

    # Sign in again from scratch with password and the app; the code just used cannot be replayed.
    page.context.clear_cookies()
    page.goto(rp.authorization_url(prompt="login"))
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    assert page.get_by_role("heading", level=1).inner_text() == "Enter the code from your authenticator app"
    page.get_by_label("Security code").fill(used)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("link", name=re.compile("not correct"))).to_be_visible()
    broker.travel(timedelta(seconds=31))  # a later time step than the one used
    try:
        page.get_by_label("Security code").fill(totp.at(broker.services.clock()))
        page.get_by_role("button", name="Continue").click()  # consent is remembered: straight back
        page.wait_for_url(re.compile(re.escape(rp.redirect_uri) + r"\?code="))
    finally:
        broker.offset[0] = timedelta(0)


def test_forgotten_password(broker, rp: RelyingParty, person, page):
    page.goto(rp.authorization_url())
    page.get_by_role("link", name="I have forgotten my password").click()
    page.get_by_label("Email address").fill(person)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Security code").fill(outbox_code(page, broker.url, person))
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Create your password").fill(NEW_PASSWORD)
    page.get_by_label("Confirm your password").fill(NEW_PASSWORD + "x")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("link", name="Enter the same password twice")).to_be_visible()
    page.get_by_label("Create your password").fill(NEW_PASSWORD)
    page.get_by_label("Confirm your password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("body")).to_contain_text("Your password has been changed")
    page.get_by_label("Email address").fill(person)
    page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    assert page.get_by_role("heading", level=1).inner_text() == "Check your email"


def test_lockout_after_wrong_codes_and_unlock_after_the_wait(clock, rp: RelyingParty, person, page):
    broker = clock
    page.goto(rp.authorization_url())
    page.get_by_label("Email address").fill(person)
    page.get_by_label("Password", exact=True).fill("correct horse battery staple")
    page.get_by_role("button", name="Sign in", exact=True).click()
    for _ in range(6):
        page.get_by_label("Security code").fill("000000")
        page.get_by_role("button", name="Continue").click()
    assert page.get_by_role("heading", level=1).inner_text() == "You have tried too many times"
    assert "Try again in 15 minutes" in page.content()
    broker.travel(timedelta(minutes=16))
    page.goto(rp.authorization_url())
    page.get_by_label("Email address").fill(person)
    page.get_by_label("Password", exact=True).fill("correct horse battery staple")
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_label("Security code").fill(outbox_code(page, broker.url, person))
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("button", name="Agree and continue")).to_be_visible()
