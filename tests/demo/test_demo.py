"""`broker demo` end to end, as a real process: a newcomer signs in at the demo service in Chromium
and sees their claims, proves the demo identity, and signs out."""

from __future__ import annotations

import json
import os

import pytest
from playwright.sync_api import expect

from broker.demo.identity import DEMO_PASSPORT_EXPIRY, DEMO_PASSPORT_NUMBER, DEMO_PERSON, DEMO_QUESTIONS
from tests.demo.process import running_demo
from tests.e2e.browser import CHROMIUM, outbox_code
from tests.e2e.conftest import free_port
from tests.e2e.identity import fill_passport

pytestmark = [
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"browser tests skipped: no {CHROMIUM}"),
    pytest.mark.timeout(300),  # each starts `broker demo` as a process, and some twice
]
EMAIL = "demo@example.org"


@pytest.fixture
def demo(tmp_path):
    with running_demo(tmp_path, free_port(), free_port()) as running:
        yield running


def sign_in_with_password(page, demo, button: str = "Sign in") -> None:  # type: ignore[no-untyped-def]
    page.goto(demo.rp_url)
    page.get_by_role("button", name=button, exact=True).click()
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_label("Password", exact=True).fill(demo.details["password"])
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_label("Security code").fill(outbox_code(page, demo.broker_url, EMAIL))
    page.get_by_role("button", name="Continue").click()


def claim(where, name: str) -> str:  # type: ignore[no-untyped-def]
    """The value shown in the row of the claim ``name`` (a table of claims, each explained), on a page
    or in one table of it."""
    page = getattr(where, "page", where)
    row = where.get_by_role("row").filter(has=page.get_by_role("rowheader", name=name, exact=True))
    return str(row.get_by_role("cell").first.inner_text())


def test_sign_in_at_the_demo_service_and_sign_out(demo, chromium):
    context = chromium.new_context()
    page = context.new_page()
    sign_in_with_password(page, demo)
    page.get_by_role("button", name="Agree and continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You are signed in")
    assert claim(page, "vot") == "Cl.Cm" and claim(page, "sid")
    sub_row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name="sub", exact=True))
    expect(sub_row).to_contain_text("pairwise")
    assert EMAIL in page.locator("#userinfo-response").inner_text()
    expect(page.get_by_text("did not ask for your identity")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You have signed out")
    page.get_by_role("link", name="Sign in again").click()
    expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_visible()
    context.close()


def test_prove_the_demo_identity_and_the_demo_service_verifies_it(demo, chromium):
    context = chromium.new_context()
    page = context.new_page()
    sign_in_with_password(page, demo, "Sign in with identity check")
    page.get_by_label("UK passport").check()
    page.get_by_role("button", name="Continue").click()
    fill_passport(
        page,
        DEMO_PASSPORT_NUMBER,
        DEMO_PERSON.family_name,
        DEMO_PERSON.given_names,
        DEMO_PERSON.birth_date,
        DEMO_PASSPORT_EXPIRY,
    )
    for label, value in (
        ("Building number or name", "1"),
        ("Street", "High Street"),
        ("Town or city", "Cardiff"),
        ("Postcode", "CF10 1AA"),
        ("Year you started living at this address", "2012"),
    ):
        page.get_by_label(label).fill(value)
    page.get_by_role("button", name="Continue").click()
    for question in DEMO_QUESTIONS:
        page.get_by_role("group", name=question["text"]).get_by_label(question["answer"]).check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("link", name="Continue to the service").click()
    page.get_by_role("button", name="Agree and continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You are signed in")
    identity = page.get_by_role("table", name="Your proven identity")
    expect(identity).to_contain_text("P2")
    assert claim(identity, "vot") == "P2"
    assert json.loads(claim(identity, "birthDate")) == [{"value": "1990-01-01"}]
    context.close()
