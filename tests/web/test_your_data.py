"""Deleting your account over HTTP: without the confirmation box the page says so (400, error summary)
and nothing changes."""

from __future__ import annotations

from sqlalchemy import select

from broker.store.models import Account, BrowserSession, Grant


def test_deleting_without_confirming_changes_nothing(broker, make_rp, person, agent):
    rp = make_rp(claims=["email"])
    token = rp.redeem(
        agent.authorize(rp.authorization_url(scope="openid email offline_access"), email=person)
    )
    for form in ({}, {"confirm": "no"}, {"confirm": "yes\x00"}, {"confirm": "y" * 5000}):
        response = agent.post(f"{broker.url}/account/delete", form)
        assert response.status_code == 400, form
        assert "govuk-error-summary" in response.text
        assert "Confirm that you want to delete your account" in response.text
    with broker.db() as db:
        account = db.scalars(select(Account).filter_by(email=person)).one()
        assert all(
            s.ended_at is None for s in db.scalars(select(BrowserSession).filter_by(account_id=account.id))
        )
        assert all(g.revoked_at is None for g in db.scalars(select(Grant).filter_by(account_id=account.id)))
    assert (
        rp.token_request(grant_type="refresh_token", refresh_token=token["refresh_token"]).status_code == 200
    )
