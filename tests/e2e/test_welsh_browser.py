"""Journeys in Welsh, in headless Chromium (with JavaScript on and off): a service asks for Welsh with
``ui_locales=cy``, the person creates an account and agrees to share, and the choice is remembered
until they switch back with the language toggle. Welsh text is looked up in the same catalogue the
pages use, so the test follows the wording while checking that every step really is in Welsh."""

from __future__ import annotations

import os
import re
import uuid

import httpx
import pyotp
import pytest
from playwright.sync_api import expect

from broker.web.i18n import catalogue
from tests.e2e.agent import Callback
from tests.e2e.browser import CHROMIUM, outbox_code
from tests.e2e.rp import RelyingParty

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"browser tests skipped: no {CHROMIUM}")

PASSWORD = "velvet otter cabbage lantern"


def cy(english: str) -> str:
    welsh = catalogue("cy").gettext(english)
    assert welsh != english, f"no Welsh for {english!r}"
    return welsh


def test_create_an_account_in_welsh_then_switch_to_english(broker, rp: RelyingParty, page):
    email = f"cymraeg-{uuid.uuid4().hex[:8]}@example.org"
    page.goto(rp.authorization_url(ui_locales="cy en"))
    assert page.locator("html").get_attribute("lang") == "cy"
    assert page.get_by_role("heading", level=1).inner_text() == cy("Sign in")
    page.get_by_role("link", name=cy("Create an account")).click()

    # An error in Welsh: the summary, its link to the field, and the page title.
    page.get_by_role("button", name=cy("Continue")).click()
    expect(page.get_by_role("heading", level=2, name=cy("There is a problem"))).to_be_visible()
    assert page.title().startswith(cy("Error:"))
    page.get_by_label(cy("Email address")).fill(email)
    page.get_by_role("button", name=cy("Continue")).click()
    page.get_by_label(cy("Security code")).fill(outbox_code(page, broker.url, email))
    assert "Eich cod diogelwch i greu eich cyfrif" in httpx.get(f"{broker.url}/dev/outbox?to={email}").text
    page.get_by_role("button", name=cy("Continue")).click()
    page.get_by_label(cy("Create your password")).fill(PASSWORD)
    page.get_by_label(cy("Confirm your password")).fill(PASSWORD)
    page.get_by_role("button", name=cy("Continue")).click()
    page.get_by_label(cy("Authenticator app")).check()
    page.get_by_role("button", name=cy("Continue")).click()
    totp = pyotp.TOTP(page.locator("#secret-key").inner_text())
    page.get_by_label(cy("Security code")).fill(totp.at(broker.services.clock()))
    page.get_by_role("button", name=cy("Continue")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(cy("Your account has been created"))
    page.get_by_role("link", name=cy("Continue")).click()
    assert page.locator("html").get_attribute("lang") == "cy"
    page.get_by_role("button", name=cy("Agree and continue")).click()
    page.wait_for_url(re.compile(re.escape(rp.redirect_uri) + r"\?code="))
    assert rp.redeem(Callback(page.url))["id_claims"]["vot"] == "Cl.Cm"

    # Remembered without ui_locales; the toggle switches back to English, and that is remembered too.
    page.goto(f"{broker.url}/account/security")
    assert page.locator("html").get_attribute("lang") == "cy"
    assert page.get_by_role("heading", level=1).inner_text() == cy("Security")
    page.get_by_role("link", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", level=1).inner_text() == "Security"
    page.goto(f"{broker.url}/account/services")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("link", name="Cymraeg").get_attribute("lang") == "cy"
