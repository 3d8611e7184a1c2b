"""Sharing that ends is told to the service, truthfully: withdrawing consent, or staff ending the agreement,
pushes a ``sharing-ended`` Security Event Token asking the service to delete what it holds (retried from the
outbox); the person's page says whether and when the service acknowledged it, and says plainly when a
service with no security event URI was not told at all."""

from __future__ import annotations

import time
from datetime import timedelta

from joserfc import jwt
from joserfc.jws import JWSRegistry
from sqlalchemy import select

from broker.policy.agreements import Agreements
from broker.policy.endings import AgreementEndings, ended_by_date
from broker.policy.security_events import ACCOUNT_DELETED, AGREEMENT_ENDED, CONSENT_WITHDRAWN, SHARING_ENDED
from broker.policy.service import governing
from broker.store.db import transaction
from broker.store.models import Mou, MouVersion

ES256 = JWSRegistry(algorithms=["ES256"])


def services_page_until(agent, broker, text: str, timeout: float = 20.0) -> str:
    """The person's services page, read again until it says ``text`` (the outbox sends in the background)."""
    deadline = time.monotonic() + timeout
    while True:
        agent.go(f"{broker.url}/account/services")
        if text in agent.last_page or time.monotonic() > deadline:
            return agent.last_page
        time.sleep(0.3)


def sharing_ended(rp, event: str) -> dict:
    decoded = jwt.decode(event, rp.jwks(), registry=ES256)
    assert decoded.header["typ"] == "secevent+jwt"
    return decoded.claims


def test_withdrawing_tells_the_service_and_shows_its_acknowledgement(
    broker, make_rp, person, agent, receiver
):
    rp = make_rp(security_event_uri=receiver.events_endpoint)
    token = rp.redeem(agent.authorize(rp.authorization_url(), email=person))
    before = len(receiver.events)
    agent.submit(f"{broker.url}/account/services/{rp.client_id}/withdraw", {})
    assert "You have withdrawn your agreement." in agent.last_page
    assert "The service has been told" not in agent.last_page

    claims = sharing_ended(rp, receiver.wait_for_events(before + 1)[before])
    assert claims["aud"] == rp.client_id and claims["sub_id"]["sub"] == token["id_claims"]["sub"]
    event = claims["events"][SHARING_ENDED]
    assert event["reason"] == CONSENT_WITHDRAWN and event["requested_action"] == "delete"
    with broker.db() as db:
        mou = db.scalar(select(Mou).filter_by(client_id=rp.client_id))
        assert mou is not None
        assert event["agreement"] == {"reference": mou.reference, "version": 1}

    page = services_page_until(agent, broker, "It acknowledged the request on")
    assert "We asked the service to delete what it holds about you under this agreement." in page
    assert "It acknowledged the request on" in page
    assert "not told automatically" not in page


def test_a_service_that_refuses_at_first_is_told_again(broker, make_rp, person, agent, receiver):
    rp = make_rp(security_event_uri=receiver.events_endpoint)
    rp.redeem(agent.authorize(rp.authorization_url(), email=person))
    before = len(receiver.events)
    receiver.fail_events_next = 1  # the first attempt is answered 503: the outbox tries again
    agent.submit(f"{broker.url}/account/services/{rp.client_id}/withdraw", {})
    page = services_page_until(agent, broker, "It has not acknowledged the request yet", timeout=3)
    assert "It has not acknowledged the request yet" in page
    events = receiver.wait_for_events(before + 1, timeout=30)
    assert len(events) == before + 1 and receiver.fail_events_next == 0
    assert sharing_ended(rp, events[before])["events"][SHARING_ENDED]["reason"] == CONSENT_WITHDRAWN
    assert "It acknowledged the request on" in services_page_until(
        agent, broker, "It acknowledged the request on"
    )


def test_a_service_without_a_push_endpoint_is_said_not_to_be_told(broker, make_rp, person, agent, receiver):
    rp = make_rp()  # no security_event_uri
    rp.redeem(agent.authorize(rp.authorization_url(), email=person))
    before = len(receiver.events)
    agent.submit(f"{broker.url}/account/services/{rp.client_id}/withdraw", {})
    page = agent.last_page
    assert "The service was not told automatically." in page
    assert "To ask it to delete what it holds about you, contact it directly." in page
    assert "We asked the service" not in page and "The service has been told" not in page
    time.sleep(1.5)
    assert len(receiver.events) == before  # nothing was sent


def test_ending_the_agreement_asks_the_service_to_delete(broker, make_rp, person, agent, receiver):
    rp = make_rp(security_event_uri=receiver.events_endpoint)
    token = rp.redeem(agent.authorize(rp.authorization_url(), email=person))
    rp.userinfo(token["access_token"])
    before = len(receiver.events)
    with transaction(broker.db) as db:
        mou = db.scalar(select(Mou).filter_by(client_id=rp.client_id))
        assert mou is not None
        version = db.scalar(select(MouVersion).filter_by(mou_id=mou.id))
        assert version is not None
        reference, number = mou.reference, version.number
        Agreements(db, broker.services.clock).act(
            reference, number, "terminate", "officer", "sharing stopped"
        )

    claims = sharing_ended(rp, receiver.wait_for_events(before + 1)[before])
    assert claims["sub_id"]["sub"] == token["id_claims"]["sub"]
    event = claims["events"][SHARING_ENDED]
    assert event["reason"] == AGREEMENT_ENDED and event["initiating_entity"] == "admin"
    assert event["agreement"] == {"reference": reference, "version": number}
    assert "It acknowledged the request on" in services_page_until(
        agent, broker, "It acknowledged the request on"
    )


def test_deleting_the_account_asks_each_listening_service_to_delete(broker, make_rp, person, agent, receiver):
    rp = make_rp(security_event_uri=receiver.events_endpoint)
    token = rp.redeem(agent.authorize(rp.authorization_url(), email=person))
    before = len(receiver.events)
    agent.submit(f"{broker.url}/account/delete", {"confirm": "yes"})
    assert "Your account has been deleted" in agent.last_page
    assert "Other services were not told automatically" in agent.last_page
    claims = sharing_ended(rp, receiver.wait_for_events(before + 1)[before])
    assert claims["sub_id"]["sub"] == token["id_claims"]["sub"]
    assert claims["events"][SHARING_ENDED]["reason"] == ACCOUNT_DELETED


def test_an_agreement_past_its_end_date_asks_the_service_to_delete_once(
    broker, make_rp, person, agent, receiver
):
    rp = make_rp(security_event_uri=receiver.events_endpoint)
    token = rp.redeem(agent.authorize(rp.authorization_url(), email=person))
    before = len(receiver.events)
    with transaction(broker.db) as db:
        row = governing(db, rp.client_id)
        row.end_date = broker.services.clock().date() - timedelta(days=1)  # nobody acts on the day
        reference, number = db.get(Mou, row.mou_id).reference, row.number
    with broker.db() as db:
        assert AgreementEndings(db, broker.services.clock).tell_services() >= 1
    claims = sharing_ended(rp, receiver.wait_for_events(before + 1)[before])
    assert claims["sub_id"]["sub"] == token["id_claims"]["sub"]
    event = claims["events"][SHARING_ENDED]
    assert event["reason"] == AGREEMENT_ENDED and event["agreement"] == {
        "reference": reference,
        "version": number,
    }
    with broker.db() as db:  # told once: the next run finds nothing new for this version
        assert all(
            mou.client_id != rp.client_id for mou, _ in ended_by_date(db, broker.services.clock().date())
        )
        assert AgreementEndings(db, broker.services.clock).tell_services() == 0
