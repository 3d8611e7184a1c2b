"""The staff page and the evaluate page in Chromium, an administrator signed in with a passkey (a
virtual authenticator): they grant a colleague a role by the form's labels, see it listed, revoke it by
its button, and evaluate what a service would receive for a person."""

from __future__ import annotations

import os
import uuid

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from broker.store.models import Account
from tests.e2e.browser import CHROMIUM
from tests.e2e.test_admin_browser import admin_page
from tests.e2e.test_passkeys_browser import local_broker, local_rp  # noqa: F401

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"browser tests skipped: no {CHROMIUM}")


def test_an_administrator_grants_and_revokes_a_role_and_evaluates_a_service(local_broker, local_rp, chromium):  # noqa: F811
    broker, rp = local_broker, local_rp
    colleague = f"colleague-{uuid.uuid4().hex[:8]}@example.org"
    broker.create_account(colleague)
    page = admin_page(chromium, broker, rp, ["administrator", "auditor"])

    page.goto(f"{broker.url}/admin")
    page.get_by_role("link", name="Staff and their roles").click()
    expect(page.get_by_role("heading", name="Staff", exact=True)).to_be_visible()
    page.get_by_label("Email address of the account").fill(colleague)
    page.get_by_label("Role").select_option("approver")
    page.get_by_role("button", name="Grant role").click()
    revoke = page.get_by_role("button", name=f"Revoke approver from {colleague}")
    expect(revoke).to_be_visible()
    with broker.db() as db:
        assert db.scalar(select(Account.roles).filter_by(email=colleague)) == ["approver"]
    revoke.click()
    expect(page.get_by_role("button", name=f"Revoke approver from {colleague}")).to_have_count(0)
    with broker.db() as db:
        assert db.scalar(select(Account.roles).filter_by(email=colleague)) == []

    page.goto(f"{broker.url}/admin/evaluate")
    page.get_by_label("Person's email address").fill(colleague)
    page.get_by_label("Service").select_option(rp.client_id)
    page.get_by_role("button", name="Evaluate").click()
    expect(page.get_by_role("heading", name="Would be released")).to_be_visible()
    expect(page.get_by_text("None that counts under the version in force")).to_be_visible()
