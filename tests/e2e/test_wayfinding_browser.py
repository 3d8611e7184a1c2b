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


def back_link_before_main(page) -> None:  # type: ignore[no-untyped-def]
    """The GOV.UK back link: one, outside <main> and before it (where GOV.UK places it)."""
    expect(page.locator(".govuk-back-link")).to_have_count(1)
    expect(page.get_by_role("main").locator(".govuk-back-link")).to_have_count(0)
    before = page.evaluate(
        "() => !!(document.querySelector('.govuk-back-link').compareDocumentPosition("
        "document.querySelector('main')) & Node.DOCUMENT_POSITION_FOLLOWING)"
    )
    assert before, page.url


def test_back_links_come_before_the_main_content(broker, person, page):
    page.goto(f"{broker.url}/create-account")
    page.get_by_label("Enter your email address").fill(f"back-{uuid.uuid4().hex[:8]}@example.org")
    page.get_by_role("button", name="Continue").click()
    expect(heading(page)).to_have_text("Check your email")
    back_link_before_main(page)
    page.get_by_role("button", name="Continue").click()  # an error: the summary comes after the back link
    expect(page.get_by_role("heading", level=2, name="There is a problem")).to_be_visible()
    back_link_before_main(page)

    page.goto(f"{broker.url}/account/security")
    sign_in(page, broker, person)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.goto(f"{broker.url}/account/security/email")
    back_link_before_main(page)
    page.locator(".govuk-back-link").click()
    expect(heading(page)).to_have_text("Security")


def test_codes_by_email_are_changed_from_the_security_page(broker, person, page):
    """The 'Security codes: Email' row has its Change link, to text messages or an app; a new email
    address's code comes with 'Not received? Send again'."""
    page.goto(f"{broker.url}/account/security")
    sign_in(page, broker, person)
    row = page.locator(".govuk-summary-list__row").filter(has_text="Security codes")
    expect(row).to_contain_text("Email")
    row.get_by_role("link", name="Change how you get security codes").click()
    expect(page.get_by_role("group", name="How do you want to get security codes?")).to_be_visible()
    back_link_before_main(page)
    page.get_by_label("Text message").check()
    page.get_by_role("button", name="Continue").click()
    mobile = f"079111{uuid.uuid4().int % 10**5:05d}"
    page.get_by_label("UK mobile phone number").fill(mobile)
    page.get_by_role("button", name="Continue").click()
    expect(heading(page)).to_have_text("Check your phone")
    page.get_by_role("button", name="Send again").click()
    expect(page.get_by_text("We have sent you a new code")).to_be_visible()
    page.get_by_label("Security code").fill(outbox_code(page, broker.url, "+44" + mobile[1:]))
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("You will now get security codes by text message")).to_be_visible()
    row = page.locator(".govuk-summary-list__row").filter(has_text="Security codes")
    expect(row).to_contain_text("Text message to your phone number ending")

    page.get_by_role("link", name="Change email address").click()
    page.get_by_label("New email address").fill(f"moved-{uuid.uuid4().hex[:8]}@example.org")
    page.get_by_role("button", name="Continue").click()
    expect(heading(page)).to_have_text("Check your email")
    expect(page.get_by_text("Not received?")).to_be_visible()
    page.get_by_role("button", name="Send again").click()
    expect(page.get_by_text("We have sent you a new code")).to_be_visible()
    back_link_before_main(page)
