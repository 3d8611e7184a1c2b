"""The consent page over HTTP: a form the page did not offer is refused with an error summary and
nothing is stored; cancelling tells the service access_denied."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from broker.store.models import Consent
from tests.e2e.agent import latest_code


def _at_consent(broker, rp, agent, person) -> str:
    here = agent.go(rp.authorization_url(scope="openid email phone"))
    here = agent.submit(here, {"email": person, "password": "correct horse battery staple"})
    here = agent.submit(here, {"code": latest_code(broker, person)})
    assert "/consent/" in here
    return here


def _consents(broker, client_id: str) -> list[Consent]:
    with broker.db() as db:
        return list(db.scalars(select(Consent).filter_by(client_id=client_id)))


def test_bad_consent_forms_are_refused_and_nothing_is_stored(broker, make_rp, person, agent):
    rp = make_rp(claims=["email", "phone_number"])
    here = _at_consent(broker, rp, agent, person)
    for form, message in [
        ({}, "Choose whether to agree and continue or to cancel"),
        ({"decision": "maybe"}, "Choose whether to agree and continue or to cancel"),
        ({"decision": "agree\x00"}, "Choose whether to agree and continue or to cancel"),
        ({"decision": "agree", "share": "sub"}, "Choose only from the information listed"),
    ]:
        response = agent.post(here, form)
        assert response.status_code == 400, form
        assert "govuk-error-summary" in response.text and message in response.text
        assert _consents(broker, rp.client_id) == []
    callback = agent.submit(here, {"decision": "agree"})  # the page still works
    assert "code" in parse_qs(urlsplit(callback).query)
    assert [c.claims for c in _consents(broker, rp.client_id)] == [["email", "phone_number"]]


def test_cancelling_tells_the_service_and_stores_no_consent(broker, make_rp, person, agent):
    rp = make_rp(claims=["email", "phone_number"])
    here = _at_consent(broker, rp, agent, person)
    callback = agent.submit(here, {"decision": "cancel"})
    assert parse_qs(urlsplit(callback).query)["error"] == ["access_denied"]
    assert _consents(broker, rp.client_id) == []
