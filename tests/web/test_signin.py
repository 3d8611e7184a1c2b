"""The sign-in pages with input they cannot use: an error summary, and no guess, session or message."""

from __future__ import annotations

import pytest

from tests.e2e.agent import PASSWORD
from tests.web.forms import BAD, refused, stored


@pytest.mark.parametrize("bad", sorted(BAD))
def test_sign_in_refuses_an_email_address_no_account_could_have(broker, make_rp, agent, person, bad):
    here = agent.go(make_rp().authorization_url())
    with broker.db() as db:
        before = stored(db)
    response = agent.post(here, {"email": BAD[bad], "password": PASSWORD})
    assert refused(response), response.text[:300]
    with broker.db() as db:
        assert stored(db) == before


def test_sign_in_refuses_an_empty_password_and_a_nul_in_it(broker, make_rp, agent, person):
    here = agent.go(make_rp().authorization_url())
    with broker.db() as db:
        before = stored(db)
    for password in ("", PASSWORD + "\x00"):
        assert refused(agent.post(here, {"email": person, "password": password}))
    with broker.db() as db:
        assert stored(db) == before


@pytest.mark.parametrize("code", ["", "1" * 400, "12\x003456", "١٢٣٤٥٦"])
def test_the_code_page_refuses_what_is_not_the_code(broker, make_rp, agent, person, code):
    here = agent.submit(agent.go(make_rp().authorization_url()), {"email": person, "password": PASSWORD})
    assert here.endswith("/code")
    with broker.db() as db:
        sessions_before = stored(db)[0]
    assert refused(agent.post(here, {"code": code}))
    with broker.db() as db:
        assert stored(db)[0] == sessions_before  # no session started
