"""Passkeys in Chromium with a virtual authenticator (CDP WebAuthn domain): register while creating an
account, then sign in with the passkey alone. WebAuthn needs a domain, so this broker is on localhost."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect
from sqlalchemy import select, update

from broker.store.models import Passkey
from tests.e2e.agent import latest_code
from tests.e2e.browser import CHROMIUM
from tests.e2e.conftest import LiveBroker, live_broker
from tests.e2e.rp import RelyingParty

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"browser tests skipped: no {CHROMIUM}")

PASSWORD = "velvet otter cabbage lantern"


@pytest.fixture(scope="module")
def local_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveBroker]:
    db = tmp_path_factory.mktemp("passkeys") / "broker.db"
    with live_broker(tmp_path_factory.mktemp("var"), f"sqlite:///{db}", None, host="localhost") as live:
        yield live


@pytest.fixture
def local_rp(local_broker: LiveBroker, receiver) -> RelyingParty:
    back = f"{receiver.url}/callback"
    info = local_broker.create_client(redirect_uris=[back])
    return RelyingParty(
        local_broker.url, str(info["client_id"]), back, client_secret=str(info["client_secret"])
    )


@pytest.fixture
def authenticator_page(chromium):
    context = chromium.new_context()
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    authenticator = cdp.send(
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
    yield page, cdp, authenticator["authenticatorId"]
    context.close()


def create_account_with_passkey(broker: LiveBroker, rp: RelyingParty, page) -> str:
    email = f"pk-{uuid.uuid4().hex[:8]}@example.org"
    page.goto(rp.authorization_url())
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Email address").fill(email)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Security code").fill(latest_code(broker, email))
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Create your password").fill(PASSWORD)
    page.get_by_label("Confirm your password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Passkey (fingerprint, face or screen lock)").check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Name this passkey").fill("Test laptop")
    page.get_by_role("button", name="Create a passkey").click()
    # The same next step as every other way of signing up: the account-created page, then on.
    expect(page.get_by_role("heading", name="Your account has been created")).to_be_visible()
    page.get_by_role("link", name="Continue").click()
    page.get_by_role("button", name="Agree and continue").click()
    page.wait_for_url(re.compile(re.escape(rp.redirect_uri) + r"\?code="))
    return email


def test_register_a_passkey_then_sign_in_with_it_alone(local_broker, local_rp, authenticator_page):
    page, _cdp, _authenticator_id = authenticator_page
    from tests.e2e.agent import Callback

    create_account_with_passkey(local_broker, local_rp, page)
    assert local_rp.redeem(Callback(page.url))["id_claims"]["amr"] == ["hwk", "user"]
    with local_broker.db() as db:
        stored = db.scalars(select(Passkey)).all()
        assert [p.name for p in stored] == ["Test laptop"]

    page.context.clear_cookies()
    page.goto(local_rp.authorization_url(prompt="login"))
    page.get_by_role("button", name="Sign in with a passkey").click()
    page.wait_for_url(re.compile(re.escape(local_rp.redirect_uri) + r"\?code="))
    claims = local_rp.redeem(Callback(page.url))["id_claims"]
    assert claims["vot"] == "Cl.Cm" and claims["amr"] == ["hwk", "user"]


def test_cloned_authenticator_is_refused(local_broker, local_rp, authenticator_page):
    page, _cdp, _authenticator_id = authenticator_page
    create_account_with_passkey(local_broker, local_rp, page)
    page.goto(local_rp.authorization_url(prompt="login"))
    page.get_by_role("button", name="Sign in with a passkey").click()
    page.wait_for_url(re.compile(re.escape(local_rp.redirect_uri) + r"\?code="))
    # Pretend another copy of this key has signed more often than this one has.
    with local_broker.db() as db:
        db.execute(update(Passkey).values(sign_count=10_000))
        db.commit()
    page.goto(local_rp.authorization_url(prompt="login"))
    page.get_by_role("button", name="Sign in with a passkey").click()
    alert = page.get_by_role("alert").filter(has_text="could not be checked")
    alert.wait_for()
    expect(alert).to_be_visible()
    assert page.url.startswith(local_broker.url)


def test_without_user_verification_a_passkey_is_refused(local_broker, local_rp, authenticator_page):
    page, cdp, authenticator_id = authenticator_page
    create_account_with_passkey(local_broker, local_rp, page)
    cdp.send("WebAuthn.setUserVerified", {"authenticatorId": authenticator_id, "isUserVerified": False})
    page.goto(local_rp.authorization_url(prompt="login"))
    page.get_by_role("button", name="Sign in with a passkey").click()
    alert = page.get_by_role("alert").filter(has_text="passkey")
    alert.wait_for()
    assert page.url.startswith(local_broker.url)


def test_rename_and_remove_a_passkey_on_the_security_page(local_broker, local_rp, authenticator_page):
    page, _cdp, _authenticator_id = authenticator_page
    create_account_with_passkey(local_broker, local_rp, page)
    page.goto(f"{local_broker.url}/account/security")
    expect(page.get_by_role("heading", name="Test laptop")).to_be_visible()
    page.get_by_label("New name for Test laptop").fill("")
    page.get_by_role("button", name="Rename Test laptop").click()
    expect(page.get_by_role("link", name="Enter a name for the passkey")).to_be_visible()
    page.get_by_label("New name for Test laptop").fill("Work laptop")
    page.get_by_role("button", name="Rename Test laptop").click()
    expect(page.locator("body")).to_contain_text("Your passkey has been renamed")
    page.get_by_role("button", name="Remove Work laptop").click()
    expect(page.locator("body")).to_contain_text("You have no passkeys")
    # The removed passkey no longer signs anyone in.
    page.goto(local_rp.authorization_url(prompt="login"))
    page.get_by_role("button", name="Sign in with a passkey").click()
    page.get_by_role("alert").filter(has_text="not registered").wait_for()


def test_add_a_passkey_from_the_security_page_and_sign_in_with_it(local_broker, local_rp, authenticator_page):
    page, _cdp, _authenticator_id = authenticator_page
    create_account_with_passkey(local_broker, local_rp, page)
    page.goto(f"{local_broker.url}/account/security")
    page.get_by_role("button", name="Remove Test laptop").click()
    page.get_by_label("Name the new passkey").fill("Kitchen tablet")
    page.get_by_role("button", name="Add a passkey").click()
    page.wait_for_url(re.compile(r".*notice=passkey-added"))
    expect(page.get_by_role("heading", name="Kitchen tablet")).to_be_visible()
    page.context.clear_cookies()
    page.goto(local_rp.authorization_url(prompt="login"))
    page.get_by_role("button", name="Sign in with a passkey").click()
    page.wait_for_url(re.compile(re.escape(local_rp.redirect_uri) + r"\?code="))
    with local_broker.db() as db:
        assert (
            db.scalars(select(Passkey.last_used_at).where(Passkey.name == "Kitchen tablet")).one() is not None
        )
