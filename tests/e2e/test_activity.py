"""Activity history and reporting it, and changing your password after a fresh sign-in."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from broker.store.models import Account, AuditEvent
from tests.e2e.agent import PASSWORD, UserAgent, latest_code

NEW = "velvet otter cabbage lantern"


def test_activity_history_and_reporting_something_unrecognised(broker, make_rp, person, agent, receiver):
    rp = make_rp(backchannel_logout_uri=receiver.endpoint)
    token = rp.redeem(
        agent.authorize(rp.authorization_url(scope="openid email offline_access"), email=person)
    )
    assert rp.userinfo(token["access_token"]).json()["email"] == person
    agent.go(f"{broker.url}/account/activity")
    assert (
        "You signed in" in agent.last_page
        and "You agreed to share information with a service" in agent.last_page
    )
    # The release ledger, in words: which service received what.
    assert re.search(r"[^<>]+ received your email address", agent.last_page)
    before = len(receiver.tokens)
    agent.submit(f"{broker.url}/account/activity/report", {})
    assert "We have signed you out everywhere" in agent.last_page
    assert len(receiver.wait_for(before + 1)) > before
    assert (
        rp.token_request(grant_type="refresh_token", refresh_token=token["refresh_token"]).json()["error"]
        == "invalid_grant"
    )


def test_change_your_password(clock, make_rp, person, agent):
    broker = clock
    rp = make_rp()
    agent.authorize(rp.authorization_url(), email=person)
    agent.submit(f"{broker.url}/account/password", {"current": "wrong", "password": NEW, "confirm": NEW})
    assert agent.last_status == 400 and "Enter your current password" in agent.last_page
    with broker.db() as db:  # a wrong current password is recorded (and counted as at sign-in)
        account = db.scalars(select(Account).where(Account.email == person)).one()
        assert (
            "password.change_failed"
            in db.scalars(select(AuditEvent.action).where(AuditEvent.subject == account.id)).all()
        )
    agent.submit(
        f"{broker.url}/account/password",
        {"current": PASSWORD, "password": "password1", "confirm": "password1"},
    )
    assert agent.last_status == 400 and "There is a problem" in agent.last_page

    broker.travel(timedelta(minutes=16))  # too long since signing in: sign in again first
    response = agent.post(
        f"{broker.url}/account/password", {"current": PASSWORD, "password": NEW, "confirm": NEW}
    )
    assert response.status_code == 303 and "/account/sign-in" in response.headers["location"]
    broker.offset[0] = timedelta(0)

    agent.submit(f"{broker.url}/account/password", {"current": PASSWORD, "password": NEW, "confirm": NEW})
    other = UserAgent(broker)
    here = other.go(rp.authorization_url())
    other.submit(here, {"email": person, "password": PASSWORD})
    assert "Enter the email address and password" in other.last_page  # the old password no longer works
    here = other.submit(here, {"email": person, "password": NEW})
    other.submit(here, {"code": latest_code(broker, person)})
    other.close()
