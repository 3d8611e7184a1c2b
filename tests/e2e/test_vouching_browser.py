"""Vouching in headless Chromium with three accounts, JavaScript on and off: the applicant asks two
proven people to vouch, both do through their emailed links, cooling-off passes, and a relying service
asking for Cl.Cm.P1 receives the identity."""

from __future__ import annotations

import os
import re
from datetime import date, timedelta

import pytest
from joserfc import jwt
from joserfc.jws import JWSRegistry
from playwright.sync_api import expect

from broker.policy.claims import CORE_IDENTITY
from tests.e2e.agent import Callback
from tests.e2e.browser import CHROMIUM, outbox_code
from tests.e2e.rp import RelyingParty, claims_param
from tests.e2e.test_identity import verify_core_identity
from tests.e2e.vouchers import broker_command, invitation_link, proven_person, unique_building

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"browser tests skipped: no {CHROMIUM}")
PASSWORD = "correct horse battery staple"


def sign_in(page, broker, email: str) -> None:
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_label("Security code").fill(outbox_code(page, broker.url, email))
    page.get_by_role("button", name="Continue").click()


def fill_date(page, legend: str, value: date) -> None:
    group = page.get_by_role("group", name=legend)
    for label, part in (("Day", value.day), ("Month", value.month), ("Year", value.year)):
        group.get_by_label(label).fill(str(part))


def test_vouched_for_by_two_people(clock, receiver, page):
    broker = clock
    broker.travel(-timedelta(days=8))  # the vouching happens a week ago
    back = f"{receiver.url}/callback"
    info = broker.create_client(
        redirect_uris=[back],
        claims=["email", CORE_IDENTITY],
        backchannel_logout_uri=receiver.endpoint,
        security_event_uri=receiver.events_endpoint,
    )
    rp = RelyingParty(broker.url, str(info["client_id"]), back, client_secret=str(info["client_secret"]))
    vouchers = [
        proven_person(broker, "Priya", "Shah", date(1975, 2, 3), "CF11 9AB"),
        proven_person(broker, "Owen", "Evans", date(1968, 7, 9), "CF14 3BB"),
    ]
    applicant = f"sam-{os.urandom(4).hex()}@example.org"
    broker.create_account(applicant)
    wants_p1 = {"vtr": '["Cl.Cm.P1"]', "claims": claims_param(userinfo={CORE_IDENTITY: None})}

    page.goto(rp.authorization_url(**wants_p1))
    sign_in(page, broker, applicant)
    page.get_by_label("I do not have photo ID").check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("link", name="Ask people to vouch for you").click()
    page.get_by_label("First and middle names").fill("Sam")
    page.get_by_label("Last name").fill("Taylor")
    fill_date(page, "Date of birth", date(1990, 5, 1))
    page.get_by_label("Building number or name").fill(unique_building())
    page.get_by_label("Street").fill("Bute Street")
    page.get_by_label("Town or city").fill("Cardiff")
    page.get_by_label("Postcode").fill("CF10 5AA")
    page.get_by_label("Year you started living at this address").fill("2019")
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Email address of the first person").fill(vouchers[0])
    page.get_by_role("button", name="Send the invitations").click()  # only one: not enough
    expect(
        page.get_by_role("link", name="Enter the email addresses of at least 2 different people")
    ).to_be_visible()
    page.get_by_label("Email address of the second person").fill(vouchers[1])
    page.get_by_role("button", name="Send the invitations").click()
    expect(page.locator("body")).to_contain_text("0 of 2 people have vouched for you")

    for email in vouchers:
        context = page.context.browser.new_context()
        voucher = context.new_page()
        voucher.goto(invitation_link(broker, email))
        sign_in(voucher, broker, email)
        assert voucher.get_by_role("heading", level=1).inner_text() == "Vouch for Sam Taylor"
        assert "1 May 1990" in voucher.content() and "CF10 5AA" in voucher.content()
        voucher.get_by_label("Friend").check()
        voucher.get_by_label("How many years have you known them?").fill("6")
        voucher.get_by_role("group", name="Do you live at the same address as them?").get_by_label(
            "No"
        ).check()
        voucher.get_by_label("I confirm their name, date of birth and address above are right").check()
        voucher.get_by_label(
            re.compile("false information to prove someone's identity is an offence")
        ).check()
        voucher.get_by_role("button", name="Vouch for Sam").click()
        assert voucher.get_by_role("heading", level=1).inner_text() == "Thank you for vouching"
        context.close()

    page.goto(f"{broker.url}/identity/vouching")
    assert "2 of 2 people have vouched for you" in page.content()

    broker.offset[0] = timedelta(0)  # today: cooling-off has passed
    page.context.clear_cookies()
    page.goto(rp.authorization_url(**wants_p1))
    sign_in(page, broker, applicant)
    page.get_by_role("button", name="Agree and continue").click()
    page.wait_for_url(re.compile(re.escape(back) + r"\?code="))
    token = rp.redeem(Callback(page.url))
    core = verify_core_identity(rp, rp.userinfo(token["access_token"]).json()[CORE_IDENTITY])
    assert core["vot"] == "P1"
    assert core["vc"]["credentialSubject"]["name"][0]["nameParts"][-1] == {
        "type": "FamilyName",
        "value": "Taylor",
    }
    page.goto(f"{broker.url}/identity/vouching")
    assert page.get_by_role("heading", level=1).inner_text() == "You have proved your identity"
    assert "ask a registered professional" in page.content().lower()

    # One voucher is found to be false: the service is told and the applicant's level drops.
    before = len(receiver.events)
    revoked = broker_command(
        broker, "identities", "revoke", "--email", vouchers[0], "--reason", "found false"
    )
    assert revoked.returncode == 0, revoked.stderr
    raw = receiver.wait_for_events(before + 1)[before]
    event = jwt.decode(raw, rp.jwks(), registry=JWSRegistry(algorithms=["ES256"]))
    assert event.claims["sub_id"]["sub"] == token["id_claims"]["sub"]
    page.goto(f"{broker.url}/account/identity")
    assert "You have not proved your identity yet" in page.content()
