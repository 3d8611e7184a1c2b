"""Creating an account and resetting a password, with input they cannot use: an error summary, no
message sent, no account made."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from broker.store.models import Account
from tests.e2e.agent import latest_code
from tests.web.forms import BAD, refused, stored


def create_account_page(agent, make_rp) -> str:
    here = agent.go(make_rp().authorization_url())
    return here.replace("/sign-in/", "/create-account/")


@pytest.mark.parametrize("journey", ["/create-account/", "/reset-password/"])
@pytest.mark.parametrize("bad", sorted(BAD))
def test_the_email_step_refuses_unusable_addresses(broker, make_rp, agent, journey, bad):
    here = agent.go(make_rp().authorization_url()).replace("/sign-in/", journey)
    with broker.db() as db:
        before = stored(db)
    assert refused(agent.post(here, {"email": BAD[bad]}))
    with broker.db() as db:
        assert stored(db) == before


@pytest.mark.parametrize("password", ["", "x" * 300, "short"])
def test_the_password_step_refuses_unusable_passwords(broker, make_rp, agent, password):
    address = f"new-{abs(hash(password)) % 10**8}@example.org"
    here = create_account_page(agent, make_rp)
    agent.submit(here, {"email": address})
    step = agent.submit(f"{here}/code", {"code": latest_code(broker, address)})
    assert step == f"{here}/password"
    response = agent.post(step, {"password": password, "confirm": password})
    assert refused(response)
    with broker.db() as db:
        assert db.scalar(select(func.count()).select_from(Account).where(Account.email == address)) == 0
