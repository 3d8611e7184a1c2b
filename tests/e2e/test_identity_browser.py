"""Prove your identity in headless Chromium, with JavaScript on and off: a relying service asks for
Cl.Cm.P2 and the core identity JWT, the person proves who they are with a passport, and the service
verifies the identity JWT with the key published at /.well-known/did.json."""

from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import expect

from broker.policy.claims import CORE_IDENTITY
from tests.e2e.agent import Callback
from tests.e2e.browser import CHROMIUM, outbox_code
from tests.e2e.identity import KnownPerson, fill_date
from tests.e2e.rp import RelyingParty, claims_param
from tests.e2e.test_identity import verify_core_identity

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"browser tests skipped: no {CHROMIUM}")


@pytest.fixture
def identity_rp(broker, receiver) -> RelyingParty:
    back = f"{receiver.url}/callback"
    info = broker.create_client(redirect_uris=[back], claims=["email", CORE_IDENTITY])
    return RelyingParty(broker.url, str(info["client_id"]), back, client_secret=str(info["client_secret"]))


def test_prove_identity_with_a_passport(broker, identity_rp: RelyingParty, person, page):
    known = KnownPerson().register(broker)
    page.goto(
        identity_rp.authorization_url(vtr='["Cl.Cm.P2"]', claims=claims_param(userinfo={CORE_IDENTITY: None}))
    )
    page.get_by_label("Email address").fill(person)
    page.get_by_label("Password", exact=True).fill("correct horse battery staple")
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_label("Security code").fill(outbox_code(page, broker.url, person))
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Prove your identity")
    page.get_by_role("button", name="Continue").click()  # nothing chosen
    expect(page.get_by_role("link", name="Select which photo ID you have")).to_be_visible()
    page.get_by_label("UK passport").check()
    page.get_by_role("button", name="Continue").click()

    page.get_by_label("Passport number").fill(known.passport_number[:-1])  # a digit missed
    page.get_by_label("Surname").fill(known.family_name)
    page.get_by_label("Given names").fill(known.given_names)
    fill_date(page, "Date of birth", known.birth_date)
    fill_date(page, "Expiry date", known.passport_expiry)
    page.get_by_role("button", name="Continue").click()
    error = page.get_by_role("link", name="Passport number must be 9 digits, like 123456789")
    expect(error).to_be_visible()
    assert error.get_attribute("href") == "#passport_number"
    assert page.get_by_label("Given names").input_value() == known.given_names  # nothing lost
    page.get_by_label("Passport number").fill(known.passport_number)
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Check your answers")
    page.get_by_role("button", name="Back", exact=True).click()  # back to the details, nothing lost
    expect(page.get_by_label("Passport number")).to_have_value(known.passport_number)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your answers")
    page.get_by_role("button", name="Change given names").click()
    expect(page.get_by_label("Given names")).to_have_value(known.given_names)
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Confirm and check my details").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Enter your home address")
    page.get_by_label("Building number or name").fill("10")
    page.get_by_label("Street").fill("Downing Street")
    page.get_by_label("Town or city").fill("London")
    page.get_by_label("Postcode").fill("SW1A 2AA")
    page.get_by_label("Year you started living at this address").fill("2015")
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Answer security questions")
    page.get_by_role("group", name="Which bank is your current account with?").get_by_label("Birch").check()
    page.get_by_role("group", name="How much is your monthly loan payment?").get_by_label("None").check()
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("You have proved your identity")
    expect(page.get_by_role("heading", level=2, name="What happens next")).to_be_visible()
    assert "checked to a medium level" in page.content()
    page.get_by_role("link", name="Continue to the service").click()
    page.get_by_role("button", name="Agree and continue").click()
    page.wait_for_url(re.compile(re.escape(identity_rp.redirect_uri) + r"\?code="))

    token = identity_rp.redeem(Callback(page.url))
    info = identity_rp.userinfo(token["access_token"]).json()
    core = verify_core_identity(identity_rp, info[CORE_IDENTITY])
    assert core["vot"] == "P2" and core["sub"] == token["id_claims"]["sub"]
    assert core["vc"]["credentialSubject"]["birthDate"] == [{"value": "1985-03-12"}]
