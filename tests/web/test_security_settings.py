"""The Security page's forms with input they cannot use: an error summary, and no pending change, no
message, nothing recorded."""

from __future__ import annotations

import pytest

from tests.e2e.agent import PASSWORD
from tests.web.forms import BAD, refused, stored

FORMS = [
    ("/account/security/email", "email"),
    ("/account/security/backup/phone", "phone"),
]


@pytest.mark.parametrize(("path", "field"), FORMS)
@pytest.mark.parametrize("bad", sorted(BAD))
def test_a_change_refuses_unusable_input(broker, make_rp, agent, person, path, field, bad):
    agent.authorize(make_rp().authorization_url(), email=person)
    with broker.db() as db:
        before = stored(db)
    assert refused(agent.post(f"{broker.url}{path}", {field: BAD[bad]}))
    with broker.db() as db:
        assert stored(db) == before


@pytest.mark.parametrize("new", ["", "x" * 300, "password"])
def test_a_password_change_refuses_an_unusable_new_password(broker, make_rp, agent, person, new):
    agent.authorize(make_rp().authorization_url(), email=person)
    response = agent.post(
        f"{broker.url}/account/password", {"current": PASSWORD, "password": new, "confirm": new}
    )
    assert refused(response)
    # The password is unchanged: it still signs in.
    other = type(agent)(broker)
    assert other.authorize(make_rp().authorization_url(vtr='["Cl"]'), email=person).params["code"]
    other.close()


@pytest.mark.parametrize("current", ["", "x" * 300, "wrong\x00password"])
def test_a_password_change_refuses_a_wrong_current_password(broker, make_rp, agent, person, current):
    agent.authorize(make_rp().authorization_url(), email=person)
    new = "a completely different passphrase 42"
    response = agent.post(
        f"{broker.url}/account/password", {"current": current, "password": new, "confirm": new}
    )
    assert refused(response)
