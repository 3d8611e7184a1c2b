"""The MOU admin console in Chromium, administrators signed in with passkeys (virtual authenticators):
one drafts a new version and cannot approve it, a second approves; a person then sees the consent
page, declines the optional attribute, and the service receives exactly what was agreed; the person
withdraws consent and the service's refresh token stops working; suspending the MOU stops userinfo."""

from __future__ import annotations

import os
import re
import uuid

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from broker.store.db import transaction
from broker.store.models import Account, Mou
from tests.e2e.agent import Callback
from tests.e2e.browser import CHROMIUM, outbox_code
from tests.e2e.test_passkeys_browser import create_account_with_passkey, local_broker, local_rp  # noqa: F401

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"browser tests skipped: no {CHROMIUM}")


def admin_page(chromium, broker, rp, roles: list[str]):  # type: ignore[no-untyped-def]
    context = chromium.new_context()
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    email = create_account_with_passkey(broker, rp, page)  # signed in with the passkey
    with transaction(broker.db) as db:
        db.scalar(select(Account).filter_by(email=email)).roles = roles
    return page


def test_two_person_approval_then_consent_withdrawal_and_suspension(local_broker, local_rp, chromium):  # noqa: F811
    broker, rp = local_broker, local_rp
    with broker.db() as db:
        reference = db.scalar(select(Mou.reference).filter_by(client_id=rp.client_id))
    author = admin_page(chromium, broker, rp, ["policy_author", "approver"])
    approver = admin_page(chromium, broker, rp, ["approver"])

    author.goto(f"{broker.url}/admin/mous/{reference}/new")
    author.get_by_label("Purpose, in plain language").fill(
        "To send you reminders about your fishing licence."
    )
    author.get_by_label("Attributes", exact=True).fill("email P0 required 365\nphone_number P0 optional 90")
    author.get_by_role("button", name="Save draft").click()
    assert "version 2" in author.get_by_role("heading", level=1).inner_text()
    expect(author.get_by_role("row", name=re.compile("attribute phone_number"))).to_be_visible()  # the diff
    author.get_by_role("button", name="Submit for approval").click()
    author.get_by_role("button", name="Approve").click()
    expect(
        author.get_by_role("link", name=re.compile("The author of a version cannot approve it"))
    ).to_be_visible()

    approver.goto(f"{broker.url}/admin/mous/{reference}?version=2")
    approver.get_by_role("button", name="Approve").click()
    assert "active" in approver.get_by_role("heading", level=1).inner_text()

    person = f"p-{uuid.uuid4().hex[:8]}@example.org"
    broker.create_account(person)
    context = chromium.new_context()
    page = context.new_page()
    page.goto(rp.authorization_url(scope="openid email phone offline_access"))
    page.get_by_label("Email address").fill(person)
    page.get_by_label("Password", exact=True).fill("correct horse battery staple")
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_label("Security code").fill(outbox_code(page, broker.url, person))
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("body")).to_contain_text(re.compile("to send you reminders about your fishing licence", re.IGNORECASE))
    page.get_by_label(re.compile("Your phone number")).uncheck()
    page.get_by_role("button", name="Agree and continue").click()
    page.wait_for_url(re.compile(re.escape(rp.redirect_uri) + r"\?code="))
    token = rp.redeem(Callback(page.url))
    assert set(rp.userinfo(token["access_token"]).json()) == {"sub", "email", "email_verified"}

    page.goto(f"{broker.url}/account/services")
    page.get_by_role("button", name=re.compile("Withdraw your agreement")).click()
    expect(page.locator("body")).to_contain_text("You have withdrawn your agreement")
    refused = rp.token_request(grant_type="refresh_token", refresh_token=token["refresh_token"])
    assert refused.json()["error"] == "invalid_grant"

    page.goto(rp.authorization_url(scope="openid email"))
    page.get_by_role("button", name="Agree and continue").click()
    page.wait_for_url(re.compile(re.escape(rp.redirect_uri) + r"\?code="))
    again = rp.redeem(Callback(page.url))
    approver.goto(f"{broker.url}/admin/mous/{reference}?version=2")
    approver.get_by_label(re.compile("Reason or note")).fill("Breach reported by the service")
    approver.get_by_role("button", name="Suspend").click()
    assert "suspended" in approver.get_by_role("heading", level=1).inner_text()
    expect(
        approver.get_by_role("row", name=re.compile("suspend .*Breach reported by the service"))
    ).to_be_visible()
    assert rp.userinfo(again["access_token"]).status_code == 403
    context.close()


def test_a_client_manager_registers_and_changes_a_service(local_broker, local_rp, chromium):  # noqa: F811
    broker = local_broker
    manager = admin_page(chromium, broker, local_rp, ["client_manager"])
    manager.goto(f"{broker.url}/admin/services/new")
    manager.get_by_label("Service name").fill("Boat registration")
    manager.get_by_label("Redirect URIs", exact=True).fill(
        "http://boats.example/callback"
    )  # http only for localhost
    manager.get_by_label("JWKS URL (its public keys)").fill("https://boats.example/jwks.json")
    manager.get_by_role("button", name="Register the service").click()
    error = manager.get_by_role("link", name=re.compile("must use https"))
    expect(error).to_be_visible()
    assert error.get_attribute("href") == "#redirect_uris"
    manager.get_by_label("Redirect URIs", exact=True).fill("https://boats.example/callback")
    manager.get_by_role("button", name="Register the service").click()
    assert manager.get_by_role("heading", level=1).inner_text() == "Boat registration is registered"
    client_id = re.search(r"Client ID: (\S+)", manager.locator("main").inner_text()).group(1)

    manager.goto(f"{broker.url}/admin/services/{client_id}")
    manager.get_by_label("Post-logout redirect URIs").fill("https://boats.example/signed-out")
    manager.get_by_label("Or paste its public keys (JWKS)").fill('{"keys": [{"kty": "EC", "d": "secret"}]}')
    manager.get_by_role("button", name="Save changes").click()
    expect(
        manager.get_by_role("link", name=re.compile("public keys only"))
    ).to_be_visible()  # never a private key
    manager.get_by_label("Or paste its public keys (JWKS)").fill("")
    manager.get_by_label("Landing page").fill("https://boats.example/start")
    manager.get_by_role("button", name="Save changes").click()
    assert "Boat registration" in manager.content()
    from broker.store.models import Client

    with broker.db() as db:
        client = db.get(Client, client_id)
        assert client.post_logout_redirect_uris == ["https://boats.example/signed-out"]
        assert client.landing_page_url == "https://boats.example/start"
