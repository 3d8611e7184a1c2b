"""Finding the way in headless Chromium, with JavaScript on and off: from the home page to signing in,
the account home and each part of the account, "Sign out" in the header of every signed-in page and
"You have signed out" after it, and the service frame (the footer's statements, in English and Welsh).
The new pages are checked with axe-core as well."""

from __future__ import annotations

import os
import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.e2e.agent import PASSWORD
from tests.e2e.browser import CHROMIUM, outbox_code
from tests.e2e.test_accessibility_browser import audited  # noqa: F401

pytestmark = [
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"browser tests skipped: no {CHROMIUM}"),
    pytest.mark.parametrize("broker", ["sqlite"], indirect=True),  # the pages are the same on PostgreSQL
]


def sign_in(page, broker, email: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_label("Security code").fill(outbox_code(page, broker.url, email))
    page.get_by_role("button", name="Continue").click()


def heading(page):  # type: ignore[no-untyped-def]
    return page.get_by_role("heading", level=1)


def test_from_the_home_page_to_the_account_and_out_again(broker, person, page):
    page.goto(f"{broker.url}/")
    expect(heading(page)).to_have_text("Sign in to public services")
    expect(page.get_by_role("link", name="Create an account")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    page.get_by_role("button", name="Sign in").click()  # the start button
    sign_in(page, broker, person)

    expect(heading(page)).to_have_text("Your account")
    expect(page.get_by_text(person)).to_be_visible()
    for name, title in (
        ("Your services", "Your services"),
        ("Your identity", "Your identity"),
        ("Security", "Security"),
        ("Activity history", None),
    ):
        page.get_by_role("main").get_by_role("link", name=name, exact=True).click()
        if title:
            expect(heading(page)).to_have_text(title)
        # Every signed-in page: "Sign out" in the header, and a way back to the account home.
        header = page.get_by_role("banner")
        expect(header.get_by_role("button", name="Sign out")).to_be_visible()
        header.get_by_role("link", name="Your account").click()
        expect(heading(page)).to_have_text("Your account")

    page.get_by_role("link", name="Security", exact=True).click()
    page.get_by_role("banner").get_by_role("button", name="Sign out").click()
    expect(heading(page)).to_have_text("You have signed out")
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)

    page.goto(f"{broker.url}/account/security")  # the session really ended
    expect(page.get_by_label("Email address")).to_be_visible()
    page.goto(f"{broker.url}/signed-out")
    page.get_by_role("link", name="Sign in again").click()
    sign_in(page, broker, person)
    expect(heading(page)).to_have_text("Your account")
    page.get_by_role("main").get_by_role("button", name="Sign out").click()
    expect(heading(page)).to_have_text("You have signed out")


def test_the_home_page_of_someone_signed_in_leads_to_their_account(broker, person, page):
    page.goto(f"{broker.url}/account")
    sign_in(page, broker, person)
    page.goto(f"{broker.url}/")
    expect(page.get_by_text(f"You are signed in as {person}.")).to_be_visible()
    page.get_by_role("button", name="Go to your account").click()
    expect(heading(page)).to_have_text("Your account")


def test_create_an_account_from_the_home_page(broker, page):
    email = f"new-{uuid.uuid4().hex[:8]}@example.org"
    page.goto(f"{broker.url}/")
    page.get_by_role("link", name="Create an account").click()
    expect(heading(page)).to_have_text("Enter your email address")
    page.get_by_label("Email address").fill(email)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_label("Security code")).to_be_visible()


def test_the_footer_statements_exist_in_english_and_welsh(broker, page):
    page.goto(f"{broker.url}/")
    footer = page.get_by_role("contentinfo")
    for link, title in (
        ("Accessibility statement", "Accessibility statement for Sign in to public services"),
        ("Privacy notice", "Privacy notice"),
        ("Cookies", "Cookies"),
    ):
        page.get_by_role("contentinfo").get_by_role("link", name=link).click()
        expect(heading(page)).to_have_text(title)
    expect(footer.get_by_text("Sign in to public services is run by")).to_be_visible()

    page.get_by_role("link", name="Cymraeg").click()
    expect(heading(page)).to_have_text("Cwcis")
    for link, title in (
        ("Datganiad hygyrchedd", "Datganiad hygyrchedd ar gyfer Mewngofnodi i wasanaethau cyhoeddus"),
        ("Hysbysiad preifatrwydd", "Hysbysiad preifatrwydd"),
    ):
        page.get_by_role("contentinfo").get_by_role("link", name=link).click()
        expect(heading(page)).to_have_text(title)
    page.goto(f"{broker.url}/")
    expect(heading(page)).to_have_text("Mewngofnodi i wasanaethau cyhoeddus")
    assert "Sign in to public services" not in page.title()
    assert not re.search(r"Sign in to public services", page.locator("body").inner_text())


def test_the_new_pages_pass_axe(broker, person, audited):  # noqa: F811
    page, audit = audited
    for path in ("/", "/accessibility", "/privacy", "/cookies", "/accessibility?lang=cy", "/signed-out"):
        page.goto(f"{broker.url}{path}")
        audit.check(page, path)
    page.goto(f"{broker.url}/account?lang=en")
    sign_in(page, broker, person)
    expect(heading(page)).to_have_text("Your account")
    audit.check(page, "account home")
    page.goto(f"{broker.url}/sign-out")
    audit.check(page, "sign out")
    page.goto(f"{broker.url}/")
    audit.check(page, "home, signed in")
    audit.assert_clean()
