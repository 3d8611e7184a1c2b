"""Download your data, and delete your account: services are told, only the audit record stays,
and a sign-in older than 15 minutes must be repeated first."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from broker.store.models import Account, AuditEvent


def test_download_everything_held_about_you(broker, make_rp, person, agent):
    rp = make_rp()
    token = rp.redeem(agent.authorize(rp.authorization_url(), email=person))
    rp.userinfo(token["access_token"])
    response = agent.http.get(f"{broker.url}/account/data.json")
    assert response.headers["content-disposition"] == 'attachment; filename="your-data.json"'
    data = response.json()
    assert data["account"]["email"] == person
    assert [c["client_id"] for c in data["consents"]] == [rp.client_id]
    assert data["releases"][0]["claims"] == ["email"]
    assert any(e["action"] == "sign_in.success" for e in data["activity"])
    assert "password_hash" not in str(data) and "totp_secret" not in str(data)


def test_delete_your_account(clock, make_rp, person, agent, receiver):
    broker = clock
    rp = make_rp(backchannel_logout_uri=receiver.endpoint)
    token = rp.redeem(
        agent.authorize(rp.authorization_url(scope="openid email offline_access"), email=person)
    )
    agent.submit(f"{broker.url}/account/delete", {})
    assert agent.last_status == 400 and "Confirm that you want to delete your account" in agent.last_page

    broker.travel(timedelta(minutes=16))  # the sign-in is too old to delete an account on
    response = agent.post(f"{broker.url}/account/delete", {"confirm": "yes"})
    assert response.status_code == 303 and "/account/sign-in" in response.headers["location"]
    broker.offset[0] = timedelta(0)

    before = len(receiver.tokens)
    agent.submit(f"{broker.url}/account/delete", {"confirm": "yes"})
    assert "Your account has been deleted" in agent.last_page
    assert len(receiver.wait_for(before + 1)) > before  # the service was told
    refresh = rp.token_request(grant_type="refresh_token", refresh_token=token["refresh_token"])
    assert refresh.json()["error"] == "invalid_grant"
    with broker.db() as db:
        assert db.scalar(select(Account).filter_by(email=person)) is None
        deleted = db.scalars(select(AuditEvent).where(AuditEvent.action == "account.deleted")).all()
        assert deleted and person not in str([e.details for e in deleted])
