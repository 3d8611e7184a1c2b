"""Changing your email address in headless Chromium, with JavaScript on and off: from the Security page,
through the code sent to the new address, to the success banner. Codes are read from the development
outbox page."""

from __future__ import annotations

import os
import uuid

import pytest
from playwright.sync_api import expect

from tests.e2e.agent import PASSWORD
from tests.e2e.browser import CHROMIUM, outbox_code

pytestmark = [
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"browser tests skipped: no {CHROMIUM}"),
    pytest.mark.parametrize("broker", ["sqlite"], indirect=True),  # the pages are the same on PostgreSQL
]


def test_change_your_email_address(broker, person, page):
    new = f"moved-{uuid.uuid4().hex[:8]}@example.org"
    page.goto(f"{broker.url}/account/security")
    page.get_by_label("Email address").fill(person)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_label("Security code").fill(outbox_code(page, broker.url, person))
    page.get_by_role("button", name="Continue").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Security"

    page.get_by_role("link", name="Change email address").click()
    page.get_by_label("New email address").fill("not an address")
    page.get_by_role("button", name="Continue").click()
    error = page.get_by_role(
        "link", name="Enter an email address in the correct format, like name@example.com"
    )
    expect(error).to_be_visible()
    assert page.get_by_label("New email address").input_value() == "not an address"
    error.click()  # the summary leads to the field
    page.get_by_label("New email address").fill(new)
    page.get_by_role("button", name="Continue").click()

    assert page.get_by_role("heading", level=1).inner_text() == "Check your email"
    expect(page.get_by_text(new)).to_be_visible()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("link", name="Enter the security code")).to_be_visible()
    page.get_by_label("Security code").fill(outbox_code(page, broker.url, new))
    page.get_by_role("button", name="Continue").click()

    banner = page.get_by_role("alert")
    assert "Your email address has been changed" in banner.inner_text()
    expect(page.get_by_role("definition").filter(has_text=new).first).to_be_visible()
