"""The consent page says on what lawful basis the service uses the information, in plain words, in
English and Welsh, in headless Chromium: it asks for consent only where the agreement rests on consent
(UK GDPR Article 6(1)(a)); under public task it asks the person to agree to share, and the receipt
says public task, not explicit consent."""

from __future__ import annotations

import os
import re
import uuid
from dataclasses import replace

import httpx
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from broker.policy.service import add_version, apply, governing, terms_of
from broker.store.db import transaction
from broker.store.models import Mou
from tests.e2e.agent import PASSWORD, latest_code
from tests.e2e.browser import CHROMIUM
from tests.e2e.rp import RelyingParty
from tests.e2e.test_welsh_browser import cy, plain, sign_in_in_welsh

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"browser tests skipped: no {CHROMIUM}")

PUBLIC_TASK = {
    "lawful_basis": "Public task (UK GDPR Article 6(1)(e)): the Fisheries Act",
    "organisation_cy": "Adran Drwyddedu",
    "purpose_cy": "I roi trwyddedau pysgota i'r person cywir.",
    "lawful_basis_cy": "Tasg gyhoeddus (Erthygl 6(1)(e) GDPR y DU): Deddf Pysgodfeydd",
}
PUBLIC_TASK_WORDS = "The service needs your information to do its official work in the public interest."
NOT_CONSENT = "This does not depend on your consent, but we still ask you before we share information from your account."


def rest_on(broker, client_id: str, **changes: str) -> None:  # type: ignore[no-untyped-def]
    """A new version of the service's agreement with ``changes``, approved by a second person."""
    now = broker.services.clock()
    with transaction(broker.db) as db:
        mou = db.scalar(select(Mou).filter_by(client_id=client_id))
        terms = replace(terms_of(governing(db, client_id, today=now.date())), **changes)
        row = add_version(db, mou, terms, "alice", now)
        apply(db, row, "submit", "alice", now)
        apply(db, row, "approve", "bob", now)


def sign_in(broker, rp: RelyingParty, page) -> str:  # type: ignore[no-untyped-def]
    email = f"basis-{uuid.uuid4().hex[:8]}@example.org"
    broker.create_account(email)
    page.goto(rp.authorization_url())
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_label("Security code").fill(latest_code(broker, email))
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("button", name="Agree and continue")).to_be_visible()
    return email


def test_consent_is_asked_for_only_where_the_agreement_rests_on_it(broker, rp: RelyingParty, page):
    with broker.db() as db:
        consent_basis = terms_of(governing(db, rp.client_id)).lawful_basis  # Article 6(1)(a)
    sign_in(broker, rp, page)
    consent_page = page.url
    main = page.locator("main")
    expect(page.get_by_role("heading", level=1)).to_have_text("Test service wants to use your information")
    expect(main.get_by_text("Test service is asking for your consent.")).to_be_visible()
    expect(main.get_by_text("You can withdraw your consent at any time.", exact=False)).to_be_visible()
    expect(main.get_by_text(consent_basis, exact=True)).to_be_visible()
    assert NOT_CONSENT not in plain(page)

    rest_on(broker, rp.client_id, lawful_basis=PUBLIC_TASK["lawful_basis"])
    page.goto(consent_page)
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text("Share your information with Test service")
    assert page.title().startswith("Share your information with Test service")
    expect(page.get_by_role("heading", level=2, name="Why your information can be used")).to_be_visible()
    expect(main.get_by_text(PUBLIC_TASK_WORDS)).to_be_visible()
    expect(main.get_by_text(NOT_CONSENT)).to_be_visible()
    expect(main.get_by_text(PUBLIC_TASK["lawful_basis"], exact=True)).to_be_visible()
    assert "consent" not in heading.inner_text().lower() and "asking for your consent" not in plain(page)
    page.get_by_role("button", name="Agree and continue").click()
    page.wait_for_url(re.compile(re.escape(rp.redirect_uri) + r"\?code="))

    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    receipt = httpx.get(
        f"{broker.url}/account/services/{rp.client_id}/consent-receipt.json", cookies=cookies
    ).json()
    assert receipt["services"][0]["purposes"][0]["consentType"] == "PUBLIC TASK"
    basis = receipt["consentRecord"]["processing"][0]["legalBasis"]
    assert (basis["article"], basis["isConsent"], basis["description"]) == (
        "Article 6(1)(e)",
        False,
        PUBLIC_TASK["lawful_basis"],
    )


def test_the_lawful_basis_is_said_in_welsh(broker, rp: RelyingParty, page):
    rest_on(broker, rp.client_id, **PUBLIC_TASK)
    sign_in_in_welsh(broker, rp, page)
    main = page.locator("main")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        cy("Share your information with %(service)s") % {"service": "Test service"}
    )
    expect(page.get_by_role("heading", level=2, name=cy("Why your information can be used"))).to_be_visible()
    expect(main.get_by_text(cy(PUBLIC_TASK_WORDS))).to_be_visible()
    expect(main.get_by_text(cy(NOT_CONSENT))).to_be_visible()
    expect(main.get_by_text(cy("The lawful basis, as the agreement gives it:"))).to_be_visible()
    expect(main.get_by_text(PUBLIC_TASK["lawful_basis_cy"], exact=True)).to_be_visible()
    assert main.locator('[lang="en"]').count() == 0  # every word of the agreement is in Welsh
    assert PUBLIC_TASK["lawful_basis"] not in plain(page)


def test_a_lawful_basis_with_no_welsh_stands_apart_marked_as_english(broker, rp: RelyingParty, page):
    rest_on(broker, rp.client_id, lawful_basis=PUBLIC_TASK["lawful_basis"])
    sign_in_in_welsh(broker, rp, page)
    main = page.locator("main")
    # The plain words are the broker's own, so they are in Welsh; the agreement's words stand apart.
    expect(main.get_by_text(cy(PUBLIC_TASK_WORDS))).to_be_visible()
    expect(main.locator('[lang="en"]').filter(has_text=PUBLIC_TASK["lawful_basis"])).to_have_count(1)
    assert not [p for p in main.locator('p:not([lang="en"])').all_inner_texts() if "Fisheries" in p]
