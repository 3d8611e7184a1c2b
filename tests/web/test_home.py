"""The home page, the account home, signing out from the header, and the statement pages: over HTTP."""

from __future__ import annotations

import re
import uuid
from urllib.parse import quote

import pytest
from joserfc import jwt
from joserfc.jws import JWSRegistry
from sqlalchemy import select

from broker.store.db import transaction
from broker.store.models import Account
from tests.e2e.agent import PASSWORD, latest_code

EVENT = "http://schemas.openid.net/event/backchannel-logout"


def test_home_offers_sign_in_and_create_an_account_to_a_stranger(broker, agent):
    agent.go(f"{broker.url}/")
    page = agent.last_page
    assert agent.last_status == 200
    assert "Sign in to public services" in page and "Identity broker" not in page
    assert 'href="/account/sign-in?next=/account"' in page and 'href="/create-account"' in page
    assert 'action="/sign-out"' not in page  # nobody to sign out


def test_create_an_account_from_the_home_page_starts_the_journey(broker, agent):
    assert re.search(r"/create-account/[^/]+$", agent.go(f"{broker.url}/create-account"))
    assert "Enter your email address" in agent.last_page


def test_account_home_needs_a_session_and_links_to_every_part_of_the_account(broker, agent, person, rp):
    assert "/sign-in/" in agent.go(f"{broker.url}/account")
    agent.authorize(rp.authorization_url(), email=person)
    agent.go(f"{broker.url}/account")
    page = agent.last_page
    assert agent.last_status == 200 and person in page
    for href in ("/account/services", "/account/identity", "/account/security", "/account/activity"):
        assert f'href="{href}"' in page
    assert page.count('action="/sign-out"') == 2  # the header's and the page's own
    agent.go(f"{broker.url}/")
    assert 'href="/account"' in agent.last_page and 'action="/sign-out"' in agent.last_page


def test_signing_out_ends_the_session_and_tells_each_service(broker, agent, person, make_rp, receiver):
    rp = make_rp(backchannel_logout_uri=receiver.endpoint)
    token = rp.redeem(agent.authorize(rp.authorization_url(), email=person))
    before = len(receiver.tokens)

    response = agent.post(f"{broker.url}/sign-out", {})
    assert response.status_code == 303 and response.headers["location"].endswith("/signed-out")
    agent.go(response.headers["location"])
    assert "You have signed out" in agent.last_page
    assert 'href="/account/sign-in?next=%2Faccount"' in agent.last_page  # and a way back in

    [notice] = receiver.wait_for(before + 1)[before:]
    claims = jwt.decode(notice, rp.jwks(), registry=JWSRegistry(algorithms=["ES256"])).claims
    assert EVENT in claims["events"] and claims["sid"] == token["id_claims"]["sid"]
    assert rp.userinfo(token["access_token"]).status_code == 401
    assert "/sign-in/" in agent.go(f"{broker.url}/account")  # the session is gone


def test_a_forged_sign_out_is_refused_and_the_session_lives_on(broker, agent, person, rp):
    agent.authorize(rp.authorization_url(), email=person)
    forged = agent.http.post(f"{broker.url}/sign-out", data={"csrf_token": "0" * 64})
    assert forged.status_code == 400
    missing = agent.http.post(f"{broker.url}/sign-out", data={})
    assert missing.status_code == 400
    agent.go(f"{broker.url}/account")
    assert agent.last_status == 200 and person in agent.last_page


def test_the_sign_out_link_asks_first_and_a_stranger_goes_to_signed_out(broker, agent, person, rp):
    assert agent.go(f"{broker.url}/sign-out").endswith("/signed-out")
    agent.authorize(rp.authorization_url(), email=person)
    agent.go(f"{broker.url}/sign-out")
    assert "Do you want to sign out?" in agent.last_page  # a GET never signs anyone out
    agent.go(f"{broker.url}/account")
    assert agent.last_status == 200


def test_every_page_has_the_statements_in_its_footer_and_they_exist(broker, agent):
    agent.go(f"{broker.url}/")
    for href, heading in (
        ("/accessibility", "Accessibility statement for Sign in to public services"),
        ("/privacy", "Privacy notice"),
        ("/cookies", "Cookies"),
    ):
        assert f'href="{href}"' in agent.last_page
        response = agent.http.get(f"{broker.url}{href}")
        assert response.status_code == 200 and heading in response.text
    welsh = agent.http.get(f"{broker.url}/accessibility?lang=cy").text
    assert "Datganiad hygyrchedd ar gyfer Mewngofnodi i wasanaethau cyhoeddus" in welsh
    assert "Sign in to public services" not in welsh


def test_staff_signed_in_without_a_passkey_are_told_the_way_on(broker, agent):
    email = f"staff-{uuid.uuid4().hex[:8]}@example.org"
    broker.create_account(email)
    with transaction(broker.db) as db:
        db.scalar(select(Account).filter_by(email=email)).roles = ["auditor"]
    here = agent.go(f"{broker.url}/account/sign-in?next=/admin/mous")
    here = agent.submit(here, {"email": email, "password": PASSWORD})
    here = agent.submit(here, {"code": latest_code(broker, email)})

    assert here == f"{broker.url}/admin/passkey?next=%2Fadmin%2Fmous"
    page = agent.last_page
    assert "Sign in with your passkey" in page and 'name="next" value="/admin/mous"' in page
    assert "Sign out, then sign in with your passkey" in page and 'href="/account"' in page
    response = agent.post(f"{broker.url}/sign-out", {"next": "/admin/mous"})
    agent.go(response.headers["location"])
    assert 'href="/account/sign-in?next=%2Fadmin%2Fmous"' in agent.last_page
    assert "/sign-in/" in agent.go(f"{broker.url}/admin/mous")  # signed out


@pytest.mark.parametrize("elsewhere", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"])
def test_sign_in_again_never_leads_off_the_broker(broker, agent, elsewhere):
    agent.go(f"{broker.url}/create-account")  # a browser the broker knows (its forms carry a token)
    agent.go(f"{broker.url}/signed-out?next={quote(elsewhere)}")
    assert 'href="/account/sign-in?next=%2Faccount"' in agent.last_page
    response = agent.post(f"{broker.url}/sign-out", {"next": elsewhere})
    assert response.status_code == 303, response.text[:2000]
    assert response.headers["location"] == f"{broker.url}/signed-out"


def test_a_post_to_the_console_without_a_passkey_is_still_refused(broker, agent):
    email = f"staff-{uuid.uuid4().hex[:8]}@example.org"
    broker.create_account(email)
    with transaction(broker.db) as db:
        db.scalar(select(Account).filter_by(email=email)).roles = ["client_manager"]
    here = agent.go(f"{broker.url}/account/sign-in?next=/admin")
    here = agent.submit(here, {"email": email, "password": PASSWORD})
    agent.submit(here, {"code": latest_code(broker, email)})
    response = agent.post(f"{broker.url}/admin/services/new", {"name": "x"})
    assert response.status_code == 403


def test_pages_that_end_the_session_offer_no_sign_out(broker, agent, person, rp):
    agent.authorize(rp.authorization_url(), email=person)
    ended = agent.post(f"{broker.url}/account/sign-out-everywhere", {})
    assert "You have signed out" in ended.text and 'action="/sign-out"' not in ended.text

    agent.authorize(rp.authorization_url(), email=person)
    deleted = agent.post(f"{broker.url}/account/delete", {"confirm": "yes"})
    assert "Your account has been deleted" in deleted.text
    assert 'action="/sign-out"' not in deleted.text and 'href="/"' in deleted.text


def test_the_header_is_in_welsh_on_welsh_pages(broker, agent, person, rp):
    agent.authorize(rp.authorization_url(), email=person)
    agent.go(f"{broker.url}/account?lang=cy")
    assert "Allgofnodi" in agent.last_page and "Eich cyfrif" in agent.last_page
    assert "Sign out" not in agent.last_page


@pytest.mark.parametrize("elsewhere", ["", "https://evil.example/", "//evil.example/", "/\\\\evil.example"])
def test_signing_in_without_a_page_of_ours_to_return_to_lands_on_the_account_home(
    broker, agent, person, elsewhere
):
    here = agent.go(f"{broker.url}/account/sign-in?next={quote(elsewhere)}")
    here = agent.submit(here, {"email": person, "password": PASSWORD})
    assert agent.submit(here, {"code": latest_code(broker, person)}) == f"{broker.url}/account"
