"""Journeys in Welsh, in headless Chromium (with JavaScript on and off): a service asks for Welsh with
``ui_locales=cy``, the person creates an account and agrees to share, and the choice is remembered
until they switch back with the language toggle. Welsh text is looked up in the same catalogue the
pages use, so the test follows the wording while checking that every step really is in Welsh."""

from __future__ import annotations

import os
import re
import uuid
from dataclasses import replace

import httpx
import pyotp
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from broker.errors import NOT_FOUND_ADVICE, UntrustedRedirectUri
from broker.policy.service import add_version, apply, governing, terms_of
from broker.store.db import transaction
from broker.store.models import Mou
from broker.web.i18n import catalogue
from tests.e2e.agent import Callback
from tests.e2e.browser import CHROMIUM, outbox_code
from tests.e2e.rp import RelyingParty
from tests.web.test_plain_words import FORBIDDEN

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


WELSH = {
    "organisation_cy": "Adran Drwyddedu",
    "purpose_cy": "I roi trwyddedau pysgota i'r person cywir.",
    "lawful_basis_cy": "Tasg gyhoeddus: Deddf Pysgodfeydd",
}


def plain(page) -> str:  # type: ignore[no-untyped-def]
    """The page's main text, checked for jargon (tests/web/test_plain_words.py)."""
    text = page.locator("main").inner_text()
    assert not FORBIDDEN.findall(text), FORBIDDEN.findall(text)
    return text


def sign_in_in_welsh(broker, rp: RelyingParty, page) -> None:  # type: ignore[no-untyped-def]
    email = f"cytundeb-{uuid.uuid4().hex[:8]}@example.org"
    broker.create_account(email)
    page.goto(rp.authorization_url(ui_locales="cy"))
    page.get_by_label(cy("Email address")).fill(email)
    page.get_by_label(cy("Password"), exact=True).fill("correct horse battery staple")
    page.get_by_role("button", name=cy("Sign in"), exact=True).click()
    page.get_by_label(cy("Security code")).fill(outbox_code(page, broker.url, email))
    page.get_by_role("button", name=cy("Continue")).click()
    expect(page.get_by_role("button", name=cy("Agree and continue"))).to_be_visible()


def give_the_agreement_welsh(broker, client_id: str) -> None:  # type: ignore[no-untyped-def]
    """Version 2 of the service's agreement, with its Welsh words, approved by a second person."""
    now = broker.services.clock()
    with transaction(broker.db) as db:
        mou = db.scalar(select(Mou).filter_by(client_id=client_id))
        terms = replace(terms_of(governing(db, client_id, today=now.date())), **WELSH)
        row = add_version(db, mou, terms, "alice", now)
        apply(db, row, "submit", "alice", now)
        apply(db, row, "approve", "bob", now)


def test_an_agreement_is_shown_in_welsh_and_without_its_welsh_never_inside_a_welsh_sentence(
    broker, rp: RelyingParty, page
):
    """Decided: an organisation's name with no Welsh is left out of the Welsh sentence (a whole
    Welsh sentence names the service instead); a purpose or lawful basis with no Welsh is shown
    apart, after a Welsh sentence saying it is only in English, in a block marked lang="en"."""
    with broker.db() as db:
        terms = terms_of(governing(db, rp.client_id))
        purpose = terms.purpose
    sign_in_in_welsh(broker, rp, page)
    consent = page.url
    main = page.locator("main")
    fallback = cy("The organisation responsible for %(service)s will use your information for this purpose:")
    expect(main.get_by_text(fallback % {"service": "Test service"})).to_be_visible()
    expect(main.get_by_text(cy("This is only available in English:"))).to_have_count(2)  # each apart:
    expect(main.locator('[lang="en"]')).to_have_text([purpose, terms.lawful_basis])  # purpose, basis
    assert not [words for words in main.locator('p:not([lang="en"])').all_inner_texts() if purpose in words]
    plain(page)

    page.goto(f"{broker.url}/services/{rp.client_id}/agreement")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        cy("How %(service)s uses your information") % {"service": "Test service"}
    )
    assert main.locator('[lang="en"]').count() == 3  # organisation, purpose and lawful basis, apart
    assert plain(page).count(cy("This is only available in English:")) == 3

    give_the_agreement_welsh(broker, rp.client_id)
    page.goto(consent)
    welsh_sentence = cy("%(organisation)s will use your information for this purpose:")
    expect(main.get_by_text(welsh_sentence % {"organisation": WELSH["organisation_cy"]})).to_be_visible()
    expect(main.locator(".govuk-inset-text")).to_have_text(WELSH["purpose_cy"])
    assert main.locator('[lang="en"]').count() == 0 and purpose not in plain(page)
    page.get_by_role("button", name=cy("Agree and continue")).click()
    page.wait_for_url(re.compile(re.escape(rp.redirect_uri) + r"\?code="))

    page.goto(f"{broker.url}/account/services")
    expect(page.get_by_role("heading", level=1)).to_have_text(cy("Your services"))
    expect(page.get_by_role("definition").filter(has_text=WELSH["purpose_cy"])).to_be_visible()
    assert main.locator('[lang="en"]').count() == 0 and purpose not in plain(page)
    page.get_by_role("link", name=re.compile(cy("Read the data sharing agreement"))).click()
    expect(page.get_by_role("term").filter(has_text=cy("Data sharing agreement"))).to_be_visible()
    text = plain(page)
    assert all(words in text for words in WELSH.values())
    assert main.locator('[lang="en"]').count() == 0 and purpose not in text


def test_error_pages_are_in_welsh_and_never_show_the_librarys_words(broker, rp: RelyingParty, page):
    page.goto(f"{broker.url}/no-such-page?lang=cy")
    expect(page.get_by_role("heading", level=1)).to_have_text(cy("Page not found"))
    expect(page.locator("main")).to_contain_text(cy(NOT_FOUND_ADVICE))

    url = httpx.URL(rp.authorization_url(ui_locales="cy"))
    page.goto(str(url.copy_set_param("redirect_uri", "https://evil.example/callback")))
    expect(page.get_by_role("heading", level=1)).to_have_text(cy(UntrustedRedirectUri.title))
    text = plain(page)
    assert cy(UntrustedRedirectUri.advice) in text
    assert "redirect" not in text.lower() and "evil.example" not in text and "client" not in text.lower()


def english_phrases() -> list[str]:
    """Every phrase of three words or more that the pages say in English and have Welsh for: found on
    a Welsh page, it is English that should have been Welsh (names, addresses and codes are not in it)."""
    from tests.broker.test_welsh import source_messages

    welsh = catalogue("cy")
    phrases: set[str] = set()
    for english in source_messages():
        if welsh.gettext(english) == english:
            continue
        for part in re.split(r"%\(\w+\)s|<[^>]*>|\n", english):
            part = part.strip(" .,:;?!()\"'–-")
            if len(part.split()) >= 3:
                phrases.add(part)
    return sorted(phrases)


def no_english(page, phrases: list[str]) -> None:  # type: ignore[no-untyped-def]
    """A Welsh page: lang="cy", no English phrase anywhere in it, jargon-free, and a way on from it."""
    assert page.locator("html").get_attribute("lang") == "cy", page.url
    text = page.locator("body").inner_text()
    assert not [phrase for phrase in phrases if phrase in text], (page.url, text[:2000])
    assert not FORBIDDEN.findall(text), page.url
    main, menu = page.get_by_role("main"), page.get_by_role("navigation", name=cy("Account menu"))
    ways_on = main.get_by_role("link").count() + main.get_by_role("button").count() + menu.count()
    assert ways_on > 0, page.url  # on a signed-in page, the header's "Your account" is one


def test_a_walk_through_the_welsh_pages_finds_no_english(broker, page):
    """Signed out and signed in, each page a person reaches from the home page, in Welsh: nothing in
    English but names, every page with a way on, and the question pages with a way back."""
    phrases = english_phrases()
    assert "Enter the security code" in phrases  # the check really knows the pages' English
    email = f"taith-{uuid.uuid4().hex[:8]}@example.org"
    broker.create_account(email)

    page.goto(f"{broker.url}/?lang=cy")
    no_english(page, phrases)
    for path in ("/accessibility", "/privacy", "/cookies", "/create-account", "/no-such-page"):
        page.goto(f"{broker.url}{path}")
        no_english(page, phrases)
    page.goto(f"{broker.url}/account")
    no_english(page, phrases)
    page.get_by_label(cy("Email address")).fill(email)
    page.get_by_label(cy("Password"), exact=True).fill("correct horse battery staple")
    page.get_by_role("button", name=cy("Sign in"), exact=True).click()
    expect(page.get_by_label(cy("Security code"))).to_be_visible()
    no_english(page, phrases)
    expect(page.locator(".govuk-back-link")).to_have_text(cy("Back"))
    page.get_by_label(cy("Security code")).fill(outbox_code(page, broker.url, email))
    page.get_by_role("button", name=cy("Continue")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(cy("Your account"))

    for path in (
        "/account",
        "/account/services",
        "/account/identity",
        "/account/activity",
        "/account/security",
        "/account/security/email",
        "/account/security/codes",
        "/account/security/backup",
        "/account/password",
        "/identity/prove",
    ):
        page.goto(f"{broker.url}{path}")
        no_english(page, phrases)
        if path.startswith("/account/security/") or path == "/account/password":  # a question: a way back too, before the page's main
            expect(page.locator(".govuk-back-link")).to_have_text(cy("Back"))

    # A question answered wrongly, and a code sent and sent again: still all Welsh.
    page.goto(f"{broker.url}/account/security/codes")
    page.get_by_role("button", name=cy("Continue")).click()
    expect(page.get_by_role("heading", level=2, name=cy("There is a problem"))).to_be_visible()
    no_english(page, phrases)
    page.goto(f"{broker.url}/account/security/email")
    page.get_by_label(cy("New email address")).fill(f"newydd-{uuid.uuid4().hex[:8]}@example.org")
    page.get_by_role("button", name=cy("Continue")).click()
    expect(page.get_by_label(cy("Security code"))).to_be_visible()
    no_english(page, phrases)
    page.get_by_role("button", name=cy("Send again")).click()
    expect(page.get_by_text(cy("We have sent you a new code. Any code sent before it no longer works."))).to_be_visible()
    no_english(page, phrases)

    page.get_by_role("banner").get_by_role("button", name=cy("Sign out")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(cy("You have signed out"))
    no_english(page, phrases)
