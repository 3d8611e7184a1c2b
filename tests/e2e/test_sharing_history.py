"""A person's sharing history for a subject access request: every release, each naming the agreement
version it was made under, as a printable page and as JSON; never another person's releases, and only
with two factors in this session."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import select

from broker.store.models import Account, Mou, ReleaseRecord
from tests.e2e.agent import UserAgent


def test_the_history_names_each_release_with_its_agreement_version_and_only_yours(
    broker, make_rp, person, agent
):
    rp = make_rp(name="Council tax")
    token = rp.redeem(agent.authorize(rp.authorization_url(), email=person))
    rp.userinfo(token["access_token"])
    rp.userinfo(token["access_token"])  # each userinfo answer is a release
    with broker.db() as db:
        mou = db.scalar(select(Mou).filter_by(client_id=rp.client_id))
        account = db.scalar(select(Account).filter_by(email=person))
        assert mou is not None and account is not None
        reference = mou.reference
        ledger = db.scalars(
            select(ReleaseRecord).filter_by(account_id=account.id).order_by(ReleaseRecord.released_at.desc())
        ).all()
        assert len(ledger) >= 2
        expected = [(r.client_id, r.endpoint, r.claims) for r in ledger]

    other_email = f"someone-else-{uuid.uuid4().hex[:10]}@example.org"
    broker.create_account(other_email)
    other = UserAgent(broker)
    try:
        other_rp = make_rp(name="Other people's service")
        other_token = other_rp.redeem(other.authorize(other_rp.authorization_url(), email=other_email))
        other_rp.userinfo(other_token["access_token"])
        other_history = other.http.get(f"{broker.url}/account/sharing-history.json").json()
    finally:
        other.close()

    agent.go(f"{broker.url}/account/services")
    assert 'href="/account/sharing-history"' in agent.last_page
    agent.go(f"{broker.url}/account/sharing-history")
    page = agent.last_page
    assert "Your sharing history" in page and "Council tax" in page
    assert page.count(f"{reference}, version 1") == len(ledger)
    assert "Other people&#39;s service" not in page and "Other people's service" not in page
    assert other_email not in page

    response = agent.http.get(f"{broker.url}/account/sharing-history.json")
    assert response.headers["content-disposition"] == 'attachment; filename="your-sharing-history.json"'
    assert "no-store" in response.headers["cache-control"]
    history = response.json()
    assert history["account"] == {"email": person}
    assert [(r["client_id"], r["endpoint"], r["claims"]) for r in history["releases"]] == expected
    assert all(r["agreement"] == {"reference": reference, "version": 1} for r in history["releases"])
    assert other_rp.client_id not in str(history) and other_email not in str(history)
    # And the other person sees theirs alone.
    assert [r["client_id"] for r in other_history["releases"]] == [other_rp.client_id]
    assert rp.client_id not in str(other_history) and person not in str(other_history)


def test_the_history_needs_a_signed_in_person(broker):
    with httpx.Client(timeout=10) as anonymous:
        for path in ("/account/sharing-history", "/account/sharing-history.json"):
            response = anonymous.get(f"{broker.url}{path}")
            assert response.status_code == 303 and "/account/sign-in" in response.headers["location"]
