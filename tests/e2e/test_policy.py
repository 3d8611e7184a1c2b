"""Attributes leave the broker only under an MOU in force, with consent, and every release is kept:
HTTP tests of authorize, consent, token, userinfo and refresh against the release decision."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import select

from broker.policy.mou import AttributeTerm
from broker.policy.service import add_version, apply, governing, terms_of
from broker.store.db import transaction
from broker.store.models import Account, Mou, MouVersion, ReleaseRecord
from tests.e2e.agent import Callback, latest_code
from tests.e2e.rp import claims_param

PURPOSE = "To issue fishing licences to the right person and tell them when one is due."


def new_version(broker, client_id: str, *attributes: AttributeTerm, purpose: str | None = None) -> MouVersion:
    """Alice drafts and submits a new version of the service's MOU; Bob approves it."""
    with transaction(broker.db) as db:
        current = governing(db, client_id)
        mou = db.get(Mou, current.mou_id)
        terms = replace(terms_of(current), attributes=attributes, purpose=purpose or PURPOSE)
        row = add_version(db, mou, terms, "alice", broker.services.clock())
        apply(db, row, "submit", "alice", broker.services.clock())
        apply(db, row, "approve", "bob", broker.services.clock())
        return row


def set_status(broker, client_id: str, status: str) -> None:
    with transaction(broker.db) as db:
        governing(db, client_id).status = status


def ledger(broker, client_id: str) -> list[ReleaseRecord]:
    with broker.db() as db:
        return list(
            db.scalars(
                select(ReleaseRecord).filter_by(client_id=client_id).order_by(ReleaseRecord.released_at)
            )
        )


def test_the_person_declines_an_optional_attribute_and_the_service_gets_exactly_what_was_agreed(
    broker, make_rp, person, agent
):
    rp = make_rp(claims=["email", "phone_number"])
    new_version(
        broker,
        rp.client_id,
        AttributeTerm("email", "P0", True, 365),
        AttributeTerm("phone_number", "P0", False, 90),
    )
    here = agent.go(rp.authorization_url(scope="openid email phone"))
    here = agent.submit(here, {"email": person, "password": "correct horse battery staple"})
    here = agent.submit(here, {"code": latest_code(broker, person)})
    assert "/consent/" in here
    page = agent.last_page
    assert "to issue fishing licences" in page.lower() and "kept for 90 days" in page
    assert 'name="share" type="checkbox" value="phone_number"' in page
    callback = agent.submit(here, {"decision": "agree"})  # the phone number box left unticked
    token = rp.redeem(Callback(callback))
    info = rp.userinfo(token["access_token"]).json()
    assert set(info) == {"sub", "email", "email_verified"}
    released = ledger(broker, rp.client_id)
    assert released and released[-1].claims == ["email"] and released[-1].endpoint == "userinfo"

    # Asked again (silently: the choice is remembered, no consent page).
    assert "error" not in agent.authorize(rp.authorization_url(scope="openid email phone")).params


def test_withdrawing_consent_stops_refresh_and_tells_the_service(broker, make_rp, person, agent, receiver):
    rp = make_rp(claims=["email"], backchannel_logout_uri=receiver.endpoint)
    token = rp.redeem(
        agent.authorize(rp.authorization_url(scope="openid email offline_access"), email=person)
    )
    before = len(receiver.tokens)
    agent.submit(f"{broker.url}/account/services/{rp.client_id}/withdraw", {})
    assert "You have withdrawn your agreement" in agent.last_page
    refused = rp.token_request(grant_type="refresh_token", refresh_token=token["refresh_token"])
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    assert rp.userinfo(token["access_token"]).status_code == 401
    assert len(receiver.wait_for(before + 1)) > before
    # Next time, the person is asked again.
    here = agent.go(rp.authorization_url(scope="openid email"))
    assert "/consent/" in here


def test_a_suspended_mou_stops_the_next_userinfo_and_refresh(broker, make_rp, person, agent):
    rp = make_rp(claims=["email"])
    token = rp.redeem(
        agent.authorize(rp.authorization_url(scope="openid email offline_access"), email=person)
    )
    assert rp.userinfo(token["access_token"]).status_code == 200
    set_status(broker, rp.client_id, "suspended")
    stopped = rp.userinfo(token["access_token"])
    assert stopped.status_code == 403 and "insufficient_scope" in stopped.headers["www-authenticate"]
    refresh = rp.token_request(grant_type="refresh_token", refresh_token=token["refresh_token"])
    assert (
        refresh.json()["error"] == "invalid_grant" and "not in force" in refresh.json()["error_description"]
    )
    set_status(broker, rp.client_id, "approved")
    # The refused token was not used up: once the agreement is resumed it refreshes, and the grant lives.
    resumed = rp.token_request(grant_type="refresh_token", refresh_token=token["refresh_token"])
    assert resumed.status_code == 200, resumed.text
    assert rp.userinfo(resumed.json()["access_token"]).status_code == 200


def test_an_mou_that_expires_between_consent_and_token_releases_nothing(broker, make_rp, person, agent):
    rp = make_rp(claims=["email"])
    callback = agent.authorize(rp.authorization_url(scope="openid email"), email=person)
    with transaction(broker.db) as db:
        row = governing(db, rp.client_id)
        row.end_date = broker.services.clock().date() - timedelta(days=1)  # past its end: nobody acts
    response = rp.token_request(
        grant_type="authorization_code",
        code=callback.params["code"],
        redirect_uri=rp.redirect_uri,
        code_verifier=rp.pending[callback.params["state"]]["verifier"],
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"
    again = agent.authorize(rp.authorization_url(scope="openid email"))
    assert again.params["error"] == "invalid_scope" and "not in force" in again.params["error_description"]


def test_a_new_version_that_adds_an_attribute_asks_again(broker, make_rp, person, agent):
    rp = make_rp(claims=["email", "phone_number"])
    new_version(broker, rp.client_id, AttributeTerm("email", "P0", True, 365))
    agent.authorize(rp.authorization_url(scope="openid email"), email=person)
    new_version(
        broker,
        rp.client_id,
        AttributeTerm("email", "P0", True, 365),
        AttributeTerm("phone_number", "P0", True, 30),
    )
    here = agent.go(rp.authorization_url(scope="openid email"))
    assert "/consent/" in here  # the agreement changed: the person is asked again
    new_version(
        broker,
        rp.client_id,
        AttributeTerm("email", "P0", True, 365),
        AttributeTerm("phone_number", "P0", True, 60),
    )
    agent.submit(here, {"decision": "agree"})
    assert (
        "error" not in agent.authorize(rp.authorization_url(scope="openid email")).params
    )  # a longer retention alone does not


def test_refresh_cannot_widen_what_was_agreed(broker, make_rp, person, agent):
    rp = make_rp(claims=["email"])
    token = rp.redeem(
        agent.authorize(rp.authorization_url(scope="openid email offline_access"), email=person)
    )
    wider = rp.token_request(
        grant_type="refresh_token", refresh_token=token["refresh_token"], scope="openid email phone"
    )
    assert wider.status_code == 400 and wider.json()["error"] == "invalid_scope"


def test_the_claims_parameter_cannot_reach_past_the_mou(broker, make_rp, person, agent):
    rp = make_rp(claims=["email"])
    url = rp.authorization_url(
        claims=claims_param(id_token={"https://vocab.account.gov.uk/v1/address": None})
    )
    callback = agent.authorize(url, email=person)
    assert (
        callback.params["error"] == "access_denied"
        and "does not cover" in callback.params["error_description"]
    )


def test_the_person_can_download_a_consent_receipt_and_read_the_agreement(broker, make_rp, person, agent):
    rp = make_rp(claims=["email"])
    rp.redeem(agent.authorize(rp.authorization_url(scope="openid email"), email=person))
    response = agent.http.get(f"{broker.url}/account/services/{rp.client_id}/consent-receipt.json")
    receipt = response.json()
    assert response.headers["content-disposition"].startswith("attachment")
    assert receipt["version"] == "KI-CR-v1.1.0" and receipt["jurisdiction"] == "GB"
    assert receipt["services"][0]["purposes"][0]["piiCategory"] == ["email"]
    assert receipt["agreement"]["reference"].startswith("MOU-") and receipt["consentReceiptID"]
    summary = httpx.get(f"{broker.url}/services/{rp.client_id}/agreement")
    assert summary.status_code == 200 and "What it may receive" in summary.text
    agent.go(f"{broker.url}/account/services")
    assert "Download your consent receipt" in agent.last_page


def test_admin_pages_need_a_staff_role_and_a_passkey(broker, person, agent):
    here = agent.go(f"{broker.url}/admin/mous")
    here = agent.submit(here, {"email": person, "password": "correct horse battery staple"})
    agent.submit(here, {"code": latest_code(broker, person)})
    assert agent.last_status == 403 and "cannot use the admin pages" in agent.last_page
    with transaction(broker.db) as db:
        db.scalar(select(Account).filter_by(email=person)).roles = ["approver"]
    # Signed in with a password only: sent to the page that says how to sign in with a passkey.
    assert urlsplit(agent.go(f"{broker.url}/admin/mous")).path == "/admin/passkey"
    assert agent.last_status == 200 and "passkey" in agent.last_page
    assert agent.post(f"{broker.url}/admin/mous/MOU-x/versions/1/approve", {}).status_code == 403


def revise(broker, client_id: str, **changes) -> None:
    """A new version of the service's agreement with only ``changes`` to the terms in force, approved."""
    with transaction(broker.db) as db:
        current = governing(db, client_id)
        mou = db.get(Mou, current.mou_id)
        row = add_version(db, mou, replace(terms_of(current), **changes), "alice", broker.services.clock())
        apply(db, row, "submit", "alice", broker.services.clock())
        apply(db, row, "approve", "bob", broker.services.clock())


def signs_in_silently(broker, agent, url: str) -> bool:
    here = agent.go(url)
    return not here.startswith(broker.url) and "code=" in here


def test_a_new_version_that_changes_only_retention_keeps_consent(broker, make_rp, person, agent):
    rp = make_rp(claims=["email"])
    token = rp.redeem(agent.authorize(rp.authorization_url(scope="openid email"), email=person))
    revise(broker, rp.client_id, attributes=(AttributeTerm("email", "P0", True, 30),))
    assert rp.userinfo(token["access_token"]).json().get("email") == person
    assert signs_in_silently(broker, agent, rp.authorization_url(scope="openid email"))


def test_a_new_version_that_narrows_the_attributes_narrows_consent_at_once(broker, make_rp, person, agent):
    rp = make_rp(claims=["email", "phone_number"])
    token = rp.redeem(agent.authorize(rp.authorization_url(scope="openid email phone"), email=person))
    revise(broker, rp.client_id, attributes=(AttributeTerm("email", "P0", True, 365),))
    info = rp.userinfo(token["access_token"]).json()
    assert info.get("email") == person and "phone_number" not in info
    assert signs_in_silently(broker, agent, rp.authorization_url(scope="openid email"))


@pytest.mark.parametrize(
    "change",
    [
        {"lawful_basis": "Public task (UK GDPR Article 6(1)(e))"},
        {"purpose": "To send offers from our partners to people who hold a fishing licence."},
        {"attributes": (AttributeTerm("email", "P0", True, 365), AttributeTerm("phone_number", "P0"))},
    ],
    ids=["lawful basis", "purpose", "a new attribute"],
)
def test_a_new_version_that_changes_what_people_agreed_to_asks_again(broker, make_rp, person, agent, change):
    rp = make_rp(claims=["email"])
    token = rp.redeem(agent.authorize(rp.authorization_url(scope="openid email"), email=person))
    revise(broker, rp.client_id, **change)
    assert "email" not in rp.userinfo(token["access_token"]).json()
    assert "/consent/" in agent.go(rp.authorization_url(scope="openid email"))
